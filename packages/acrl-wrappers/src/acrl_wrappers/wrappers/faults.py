"""Fail safe at the wrapper boundary: plugin objects are checked, never trusted.

A constraint, projector or sampler comes from a plugin and may raise, or return the
wrong shape, dtype, NaN or an infeasible action. The enforcement wrappers call them only
through these functions, which turn every such fault into the documented answer:

- the constraint cannot evaluate an action (raises, returns NaN or a negative
  violation): :class:`~acrl_wrappers.errors.PluginFaultError`, nothing executed;
- the projector raises or returns a malformed or infeasible action: a
  :class:`~acrl_wrappers.errors.ProjectionError` whose ``status`` names the fault, which
  the wrappers answer with the constraint's safe action (checked too);
- the safe action (``Constraint.safe_action``, a sampler) raises or is infeasible:
  :class:`~acrl_wrappers.errors.ProjectionError`, nothing executed.

Every message names the object, its class and the plugin that registered it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import (
    InvalidActionError,
    InvalidObservationError,
    PluginFaultError,
    ProjectionError,
    StateParameterError,
)
from acrl_wrappers.plugins import default_host
from acrl_wrappers.projection.base import Projector

__all__ = [
    "checked_projection",
    "checked_safe_action",
    "checked_violation",
    "checked_violations",
    "describe_object",
]


def describe_object(kind: str, name: str, obj: object) -> str:
    """``kind 'name' (module.Class, from plugin 'p' (dist version))`` for messages.

    Example:
        >>> import acrl_wrappers as acrl
        >>> disc = acrl.make_constraint("l2", bound=1.0, dim=2)
        >>> print(describe_object("constraint", "ball", disc))  # doctest: +ELLIPSIS
        constraint 'ball' (acrl_wrappers...BallConstraint, from plugin 'acrl.constraints' (...))
    """
    cls = type(obj)
    where = f"{cls.__module__}.{cls.__qualname__}"
    host = default_host()
    try:
        entry = host.registry(kind).owner(name)
    except Exception:  # a broken host must not hide the fault being reported
        entry = None
    origin = f", from {host.describe_plugin(entry.plugin)}" if entry is not None else ""
    return f"{kind} {name!r} ({where}{origin})"


def _constraint_name(c: Constraint) -> str:
    return str(getattr(c, "family", "") or type(c).__name__)


def checked_violation(c: Constraint, values: list[float], obs: FloatArray | None) -> float:
    """The violation of one finite action (a list of floats), or a named fault.

    Raises:
        InvalidObservationError: the observation is non-finite (the env's fault, not
            the constraint's).
        StateParameterError: a state-dependent parameter is invalid in this state (a
            negative radius, crossed bounds): bad input, named, not a plugin fault.
        PluginFaultError: the constraint raised, or returned something other than a
            finite number >= 0.
    """
    try:
        violation = c._violation_values(values, obs)
    except (InvalidObservationError, StateParameterError):
        raise
    except Exception as exc:
        if obs is not None and not np.isfinite(obs).all():
            raise InvalidObservationError(f"the observation contains NaN or inf: {obs}") from exc
        raise PluginFaultError(
            f"{describe_object('constraint', _constraint_name(c), c)} raised "
            f"{type(exc).__name__}: {exc} while checking action {values}; the step was not "
            f"executed. {_constraint_hint(c, exc)}"
        ) from exc
    if not (isinstance(violation, float | int | np.floating) and violation >= 0.0):
        raise PluginFaultError(
            f"{describe_object('constraint', _constraint_name(c), c)} returned violation "
            f"{violation!r} for action {values} (it must be a finite number >= 0); the step "
            "was not executed"
        )
    return float(violation)


def checked_violations(
    c: Constraint, actions: FloatArray, obs: FloatArray | None, *, trusted: bool = False
) -> FloatArray:
    """The ``(N,)`` violations of finite float64 ``(N, dim)`` actions, or a named fault.

    The batched counterpart of :func:`checked_violation` (one call for all sub-envs of a
    vector env), with the same answers. ``trusted`` (for families using the base class's
    batched violation, never negative) leaves the values to the caller, who checks that
    their maximum is finite (one reduction instead of two).

    Raises:
        InvalidObservationError: a non-finite observation.
        StateParameterError: a state-dependent parameter is invalid in some state.
        PluginFaultError: the constraint raised, or returned anything but ``N`` finite
            numbers >= 0.
    """
    try:
        violation = c._violation(actions, obs)
        if type(violation) is not np.ndarray or violation.dtype != np.float64:
            violation = np.asarray(violation, dtype=np.float64)
    except (InvalidObservationError, StateParameterError):
        raise
    except Exception as exc:
        if obs is not None and not np.isfinite(obs).all():
            raise InvalidObservationError("an observation contains NaN or inf") from exc
        raise PluginFaultError(
            f"{describe_object('constraint', _constraint_name(c), c)} raised "
            f"{type(exc).__name__}: {exc} while checking {actions.shape[0]} actions; the step "
            f"was not executed. {_constraint_hint(c, exc)}"
        ) from exc
    if violation.shape == (actions.shape[0],) and (trusted or np.all(violation >= 0.0)):
        return violation  # np.all(... >= 0) is False for NaN
    if obs is not None and not np.isfinite(obs).all():
        raise InvalidObservationError("an observation contains NaN or inf")
    raise PluginFaultError(
        f"{describe_object('constraint', _constraint_name(c), c)} returned violations of "
        f"shape {violation.shape} with minimum {np.nanmin(violation) if violation.size else None} "
        f"for {actions.shape[0]} actions (it must be one finite number >= 0 per action); the "
        "step was not executed"
    )


def _constraint_hint(c: Constraint, exc: Exception) -> str:
    if c.obs_dim == 0 and isinstance(exc, TypeError | IndexError):
        return (
            "If the family reads the observation, set self.obs_dim (highest index read + 1) "
            "in __init__, or the wrapper passes obs=None (acrl_wrappers.testing.check_constraint "
            "reports such mistakes)."
        )
    return "acrl_wrappers.testing.check_constraint reports such mistakes."


def _verified(c: Constraint, x: Any, obs: FloatArray | None) -> FloatArray:
    """``x`` as a feasible float64 ``(dim,)`` action, or :class:`ProjectionError` saying why not.

    The message reads as a predicate ("returned ..."); callers put its subject first.
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ProjectionError(f"returned {x!r}, not an action", status="malformed") from exc
    if arr.shape != (c.dim,):
        raise ProjectionError(
            f"returned an action of shape {arr.shape}, not ({c.dim},)", status="malformed"
        )
    if not np.isfinite(arr).all():
        raise ProjectionError(f"returned a non-finite action {arr.tolist()}", status="nan")
    violation = checked_violation(c, arr.tolist(), obs)
    if violation > c.tol:
        raise ProjectionError(
            f"returned an infeasible action {arr.tolist()} (violation {violation:.3g}, "
            f"tol {c.tol:g})",
            status="infeasible",
        )
    return arr


def _projector_name(projector: Any) -> str:
    return describe_object("projector", getattr(projector, "name", ""), projector)


def checked_projection(
    projector: Any, c: Constraint, action: FloatArray, obs: FloatArray | None, violation: float
) -> tuple[FloatArray, float]:
    """The projection of an infeasible action, verified feasible, and its distance.

    ``projector`` is a :class:`Projector` or a zero-argument callable building one (so a
    projector whose construction raises is handled like one whose solve raises). The
    projector is only described (its plugin looked up) when something went wrong.

    Raises:
        ProjectionError: the projector failed, raised, or returned a malformed or
            infeasible action (``status`` says which; the message names the projector).
    """
    built = projector if isinstance(projector, Projector) else None
    try:
        if built is None:
            built = projector()
        x, _ = built.project_checked(action, obs, violation)
    except (InvalidActionError, InvalidObservationError, PluginFaultError):
        raise
    except ProjectionError as exc:
        if built is None:  # no projector could be built: the message already says why
            raise
        raise ProjectionError(f"{_projector_name(built)}: {exc}", status=exc.status) from exc
    except Exception as exc:
        name = "projector" if built is None else _projector_name(built)
        raise ProjectionError(
            f"{name} raised {type(exc).__name__}: {exc}", status=f"error: {type(exc).__name__}"
        ) from exc
    try:
        x = _verified(c, x, obs)
    except ProjectionError as exc:
        raise ProjectionError(f"{_projector_name(built)} {exc}", status=exc.status) from exc
    return x, math.dist(x.tolist(), action.tolist())


def checked_safe_action(c: Constraint, obs: FloatArray | None) -> FloatArray:
    """The constraint's safe action, verified feasible.

    Raises:
        ProjectionError: ``safe_action`` raised (no safe action found, or a fault), or
            returned a malformed or infeasible action.
    """

    def what() -> str:
        return f"safe_action() of {describe_object('constraint', _constraint_name(c), c)}"

    try:
        x = c.safe_action(obs)
    except Exception as exc:
        raise ProjectionError(
            f"{what()} raised {type(exc).__name__}: {exc}", status="no-safe-action"
        ) from exc
    try:
        return _verified(c, x, obs)
    except ProjectionError as exc:
        raise ProjectionError(f"{what()} {exc}", status=exc.status) from exc
