"""The :class:`Projector` interface and :class:`ProjectionInfo`."""

from __future__ import annotations

import abc
import math
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from acrl_wrappers._arrays import (
    FloatArray,
    as_action_batch,
    as_obs_batch,
    as_single_action,
    as_single_obs,
    raise_non_finite,
)
from acrl_wrappers.errors import InvalidActionError, InvalidObservationError, ProjectionError

if TYPE_CHECKING:
    from acrl_wrappers.constraints.base import Constraint

__all__ = ["ProjectionInfo", "Projector"]


class ProjectionInfo(NamedTuple):
    """What one :meth:`Projector.project` call did.

    Attributes:
        projected: whether the action was moved (``False`` when it was already feasible).
        distance: Euclidean distance between the returned and the given action.
        solves: projection problems solved by this call (0 or 1).
        violation: violation of the given action.
        method: name of the projector that answered.
        status: solver status (``"feasible"`` when nothing had to be solved).
    """

    projected: bool
    distance: float
    solves: int
    violation: float
    method: str
    status: str


class Projector(abc.ABC):
    """Euclidean projection onto a constraint: the nearest feasible action.

    Subclasses implement :meth:`_project` for an infeasible action and declare which
    constraints they handle (:meth:`supports`) and how much they are preferred
    (:attr:`priority`; :func:`acrl_wrappers.make_projector` takes the highest that
    supports the constraint). The base class validates input, answers feasible actions
    without solving, checks every result against the constraint and counts solves.

    A projector never returns an infeasible action: if its method fails or lands
    outside ``tol``, :meth:`project` raises :class:`~acrl_wrappers.errors.ProjectionError`
    with the solver status.

    Attributes:
        constraint: the constraint projected onto.
        calls: number of :meth:`project` calls.
        solves: number of projection problems solved (infeasible inputs).
        failures: number of calls that raised :class:`ProjectionError`.

    Example:
        >>> import acrl_wrappers as acrl
        >>> proj = acrl.make_projector(acrl.make_constraint("ball", bound=0.25, dim=2))
        >>> action, info = proj.project([0.6, 0.8])
        >>> action.round(3).tolist(), info.projected, round(info.distance, 3), proj.solves
        ([0.3, 0.4], True, 0.5, 1)
    """

    name: ClassVar[str] = ""
    """Registry name of the projector."""
    priority: ClassVar[int] = 0
    """Preference when several projectors support a constraint (higher wins)."""

    def __init__(self, constraint: Constraint) -> None:
        if not self.supports(constraint):
            raise ProjectionError(
                f"projector {self.name!r} cannot handle {constraint!r}", status="unsupported"
            )
        self.constraint = constraint
        self.calls = 0
        self.solves = 0
        self.failures = 0

    @classmethod
    @abc.abstractmethod
    def supports(cls, constraint: Constraint) -> bool:
        """Whether this projector can project onto ``constraint``."""

    @abc.abstractmethod
    def _project(self, action: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Project one infeasible float64 ``(dim,)`` action; ``obs`` is ``(k,)`` or ``None``.

        Must not modify ``action``.

        Raises:
            ProjectionError: when no feasible point was found.
        """

    def _status(self) -> str:
        """Status of the last solve (solver projectors override this)."""
        return "solved"

    def project(
        self, action: ArrayLike, obs: ArrayLike | None = None
    ) -> tuple[FloatArray, ProjectionInfo]:
        """Return the nearest feasible action to ``action`` and what it took.

        Args:
            action: one action ``(dim,)``.
            obs: the observation ``(k,)`` (ignored when the constraint is state-independent).

        Returns:
            ``(feasible_action, info)``; the action is a new float64 array.

        Raises:
            InvalidActionError, InvalidObservationError: on bad input.
            ProjectionError: the projection failed; no action is returned.
        """
        c = self.constraint
        arr = np.asarray(action)
        if arr.ndim != 1:
            raise InvalidActionError(
                f"project() takes one action of shape ({c.dim},); use project_batch() "
                f"for shape {arr.shape}"
            )
        a = as_single_action(arr, c.dim)
        obs_row = as_single_obs(obs, c.obs_dim)
        return self.project_checked(a, obs_row, c._violation_single(a, obs_row))

    def project_checked(
        self, action: FloatArray, obs: FloatArray | None, violation: float
    ) -> tuple[FloatArray, ProjectionInfo]:
        """:meth:`project` for input already checked by the constraint (no re-validation).

        For callers that have just computed ``violation = constraint.violation(action,
        obs)`` on a float64 ``(dim,)`` action and ``(k,)`` observation (``None`` when
        state-independent), so the constraint is evaluated once per action.
        """
        c = self.constraint
        self.calls += 1
        if violation <= c.tol:
            return action.copy(), ProjectionInfo(False, 0.0, 0, violation, self.name, "feasible")
        self.solves += 1
        try:
            x = self._project(action, obs)
            values = x.tolist()
            if not self._result_ok(values, obs):
                raise ProjectionError(
                    f"{self.name} projection ended {self._after(values, obs):.3g} outside the "
                    f"set (tol {c.tol:g}); the action was not used",
                    status="inaccurate",
                )
        except ProjectionError:
            self.failures += 1
            raise
        distance = math.dist(values, action.tolist())
        return x, ProjectionInfo(True, distance, 1, violation, self.name, self._status())

    def _result_ok(self, values: list[float], obs: FloatArray | None) -> bool:
        """Whether a projection's result is within ``tol`` (``False`` for NaN or inf)."""
        try:
            return self.constraint._accepts_values(values, obs)
        except (InvalidActionError, InvalidObservationError):
            return False

    def _after(self, values: list[float], obs: FloatArray | None) -> float:
        """The violation of a rejected result, for the message (NaN if it has none)."""
        try:
            return self.constraint._violation_values(values, obs)
        except (InvalidActionError, InvalidObservationError):
            return math.nan

    def project_batch(
        self, actions: ArrayLike, obs: ArrayLike | None = None
    ) -> tuple[FloatArray, FloatArray]:
        """Project each row of ``(N, dim)`` actions (with one or ``N`` observations).

        One batched ``violation`` call finds the infeasible rows, which are projected
        together (in one numpy pass where the family has a batched closed form).

        Returns:
            ``(feasible_actions, distances)``, float64 ``(N, dim)`` and ``(N,)``.

        Raises:
            ProjectionError: a row could not be projected (nothing is returned).

        Example:
            >>> import acrl_wrappers as acrl
            >>> proj = acrl.make_projector(acrl.make_constraint("box", dim=2))
            >>> x, d = proj.project_batch([[2.0, 0.0], [0.5, 0.5]])
            >>> x.tolist(), d.tolist()
            ([[1.0, 0.0], [0.5, 0.5]], [1.0, 0.0])
        """
        a, _ = as_action_batch(actions, self.constraint.dim)
        o = as_obs_batch(obs, self.constraint.obs_dim, a.shape[0])
        violation = self.constraint._violation(a, o)
        if not math.isfinite(violation.max(initial=0.0)):  # NaN and inf reach the maximum
            raise_non_finite(a, o)
        return self.project_batch_checked(a, o, violation)

    def project_batch_checked(
        self, actions: FloatArray, obs: FloatArray | None, violation: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        """:meth:`project_batch` for input already checked by the constraint.

        Args:
            actions: float64 ``(N, dim)`` actions (not modified).
            obs: float64 ``(N, k)`` or ``(1, k)`` observations, or ``None``.
            violation: their ``(N,)`` violations (one batched ``violation`` call).

        Returns:
            ``(feasible_actions, distances)``: rows within ``tol`` unchanged, the others
            projected and each checked against the constraint.

        Raises:
            ProjectionError: a projection failed or landed outside ``tol`` (the message
                names the first such row); callers may then fall back row by row.
        """
        c = self.constraint
        n = actions.shape[0]
        rows = np.flatnonzero(violation > c.tol)
        self.calls += n
        if not rows.size:
            return actions.copy(), np.zeros(n)
        self.solves += rows.size
        every = rows.size == n  # all infeasible: no indexing needed
        given = actions if every else actions[rows]
        sub = None if obs is None else (obs if every or obs.shape[0] == 1 else obs[rows])
        try:
            x = np.asarray(self._project_rows(given, sub), dtype=np.float64)
            well_formed = x.shape == (rows.size, c.dim)
            if not (well_formed and c._accepts(x, sub)):  # False for NaN
                worst = f"{np.nanmax(c._violation(x, sub)):.3g}" if well_formed else "malformed"
                raise ProjectionError(
                    f"{self.name} batched projection ended {worst} outside the set "
                    f"(tol {c.tol:g}); the actions were not used",
                    status="inaccurate",
                )
        except ProjectionError:
            self.failures += 1
            raise
        moved = x - given
        moved_by = np.sqrt(np.einsum("ij,ij->i", moved, moved))
        if every:
            return x, moved_by
        out, distance = actions.copy(), np.zeros(n)
        out[rows], distance[rows] = x, moved_by
        return out, distance

    def _project_rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Project infeasible ``(n, dim)`` rows; the default calls :meth:`_project` per row.

        Projectors with a vectorised method override it (``obs`` is ``(n, k)``,
        ``(1, k)`` or ``None``).
        """
        out = np.empty_like(actions)
        for i in range(actions.shape[0]):
            row_obs = None if obs is None else obs[min(i, obs.shape[0] - 1)]
            out[i] = self._project(actions[i], row_obs)
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.constraint!r})"

    def __getstate__(self) -> dict[str, Any]:
        # Solver handles do not pickle; a copy rebuilds them on first use.
        state = self.__dict__.copy()
        if "_solver" in state:
            state["_solver"] = None
        return state
