"""Linear constraints: inequalities ``A(s) a <= b(s)`` and sum bands ``|sum a - t| <= delta``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, float_scalar, index_list
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint
from acrl_wrappers.constraints.helpers import infer_dim
from acrl_wrappers.constraints.state import StateParameter, is_state_spec
from acrl_wrappers.errors import ConstraintError, EmptyFeasibleSetError
from acrl_wrappers.projection.euclidean import project_slab_box
from acrl_wrappers.projection.qp import QPForm, QPValues

__all__ = ["LinearConstraint", "SumBandConstraint"]


class LinearConstraint(Constraint):
    """Linear inequalities ``A(s) a <= b(s)`` (and the box).

    Row ``j`` of the violation is ``max(0, A_j a - b_j)``. ``b`` and any row of ``A`` may
    be read from the observation (:class:`~acrl_wrappers.constraints.state.StateParameter`
    specs: ``b={"index": "3:5"}``, ``A=[[1.0, 1.0], {"index": "0:2", "scale": -1.0}]``).
    A single row is projected in closed form (exactly, for every state); several rows go
    to the QP solver, whose matrix values and bounds are updated in place per state.
    Emptiness is checked at construction by a linear program when nothing depends on the
    state. Reference: Kasaura et al., arXiv:2304.08743 (``LinearConstraint``; the NSFnet
    link constraints of NFWPO and ARAM are this family).

    Args:
        A: ``(m, dim)`` matrix, or a list of ``m`` rows each a list or a state spec.
        b: ``(m,)`` right-hand side (a scalar broadcasts), or a state spec of ``m`` entries.
        dim: action dimension (inferred from ``A``).
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: mis-shaped or non-finite ``A`` or ``b``.
        EmptyFeasibleSetError: no action in the box satisfies every row (constant rows).

    Example:
        >>> c = LinearConstraint(A=[[1.0, 1.0], [1.0, -1.0]], b=[1.0, 0.0])
        >>> c.violation(np.array([[0.5, 0.5], [1.0, 0.5]])).tolist()
        [0.0, 1.0]
        >>> moving = LinearConstraint(A=[[1.0, 1.0]], b={"index": 0})
        >>> moving.project_closed_form(np.array([0.5, 0.5]), np.array([0.4])).tolist()
        [0.2, 0.2]
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
        dynamic_rows = isinstance(A, list | tuple) and any(is_state_spec(r) for r in A)
        if dynamic_rows:  # each row's length (a list's, or its index's) tells the dimension
            sizes = {f"A[{j}]": _row_size(r) for j, r in enumerate(A)}
            rows = {k: [0.0] * n for k, n in sizes.items() if n is not None}
            dim = infer_dim(dim, low=low, high=high, **rows)
        else:
            dim = infer_dim(dim, A=A, low=low, high=high)
        super().__init__(dim=dim, low=low, high=high, tol=tol)
        if dynamic_rows:
            self.row_params = [StateParameter(r, name=f"A[{j}]", size=dim) for j, r in enumerate(A)]
            self.A = None
        else:
            self.row_params = []
            self.A = np.atleast_2d(np.asarray(A, dtype=np.float64))
            if self.A.ndim != 2 or self.A.shape[1] != self.dim or self.A.shape[0] == 0:
                raise ConstraintError(f"`A` must have shape (m, {self.dim}), got {self.A.shape}")
            if not np.isfinite(self.A).all():
                raise ConstraintError("`A` and `b` must be finite")
        m = len(self.row_params) or self.A.shape[0]  # type: ignore[union-attr]
        if is_state_spec(b):
            self.b_param = StateParameter(b, name="b", size=m)
        else:
            self.b_param = StateParameter(
                np.broadcast_to(np.asarray(b, np.float64), (m,)), name="b"
            )
        self.b = self.b_param.constant
        """The right-hand side when it is constant, else ``None``."""
        self.n_rows = m
        self._reads(self.b_param, *self.row_params)
        if self.A is not None:
            self._row: list[float] = self.A[0].tolist()
        if self.obs_dim == 0:
            self._check_not_empty()

    def _check_not_empty(self) -> None:
        from scipy.optimize import linprog  # imported here: scipy.optimize is slow to import

        assert self.A is not None and self.b is not None
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

    def matrix(self, obs: FloatArray | None) -> FloatArray:
        """``A`` for ``(N, k)`` observations: ``(m, dim)`` if constant, else ``(N, m, dim)``."""
        if self.A is not None:
            return self.A
        parts = [p.batch(obs) for p in self.row_params]
        n = max(part.shape[0] for part in parts)
        return np.stack([np.broadcast_to(part, (n, self.dim)) for part in parts], axis=1)

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """``A a - b``, one column per row of ``A``."""
        a_matrix = self.matrix(obs)
        if a_matrix.ndim == 2:
            return actions @ a_matrix.T - self.b_param.batch(obs)
        return np.einsum("nmd,nd->nm", a_matrix, actions) - self.b_param.batch(obs)

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        b = self.b_param.row(obs)
        if self.A is not None:
            return (self.A @ action - b).tolist()
        return [
            sum(x * w for x, w in zip(action, p.row(obs), strict=True)) - bj
            for p, bj in zip(self.row_params, b, strict=True)
        ]

    def _params(self) -> dict[str, Any]:
        if self.A is not None:
            a_spec: Any = self.A.tolist()
        else:
            a_spec = [p.spec() if p.state_dependent else p.offset.tolist() for p in self.row_params]
        b_spec = self.b.tolist() if self.b is not None else self.b_param.spec()
        return {"A": a_spec, "b": b_spec}

    @property
    def has_closed_form(self) -> bool:
        """With a single row (a half-space intersected with the box)."""
        return self.n_rows == 1

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray | None:
        """Exact projection for one row, ``None`` for several."""
        if self.n_rows != 1:
            return None
        row = self._row if self.A is not None else self.row_params[0].row(obs)
        return project_slab_box(
            action, row, -math.inf, self.b_param.value(obs), self._low_list, self._high_list
        )

    def qp_form(self) -> QPForm:
        """The rows themselves: ``-inf <= A(s) x <= b(s)`` (values updated per state)."""
        if self.obs_dim == 0:
            assert self.A is not None and self.b is not None
            return QPForm.constant(self.A, np.full(self.A.shape[0], -np.inf), self.b)
        m, d = self.n_rows, self.dim
        lower = np.full(m, -np.inf)

        def values(obs: FloatArray | None) -> QPValues:
            entries = np.broadcast_to(self.matrix(obs), (1, m, d)).reshape(-1)
            return entries, lower, self.b_param.batch(obs)[0]

        return QPForm(
            dim=d,
            n_aux=0,
            n_rows=m,
            rows=np.repeat(np.arange(m), d),
            cols=np.tile(np.arange(d), m),
            values=values,
            state_dependent=self.A is None,
        )


def _row_size(row: Any) -> int | None:
    """The length of one row of ``A`` (a list or a state spec), if it tells."""
    if isinstance(row, Mapping):
        index = row.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return 1
        return None if index is None else len(index_list(index, "A.index"))
    return int(np.shape(row)[0]) if np.ndim(row) == 1 else None


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
