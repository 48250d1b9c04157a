"""The batched enforcement step shared by the Gymnasium and SB3 vector wrappers.

:class:`BatchEnforcer` checks the actions of all sub-envs with one ``violation`` call and
projects the infeasible ones with one batched projection call, then says what each
sub-env executes and what its ``info["constraint"]`` holds. The vector wrappers only
translate between it and their API (arrays with masks for Gymnasium, a list of dicts for
SB3). Plugin objects are checked exactly as by the single-env wrappers
(:mod:`acrl_wrappers.wrappers.faults`): a failed or faulty batched projection falls back
row by row to the single-env path (projection, then the safe action), and a row with no
feasible answer stops the step before anything is executed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, raise_non_finite
from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import (
    ConstraintViolationError,
    InvalidActionError,
    InvalidObservationError,
    PluginFaultError,
    ProjectionError,
)
from acrl_wrappers.factories import make_projector
from acrl_wrappers.projection.base import Projector
from acrl_wrappers.wrappers.base import Enforcement
from acrl_wrappers.wrappers.faults import (
    checked_projection,
    checked_safe_action,
    checked_violation,
    checked_violations,
)

__all__ = ["BatchEnforcer", "StepPlan"]

FallbackFn = Callable[[FloatArray, "FloatArray | None"], Any]
MODES = ("project", "reject", "monitor")


@dataclass
class StepPlan:
    """What one vector step executes and reports, per sub-env (arrays of length ``N``).

    Attributes:
        actions: what the vector env executes (the proposed array itself when every
            row is accepted).
        violation: violation of each proposed action.
        feasible: whether it was feasible.
        enforcement: ``"none"``, ``"projected"`` or ``"fallback"`` (object array).
        qp_solves: projection problems solved per row.
        distance: distance between executed and proposed action.
        errors: ``row -> (status, detail)`` for rows whose projection failed and that
            execute the safe action.
        active: rows actually stepped (``False``: the vector env resets the row and
            ignores its action, Gymnasium's next-step autoreset).
    """

    actions: Any
    violation: FloatArray
    feasible: np.ndarray
    enforcement: np.ndarray
    qp_solves: np.ndarray
    distance: FloatArray
    errors: dict[int, tuple[str, str]] = field(default_factory=dict)
    active: np.ndarray | None = None
    accepted: bool = False
    """Every row was feasible and is executed as proposed (the fast path)."""

    @property
    def cost(self) -> FloatArray:
        """``info["cost"]``: 1.0 where the proposed action was infeasible."""
        return self.distance.copy() if self.accepted else (~self.feasible).astype(np.float64)


class BatchEnforcer:
    """One batched check (and projection) per vector step.

    Args:
        constraint: the constraint (already built).
        num_envs: number of sub-envs.
        mode: ``"project"``, ``"reject"`` (never executes an infeasible action; answers
            with ``fallback``) or ``"monitor"`` (executes everything, measures).
        fallback: for ``"reject"``: ``"project"``, ``"safe"`` or ``fallback(action, obs)``.
        on_reject: for ``"reject"``: ``"fallback"`` or ``"raise"``.
        measure_distance: for ``"monitor"``: project infeasible rows to report distances.
        projector: a projector name to force, or ``None`` for the best one.

    Example:
        >>> import acrl_wrappers as acrl
        >>> enf = BatchEnforcer(acrl.make_constraint("box", dim=1), 2, mode="project")
        >>> plan = enf.plan(np.array([[2.0], [0.5]]))
        >>> plan.actions.tolist(), plan.enforcement.tolist(), plan.cost.tolist()
        ([[1.0], [0.5]], ['projected', 'none'], [1.0, 0.0])
    """

    def __init__(
        self,
        constraint: Constraint,
        num_envs: int,
        *,
        mode: str,
        fallback: str | FallbackFn = "project",
        on_reject: str = "fallback",
        measure_distance: bool = True,
        projector: str | None = None,
    ) -> None:
        self.constraint = constraint
        self.num_envs = num_envs
        self.mode = mode
        self.fallback = fallback
        self.on_reject = on_reject
        self.measure_distance = measure_distance
        self._projector_name = projector
        self._projector: Projector | None = None
        self.obs: FloatArray | None = None  # (N, k) float64 observations the constraint reads
        self._none = np.full(num_envs, Enforcement.NONE, dtype=object)
        self._zeros = np.zeros(num_envs)
        self._zero_solves = np.zeros(num_envs, dtype=np.int64)
        self._true = np.ones(num_envs, dtype=bool)
        # the base class's batched violation is never negative: only an override is checked
        self._trusted = type(constraint)._violation is Constraint._violation

    @property
    def projector(self) -> Projector:
        """The projector (built on first use)."""
        if self._projector is None:
            self._projector = make_projector(self.constraint, self._projector_name)
        return self._projector

    def observe(self, obs: Any) -> None:
        """Remember the ``(N, k)`` observations the next actions are checked in."""
        if self.constraint.obs_dim:
            arr = np.asarray(obs)
            self.obs = arr if arr.dtype == np.float64 else arr.astype(np.float64)

    # ------------------------------------------------------------------ the step
    def plan(self, actions: Any, active: np.ndarray | None = None) -> StepPlan:
        """Check every row, enforce the infeasible ones, and say what to execute.

        Args:
            actions: ``(N, dim)`` proposed actions.
            active: rows the vector env will step (``None``: all).

        Raises:
            InvalidActionError: wrong shape or dtype, NaN or inf (nothing is executed).
            PluginFaultError, StateParameterError, InvalidObservationError: as the
                single-env wrappers (nothing is executed).
            ConstraintViolationError: ``on_reject="raise"`` and a row is infeasible.
            ProjectionError: a row has neither a projection nor a safe action.
        """
        arr = self._validated(actions)
        a64 = arr if arr.dtype == np.float64 else arr.astype(np.float64)
        c = self.constraint
        violation = checked_violations(c, a64, self.obs, trusted=self._trusted)
        worst = violation.max()
        if worst <= c.tol:  # the accepted path: every row feasible (False for NaN)
            # shared constant arrays: the vector wrappers copy what they put in info
            return StepPlan(
                actions,
                violation,
                self._true,
                self._none,
                self._zero_solves,
                self._zeros,
                active=active,
                accepted=True,
            )
        if not math.isfinite(worst):  # NaN or inf: name the culprit, execute nothing
            self._raise_non_finite(arr, a64)
        infeasible = violation > c.tol
        if active is not None:
            infeasible &= active
        plan = StepPlan(
            actions,
            violation,
            ~infeasible,
            self._none.copy(),
            self._zero_solves.copy(),
            self._zeros.copy(),
            active=active,
        )
        if not infeasible.any():  # the infeasible rows are being reset: nothing to enforce
            return plan
        rows = np.flatnonzero(infeasible)
        if self.mode == "monitor":
            self._measure(plan, a64, rows)
        elif self.mode == "reject" and self.on_reject == "raise":
            raise ConstraintViolationError(
                f"sub-envs {rows.tolist()} proposed infeasible actions (violations "
                f"{np.round(violation[rows], 6).tolist()}, tol {self.constraint.tol:g}); "
                "nothing was executed"
            )
        else:
            self._enforce(plan, a64, rows)
        return plan

    def _validated(self, actions: Any) -> np.ndarray:
        """The actions as an array of the right shape (finite, unless checked later)."""
        arr = np.asarray(actions)
        shape = (self.num_envs, self.constraint.dim)
        if arr.shape != shape or arr.dtype.kind not in "fiu":
            raise InvalidActionError(
                f"expected actions of shape {shape} (one row per sub-env), got shape "
                f"{arr.shape} and dtype {arr.dtype}"
            )
        # the base class's violation turns NaN or inf into a non-finite maximum, which
        # plan() diagnoses; an override might not, so its input is checked here
        if not self._trusted and not np.isfinite(arr).all():
            self._raise_non_finite(arr, arr)
        return arr

    def _raise_non_finite(self, arr: np.ndarray, a64: FloatArray) -> None:
        """Raise the error naming the non-finite sub-env actions, or the observation."""
        bad = np.flatnonzero(~np.isfinite(arr).all(axis=1)).tolist()
        if bad:
            raise InvalidActionError(
                f"the actions of sub-envs {bad} contain NaN or inf; the policy produced a "
                "non-finite output (nothing was executed)"
            )
        checked_violations(self.constraint, a64, self.obs)  # names a bad observation
        raise_non_finite(a64, self.obs)

    def _rows_obs(self, rows: np.ndarray) -> FloatArray | None:
        return None if self.obs is None else self.obs[rows]

    def _measure(self, plan: StepPlan, a64: FloatArray, rows: np.ndarray) -> None:
        if not self.measure_distance:
            return
        try:
            _, dist = self._project_batch(a64[rows], rows, plan.violation[rows])
            plan.distance[rows], plan.qp_solves[rows] = dist, 1
        except ProjectionError:
            plan.distance[rows] = np.nan

    def _enforce(self, plan: StepPlan, a64: FloatArray, rows: np.ndarray) -> None:
        """Replace the infeasible rows by their projections (or the reject fallback)."""
        label = Enforcement.PROJECTED if self.mode == "project" else Enforcement.FALLBACK
        out = a64.copy()
        if self.mode == "reject" and self.fallback != "project":
            x = np.stack([self._fallback_row(a64[i], int(i)) for i in rows])
            plan.qp_solves[rows] = 0
        else:
            try:
                x, _ = self._project_batch(a64[rows], rows, plan.violation[rows])
            except (ProjectionError, PluginFaultError, InvalidObservationError):
                x = np.stack([self._project_row(plan, a64[i], int(i), label) for i in rows])
            plan.qp_solves[rows] = 1
        out[rows] = x
        plan.actions = out
        plan.enforcement[rows] = label
        for i in plan.errors:
            plan.enforcement[i] = Enforcement.FALLBACK
        plan.distance[rows] = np.sqrt(((x - a64[rows]) ** 2).sum(axis=1))

    def _project_batch(
        self, actions: FloatArray, rows: np.ndarray, violation: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """One batched projection call, verified; any fault becomes a ProjectionError."""
        obs = self._rows_obs(rows)
        projector = self.projector
        try:
            x, dist = projector.project_batch_checked(actions, obs, violation)
        except ProjectionError:
            raise
        except Exception as exc:
            raise ProjectionError(f"batched projection raised {type(exc).__name__}: {exc}") from exc
        if type(projector).project_batch_checked is not Projector.project_batch_checked:
            # an override may skip the base class's check of every result: check here
            x = np.asarray(x, dtype=np.float64)
            if x.shape != actions.shape:
                raise ProjectionError("batched projection returned a malformed array", "malformed")
            after = checked_violations(self.constraint, x, obs)
            if not np.all(after <= self.constraint.tol):
                raise ProjectionError(
                    "batched projection returned infeasible actions", "infeasible"
                )
        return x, dist

    def _project_row(self, plan: StepPlan, action: FloatArray, i: int, label: str) -> FloatArray:
        """The single-env path for one row: projection, else the safe action."""
        obs = None if self.obs is None else self.obs[i]
        violation = float(plan.violation[i])
        try:
            x, _ = checked_projection(
                lambda: self.projector, self.constraint, action, obs, violation
            )
            return x
        except ProjectionError as exc:
            try:
                safe = checked_safe_action(self.constraint, obs)
            except ProjectionError as no_safe:
                raise ProjectionError(
                    f"sub-env {i}: projection failed ({exc}) and no safe action was found "
                    f"({no_safe}); the step was not executed",
                    status=exc.status,
                ) from no_safe
            plan.errors[i] = (exc.status, str(exc))
            return safe

    def _fallback_row(self, action: FloatArray, i: int) -> FloatArray:
        """``RejectAction``'s ``"safe"`` or callable fallback for one row, checked."""
        obs = None if self.obs is None else self.obs[i]
        if self.fallback == "safe":
            return checked_safe_action(self.constraint, obs)
        assert callable(self.fallback)
        x = np.asarray(self.fallback(action, obs), dtype=np.float64)
        if x.shape != (self.constraint.dim,) or not np.isfinite(x).all():
            raise ConstraintViolationError(
                f"the fallback callable returned {x.tolist()} for sub-env {i}, not a finite "
                f"action of shape ({self.constraint.dim},); nothing was executed"
            )
        if checked_violation(self.constraint, x.tolist(), obs) > self.constraint.tol:
            raise ConstraintViolationError(
                f"the fallback callable returned an infeasible action {x.tolist()} for sub-env "
                f"{i}; nothing was executed"
            )
        return x
