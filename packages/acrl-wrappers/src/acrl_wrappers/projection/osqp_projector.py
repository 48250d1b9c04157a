"""Projection as a quadratic program solved by OSQP, set up once and updated in place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import osqp
import scipy.sparse as sp

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import ProjectionError
from acrl_wrappers.projection.base import Projector
from acrl_wrappers.projection.qp import QPForm

if TYPE_CHECKING:
    from acrl_wrappers.constraints.base import Constraint

__all__ = ["OSQPProjector"]

_ACCEPTED = {osqp.SolverStatus.OSQP_SOLVED, osqp.SolverStatus.OSQP_SOLVED_INACCURATE}
_ACTIVE = 1e-7  # relative slack under which a row counts as active when polishing
_POLISH_AGREEMENT = 1e-5  # the polished action must stay this close to OSQP's
_REG = 1e-10  # regularisation of the polishing KKT system
OSQP_SETTINGS: dict[str, Any] = {
    "verbose": False,
    "polishing": False,  # polishing prints to stdout in osqp 1.x; the margin below is enough
    "eps_abs": 1e-9,
    "eps_rel": 1e-9,
    "max_iter": 20_000,
    "warm_starting": True,
}
"""Solver settings; tight tolerances because every result is checked against ``tol``."""


class OSQPProjector(Projector):
    """Solves ``min ||x - a||^2`` over the constraint's QP form and the box with OSQP.

    The problem ``min 1/2 ||x - a||^2 s.t. lower <= M(s) [x; t] <= upper, low <= x <= high``
    is set up on the first call; later calls update ``q``, the bounds and, for
    state-dependent constraints, the values of ``M`` in place, and OSQP warm-starts from
    the previous solution. Constraint rows are tightened by ``tol / 10`` so the solver's
    own tolerance cannot push the result outside the set; the box is enforced exactly by
    clipping. The solution is then polished: the rows OSQP found active are solved as
    equalities (a small KKT system), which makes it exact and independent of the
    warm-start history (the same input always gives the same action), falling back to
    OSQP's own solution if the polished one disagrees or is infeasible. OSQP's polishing
    is off because it prints to stdout; solver output never reaches stdout.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
        >>> proj = OSQPProjector(c)
        >>> obs = np.zeros(17); obs[11:17] = 10.0
        >>> action, info = proj.project(np.full(6, 0.5), obs)
        >>> round(float(np.abs(obs[11:17] * action).sum()), 4), info.method
        (20.0, 'osqp')
    """

    name = "osqp"
    priority = 50

    def __init__(self, constraint: Constraint) -> None:
        super().__init__(constraint)
        self.form, self._n_rows = self._build_form()
        self._margin = constraint.tol / 10.0
        self._bounds_key: tuple[object, object] = (None, None)  # bounds last tightened
        self._bounds: tuple[FloatArray, FloatArray] = (np.zeros(0), np.zeros(0))
        d, n = constraint.dim, self.form.n_vars
        self._primal_diagonal = np.r_[np.ones(d), np.full(n - d, _REG)]
        self._solver: osqp.OSQP | None = None
        self._entries: FloatArray | None = None
        self._last_status = "unsolved"

    def _build_form(self) -> tuple[QPForm, int]:
        """The constraint's rows followed by the box rows, and the number of constraint rows."""
        c = self.constraint
        form = c.qp_form()
        if form is None:
            raise ProjectionError(f"{c!r} has no QP form", status="unsupported")
        box = QPForm.constant(np.eye(c.dim), c.low, c.high)
        return (QPForm.stack([form, box]) if form.n_rows else box), form.n_rows

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        del state["form"]  # holds closures; rebuilt from the constraint
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.form, self._n_rows = self._build_form()
        self._bounds_key = (None, None)

    @classmethod
    def supports(cls, constraint: Constraint) -> bool:
        """Constraints with a QP form (linear rows, power budgets, sum bands, intersections)."""
        return constraint.convex and constraint.qp_form() is not None

    def _tightened(self, lower: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
        if lower is self._bounds_key[0] and upper is self._bounds_key[1]:  # constant bounds
            return self._bounds
        self._bounds_key = (lower, upper)
        self._bounds = self._tighten(lower, upper)
        return self._bounds

    def _tighten(self, lower: FloatArray, upper: FloatArray) -> tuple[FloatArray, FloatArray]:
        lower, upper = lower.copy(), upper.copy()
        rows = slice(0, self._n_rows)
        lo, hi = lower[rows], upper[rows]
        room = (hi - lo) > 2 * self._margin
        lo[room & np.isfinite(lo)] += self._margin
        hi[room & np.isfinite(hi)] -= self._margin
        return lower, upper

    def _setup(
        self, q: FloatArray, entries: FloatArray, lower: FloatArray, upper: FloatArray
    ) -> osqp.OSQP:
        n = self.form.n_vars
        d = self.constraint.dim
        p = sp.triu(sp.diags(np.r_[np.ones(d), np.zeros(n - d)]), format="csc")
        solver = osqp.OSQP()
        solver.setup(p, q, self.form.matrix(entries), lower, upper, **OSQP_SETTINGS)
        return solver

    def _project(self, action: FloatArray, obs: FloatArray | None) -> FloatArray:
        entries, lower, upper = self.form.values(None if obs is None else obs.reshape(1, -1))
        lower, upper = self._tightened(lower, upper)
        q = np.zeros(self.form.n_vars)
        q[: action.shape[0]] = -action
        if self._solver is None:
            self._solver = self._setup(q, entries, lower, upper)
            self._entries = entries
        elif self.form.state_dependent and (
            self._entries is None or not np.array_equal(entries, self._entries)
        ):
            self._entries = entries
            self._solver.update(q=q, l=lower, u=upper, Ax=entries[self.form.csc_order])
        else:
            self._solver.update(q=q, l=lower, u=upper)
        result = self._solver.solve(raise_error=False)
        self._last_status = str(result.info.status)
        if result.info.status_val not in _ACCEPTED:
            raise ProjectionError(
                f"OSQP could not project the action: status {result.info.status!r}; "
                "for 'primal infeasible' the constraint is empty for this observation",
                status=self._last_status,
            )
        c = self.constraint
        approximate = np.clip(result.x[: c.dim], c.low, c.high)
        exact = self._polish(result.x, q, entries, lower, upper)
        if exact is not None and np.abs(exact - approximate).max() <= _POLISH_AGREEMENT:
            exact = np.clip(exact, c.low, c.high)
            if c._violation_single(exact, obs) <= c.tol:
                return exact
        return approximate

    def _polish(
        self,
        z: FloatArray,
        q: FloatArray,
        entries: FloatArray,
        lower: FloatArray,
        upper: FloatArray,
    ) -> FloatArray | None:
        """The exact projection on the rows OSQP found active (``None`` if it cannot tell).

        Solves the KKT system of ``min 1/2 ||x - a||^2`` with the active rows as
        equalities (regularised, as auxiliaries may be underdetermined and active rows
        redundant, then refined). The result depends only on the input and the active set,
        not on the solver's warm-start history, so the same input always gives the same
        action (Gymnasium's ``check_env`` compares them bit for bit), and it is exact
        rather than ``eps``-accurate.
        """
        form, d = self.form, self.constraint.dim
        n = form.n_vars
        matrix = np.zeros((form.n_rows, n))
        matrix[form.rows, form.cols] = entries
        values = matrix @ z
        slack = _ACTIVE * (1.0 + np.abs(values))
        upper_active = np.isfinite(upper) & (values >= upper - slack)
        lower_active = np.isfinite(lower) & (values <= lower + slack) & ~upper_active
        active = upper_active | lower_active
        k = int(active.sum())
        if k == 0:
            return None
        kkt = np.zeros((n + k, n + k))
        kkt[:n, n:] = matrix[active].T
        kkt[n:, :n] = matrix[active]
        regularised = kkt.copy()
        kkt.flat[: d * (n + k + 1) : n + k + 1] = 1.0  # identity on the action block
        regularised.flat[:: n + k + 1] = np.concatenate([self._primal_diagonal, np.full(k, -_REG)])
        rhs = np.concatenate([-q, np.where(upper_active, upper, lower)[active]])
        try:
            solution = np.linalg.solve(regularised, rhs)
            solution += np.linalg.solve(regularised, rhs - kkt @ solution)
        except np.linalg.LinAlgError:
            return None
        return solution[:d] if np.isfinite(solution[:d]).all() else None

    def _status(self) -> str:
        return self._last_status
