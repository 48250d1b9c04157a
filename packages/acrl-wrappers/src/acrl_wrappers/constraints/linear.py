"""Linear constraints: inequalities ``A a <= b`` and sum bands ``|sum a - t| <= delta``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, float_scalar
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint, infer_dim
from acrl_wrappers.errors import ConstraintError, EmptyFeasibleSetError
from acrl_wrappers.projection.euclidean import project_slab_box
from acrl_wrappers.projection.qp import QPForm

__all__ = ["LinearConstraint", "SumBandConstraint"]


class LinearConstraint(Constraint):
    """Linear inequalities ``A a <= b`` (and the box).

    Row ``j`` of the violation is ``max(0, A_j a - b_j)``. A single row is projected in
    closed form; several rows go to the QP solver. Emptiness is checked at construction
    by a linear program. Reference: Kasaura et al., arXiv:2304.08743 (``LinearConstraint``; the
    NSFnet link constraints of NFWPO and ARAM are this family).

    Args:
        A: ``(m, dim)`` matrix.
        b: ``(m,)`` right-hand side (a scalar broadcasts).
        dim: action dimension (inferred from ``A``).
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: mis-shaped or non-finite ``A`` or ``b``.
        EmptyFeasibleSetError: no action in the box satisfies every row.

    Example:
        >>> c = LinearConstraint(A=[[1.0, 1.0], [1.0, -1.0]], b=[1.0, 0.0])
        >>> c.violation(np.array([[0.5, 0.5], [1.0, 0.5]])).tolist()
        [0.0, 1.0]
    """

    family = "linear"

    def __init__(
        self,
        A: Any,
        b: Any,
        dim: int | None = None,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(dim=infer_dim(dim, A=A, low=low, high=high), low=low, high=high, tol=tol)
        self.A = np.atleast_2d(np.asarray(A, dtype=np.float64))
        if self.A.ndim != 2 or self.A.shape[1] != self.dim or self.A.shape[0] == 0:
            raise ConstraintError(f"`A` must have shape (m, {self.dim}), got {self.A.shape}")
        self.b = np.broadcast_to(np.asarray(b, dtype=np.float64), (self.A.shape[0],)).copy()
        if not (np.isfinite(self.A).all() and np.isfinite(self.b).all()):
            raise ConstraintError("`A` and `b` must be finite")
        self._row: list[float] = self.A[0].tolist()
        from scipy.optimize import linprog  # imported here: scipy.optimize is slow to import

        lp = linprog(
            np.zeros(self.dim),
            A_ub=self.A,
            b_ub=self.b,
            bounds=list(zip(self.low, self.high, strict=True)),
        )
        if lp.status == 2:
            raise EmptyFeasibleSetError(
                "no action in the box satisfies A a <= b (linear program infeasible); "
                "check the signs of A and b"
            )

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """``A a - b``, one column per row of ``A``."""
        return actions @ self.A.T - self.b

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        return (self.A @ action - self.b).tolist()

    def _params(self) -> dict[str, Any]:
        return {"A": self.A.tolist(), "b": self.b.tolist()}

    @property
    def has_closed_form(self) -> bool:
        """With a single row (a half-space intersected with the box)."""
        return self.A.shape[0] == 1

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray | None:
        """Exact projection for one row, ``None`` for several."""
        if self.A.shape[0] != 1:
            return None
        return project_slab_box(
            action, self._row, -math.inf, float(self.b[0]), self._low_list, self._high_list
        )

    def qp_form(self) -> QPForm:
        """The rows themselves: ``-inf <= A x <= b``."""
        return QPForm.constant(self.A, np.full(self.A.shape[0], -np.inf), self.b)


class SumBandConstraint(Constraint):
    """A band on the total: ``|sum_i a_i - target| <= width``.

    Allocation tasks use it: bike sharing keeps ``|sum a - 1| <= 0.1`` (BSS3z) in
    normalised units (ARAM, arXiv:2503.12932, as its code enforces it). The projection
    onto band and box is exact in closed form.

    Args:
        target: centre ``t`` of the band.
        width: half-width ``delta >= 0`` (0 makes it an equality ``sum a = t``).
        dim: action dimension.
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        EmptyFeasibleSetError: no point of the box has a total inside the band.

    Example:
        >>> c = SumBandConstraint(target=1.0, width=0.1, dim=3)
        >>> float(c.violation([0.5, 0.5, 0.5])), bool(c.contains([0.3, 0.3, 0.4]))
        (0.4, True)
    """

    family = "sum-band"

    def __init__(
        self,
        target: float,
        width: float,
        dim: int | None = None,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(dim=infer_dim(dim, low=low, high=high), low=low, high=high, tol=tol)
        self.target = float_scalar(target, "target")
        self.width = float_scalar(width, "width", minimum=0.0)
        if self.target - self.width > self.high.sum() or self.target + self.width < self.low.sum():
            raise EmptyFeasibleSetError(
                f"the totals of the box span [{self.low.sum()}, {self.high.sum()}], which "
                f"misses the band {self.target} +- {self.width}; change target or width"
            )

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Two rows: ``sum a - target - width`` and ``target - width - sum a``."""
        total = actions.sum(axis=1, keepdims=True) - self.target
        return np.hstack([total - self.width, -total - self.width])

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        total = sum(action) - self.target
        return [total - self.width, -total - self.width]

    def _params(self) -> dict[str, Any]:
        return {"target": self.target, "width": self.width}

    @property
    def has_closed_form(self) -> bool:
        """Always."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Exact projection onto band and box."""
        lo, hi = self.target - self.width, self.target + self.width
        return project_slab_box(action, [1.0] * self.dim, lo, hi, self._low_list, self._high_list)

    def qp_form(self) -> QPForm:
        """One two-sided row ``t - delta <= sum x <= t + delta``."""
        return QPForm.constant(
            np.ones((1, self.dim)),
            np.array([self.target - self.width]),
            np.array([self.target + self.width]),
        )

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform on box-minus-last-coordinate times band; the last coordinate closes the sum.

        The map ``(a_1..a_{d-1}, s) -> a`` has unit Jacobian, so accepted points are
        uniform on the feasible set even for a thin band.
        """
        if self.dim == 1:
            return super()._propose(obs, n, rng)
        head = rng.uniform(self.low[:-1], self.high[:-1], size=(n, self.dim - 1))
        total = rng.uniform(self.target - self.width, self.target + self.width, size=(n, 1))
        return np.hstack([head, total - head.sum(axis=1, keepdims=True)])
