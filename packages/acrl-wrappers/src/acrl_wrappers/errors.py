"""Exception and warning classes of acrl.

Every error acrl raises for bad input is one of these classes, and its message names
the problem, the value received and what to do about it.

- :class:`AcrlError` — base class of every acrl exception.
- :class:`ConstraintError` — invalid constraint parameters (negative radius, bad shape).
- :class:`EmptyFeasibleSetError` — the parameters admit no feasible action.
- :class:`StateParameterError` — a state-dependent parameter is invalid in one state
  (a negative radius, ``low(s) > high(s)``, an unreachable total); names the state.
- :class:`InvalidActionError` / :class:`InvalidObservationError` — wrong shape, dtype,
  NaN or inf passed to a constraint or projector.
- :class:`SpecError` — a malformed constraint spec or an unexpected parameter.
- :class:`UnknownNameError` (and :class:`UnknownConstraintError`,
  :class:`UnknownProjectorError`) — a name no plugin registered; suggests close matches.
- :class:`ProjectionError` — a projector could not return a feasible action.
- :class:`SamplingError` — rejection sampling found too few feasible actions.
- :class:`ConstraintViolationError` — an infeasible action was refused.
- :class:`PluginError` (and :class:`DuplicateNameError`) — a plugin failed to load or
  registered something invalid.
- :class:`PluginFaultError` — a constraint raised or returned malformed output while a
  wrapper checked an action (named by plugin; nothing was executed).
- :class:`PluginLoadWarning` — a plugin was skipped; the others still load.
- :class:`NameConflictWarning` — a plugin registered a name another plugin owns; that
  name alone was refused.
"""

from __future__ import annotations

__all__ = [
    "AcrlError",
    "ConstraintError",
    "ConstraintViolationError",
    "DuplicateNameError",
    "EmptyFeasibleSetError",
    "InvalidActionError",
    "InvalidObservationError",
    "NameConflictWarning",
    "PluginError",
    "PluginFaultError",
    "PluginLoadWarning",
    "ProjectionError",
    "SamplingError",
    "SpecError",
    "StateParameterError",
    "UnknownConstraintError",
    "UnknownNameError",
    "UnknownProjectorError",
]


class AcrlError(Exception):
    """Base class of every exception raised by acrl."""


class ConstraintError(AcrlError, ValueError):
    """A constraint was given invalid parameters."""


class EmptyFeasibleSetError(ConstraintError):
    """The constraint's parameters admit no feasible action."""


class StateParameterError(ConstraintError):
    """A state-dependent parameter took an invalid value in a given state.

    Raised by ``violation``, ``contains`` and projections (so by the enforcement wrappers
    before anything is executed) when, for example, a radius read from the observation is
    negative or bounds read from it cross; the message names the parameter, the
    observation entries it read and their values.
    """


class InvalidActionError(AcrlError, ValueError):
    """An action has the wrong shape or dtype, or contains NaN or inf."""


class InvalidObservationError(AcrlError, ValueError):
    """An observation has the wrong shape or dtype, or is too short, NaN or inf."""


class SpecError(AcrlError, ValueError):
    """A constraint spec is malformed or carries parameters the family does not accept."""


class UnknownNameError(AcrlError, LookupError):
    """A name that no built-in or plugin registered."""

    def __str__(self) -> str:  # LookupError would quote the message like a KeyError
        return str(self.args[0]) if self.args else ""


class UnknownConstraintError(UnknownNameError):
    """A constraint name that no built-in or plugin registered."""


class UnknownProjectorError(UnknownNameError):
    """A projector name that no built-in or plugin registered."""


class ProjectionError(AcrlError, RuntimeError):
    """A projector could not produce a feasible action.

    Attributes:
        status: the solver's status (for example ``"primal infeasible"``) or a short
            description of what failed.
    """

    def __init__(self, message: str, status: str = "failed") -> None:
        super().__init__(message)
        self.status = status


class SamplingError(AcrlError, RuntimeError):
    """Rejection sampling accepted too few actions (the feasible set is tiny or empty)."""


class ConstraintViolationError(AcrlError, RuntimeError):
    """An infeasible action was refused (deployment mode of the enforcement wrappers)."""


class PluginError(AcrlError):
    """A plugin failed to import or registered something invalid."""


class DuplicateNameError(PluginError):
    """Two plugins registered the same name."""


class PluginFaultError(AcrlError):
    """A constraint, projector or sampler raised or returned malformed output at a wrapper.

    The message names the object, its class and the plugin that registered it; nothing
    was executed in the step that raised it.
    """


class PluginLoadWarning(UserWarning):
    """A plugin failed to load and was skipped; the other plugins still load."""


class NameConflictWarning(PluginLoadWarning):
    """A plugin registered a name another plugin owns; that name alone was refused."""
