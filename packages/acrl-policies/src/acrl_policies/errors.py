"""Exception and warning classes of acrl-policies.

Each derives from :class:`acrl_wrappers.errors.AcrlError`, so ``except AcrlError``
catches every acrl failure; each message names the problem and the fix.

- :class:`PolicyError` — base class of acrl-policies' errors.
- :class:`FlowError` — a flow, its configuration or its checkpoint is invalid.
- :class:`FlowCheckpointError` — a flow checkpoint is corrupt or was made for another
  constraint, action dimension or condition.
- :class:`FlowNumericalError` — a flow produced NaN or inf (names the layer).
- :class:`FlowAccuracyWarning` — flow training ended below a requested accuracy.
- :class:`MissingCostError` — a cost-aware algorithm got an env without ``info["cost"]``.
- :class:`InvalidCostLimitError` — a cost limit that is not a finite positive number.
- :class:`InvalidSampleCountError` — too few actions sampled per state (CVPO's K < 2).
- :class:`PreferenceError` — a preference vector that is not on the simplex (ARAM).
- :class:`AcceptanceRejectionError` — bad acceptance-rejection settings (``M < 1``) or model.
- :class:`MissingConstraintError` — an algorithm needs the env's constraint and found none.
- :class:`NoTorchViolationError` — a constraint family has no torch violation (no gradient).
- :class:`NoDifferentiablePathError` — a constraint has no differentiable projection or
  linear-minimisation oracle for the method asked for (names the alternatives).
"""

from __future__ import annotations

from acrl_wrappers.errors import AcrlError

__all__ = [
    "AcceptanceRejectionError",
    "FlowAccuracyWarning",
    "FlowCheckpointError",
    "FlowError",
    "FlowNumericalError",
    "InvalidCostLimitError",
    "InvalidSampleCountError",
    "MissingConstraintError",
    "MissingCostError",
    "NoDifferentiablePathError",
    "NoTorchViolationError",
    "PolicyError",
    "PreferenceError",
]


class PolicyError(AcrlError, ValueError):
    """Base class of the errors raised by acrl-policies for bad input."""


class FlowError(PolicyError):
    """A normalizing flow, its settings or its use is invalid."""


class FlowCheckpointError(FlowError):
    """A flow checkpoint is corrupt, or does not match the constraint it is used with."""


class FlowNumericalError(FlowError, FloatingPointError):
    """A flow produced NaN or inf; the message names the first layer that did."""


class FlowAccuracyWarning(UserWarning):
    """Flow training finished below the requested accuracy (the flow is still returned)."""


class MissingCostError(PolicyError, KeyError):
    """The env's step ``info`` has no ``"cost"`` (or a non-finite one) for a cost-aware algorithm.

    The message names the tasks and wrappers that provide the cost.
    """

    def __str__(self) -> str:  # KeyError would print the message quoted
        return str(self.args[0]) if self.args else ""


class InvalidCostLimitError(PolicyError):
    """A cost limit (or a related setting) is not a finite positive number."""


class InvalidSampleCountError(PolicyError):
    """Too few actions sampled per state for a sample-based policy update (CVPO's K < 2).

    The message names the parameter and a working value.
    """


class PreferenceError(PolicyError):
    """A preference over the objectives is not a finite vector on the simplex."""


class AcceptanceRejectionError(PolicyError):
    """Acceptance-rejection settings or the model are invalid.

    Raised for ``max_proposals < 1`` and for a model with no continuous action
    distribution to draw proposals from.
    """


class MissingConstraintError(PolicyError):
    """An algorithm needs the env's action constraint and found no acrl wrapper or spec.

    The message says how to attach one (``gym.make("ACRL/...", enforce=...)`` or
    ``acrl.wrap``) or pass it explicitly.
    """


class NoTorchViolationError(PolicyError):
    """A constraint family has no torch violation, so no gradient of the constraint.

    Raised where a method needs one (a "+" penalty, a differentiable projection); the
    message names ``register_torch_rows`` and the methods that need no gradient.
    """


class NoDifferentiablePathError(PolicyError):
    """A constraint has no differentiable projection (or no linear-minimisation oracle).

    Raised when a method is built, never at the first gradient step: non-convex sets,
    families without a closed form, a QP form or torch rows. The message names the
    alternatives (DPre / DPro, which need only a projection, FlowPG, ARAM).
    """
