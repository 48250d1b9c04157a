"""Matrix actions: the PSD / PD cone ``{X symmetric : lambda_min(X) >= eps}`` (and the box).

For a gain or covariance matrix an agent outputs: the action is a flattened symmetric
matrix (layouts in :class:`~acrl_wrappers.projection.spectral.SymmetricLayout`) and the
projection clips its eigenvalues at ``eps``, exactly (the layouts are isometries).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, as_obs_batch, float_scalar
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint
from acrl_wrappers.errors import ConstraintError, EmptyFeasibleSetError
from acrl_wrappers.projection.spectral import SymmetricLayout, project_psd_box

__all__ = ["PSDConstraint"]

_SQRT2 = math.sqrt(2.0)  # an svec off-diagonal entry is sqrt(2) X_ij


class PSDConstraint(Constraint):
    """A symmetric matrix action whose smallest eigenvalue is at least ``eps`` (PSD, or PD).

    The violation sums ``max(0, eps - lambda_i)`` over the eigenvalues (plus, in the
    ``"full"`` layout, ``|X_ij - X_ji|`` over ``i < j``) and the box part. The projection is
    eigenvalue clipping ``V diag(max(lambda, eps)) V^T``, exact because both layouts keep
    Euclidean distances equal to Frobenius distances; when that leaves the action box,
    Dykstra's alternating projections onto cone and box (converged to 1e-11) give the
    projection onto the intersection. Batched with one ``eigh`` call for all rows.

    Args:
        n: matrix size ``n`` (an ``n x n`` matrix; a pair ``[n, n]`` is accepted), or
            ``None`` to infer it from ``dim``.
        dim: action size: ``n (n + 1) / 2`` (``"svec"``) or ``n^2`` (``"full"``).
        eps: smallest eigenvalue allowed, ``>= 0``.
        layout: ``"svec"`` (upper triangle row by row, off-diagonal entries times
            ``sqrt(2)``) or ``"full"`` (the whole matrix row by row).
        low, high: action box; it must contain ``eps I``'s diagonal reach (``high >= eps``
            on the diagonal, ``low <= 0 <= high`` off it) and, for ``"full"``, be symmetric.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: a non-square shape, a ``dim`` that is no ``n (n + 1) / 2`` (or
            ``n^2``), negative ``eps``, or an asymmetric box for ``"full"``.
        EmptyFeasibleSetError: the box holds no matrix ``>= eps I``.

    Example:
        >>> c = PSDConstraint(n=2, eps=0.1)
        >>> x = c.project_closed_form(np.array([1.0, 0.0, -0.5]), None)  # diag(1, -0.5)
        >>> x.round(6).tolist(), float(c.violation([1.0, 0.0, -0.5]))
        ([1.0, 0.0, 0.1], 0.6)
        >>> c.matrix(x).round(6).tolist()
        [[1.0, 0.0], [0.0, 0.1]]
    """

    family = "psd"

    def __init__(
        self,
        n: Any = None,
        dim: int | None = None,
        *,
        eps: float = 0.0,
        layout: str = "svec",
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        self.shape = SymmetricLayout(n, dim, layout)
        super().__init__(dim=self.shape.dim, low=low, high=high, tol=tol)
        self.n = self.shape.n
        self.eps = float_scalar(eps, "eps", minimum=0.0)
        self._iu = np.triu_indices(self.n, k=1)
        if layout == "full":
            for name, bound in (("low", self.low), ("high", self.high)):
                square = bound.reshape(self.n, self.n)
                if not np.array_equal(square, square.T):
                    raise ConstraintError(
                        f"`{name}` of a 'full' PSD action must be a symmetric matrix "
                        "(a matrix's (i, j) and (j, i) entries share one bound)"
                    )
        self._anchor = self._build_anchor()

    def _build_anchor(self) -> FloatArray:
        """``diag(high)``: in the box and ``>= eps I``, or :class:`EmptyFeasibleSetError`."""
        diagonal = self.shape.diagonal
        off = np.setdiff1d(np.arange(self.dim), diagonal)
        if (
            np.any(self.high[diagonal] < self.eps)
            or np.any(self.low[off] > 0.0)
            or np.any(self.high[off] < 0.0)
        ):
            raise EmptyFeasibleSetError(
                f"the action box holds no matrix >= {self.eps} I: the diagonal's high must "
                f"reach eps ({self.high[diagonal].tolist()}) and the off-diagonal boxes must "
                "contain 0; widen low/high or lower eps"
            )
        anchor = np.zeros(self.dim)
        anchor[diagonal] = self.high[diagonal]
        return anchor

    # ------------------------------------------------------------------ matrices
    def matrix(self, action: Any) -> FloatArray:
        """The symmetric ``(n, n)`` matrix one action stands for.

        Example:
            >>> PSDConstraint(n=2).matrix([2.0, 0.0, 3.0]).tolist()
            [[2.0, 0.0], [0.0, 3.0]]
        """
        return self.shape.symmetric(np.asarray(action, dtype=np.float64).reshape(1, -1))[0]

    def action(self, matrix: Any) -> FloatArray:
        """The action of a symmetric ``(n, n)`` matrix (inverse of :meth:`matrix`).

        Example:
            >>> c = PSDConstraint(n=2)
            >>> c.action(c.matrix([0.5, 0.25, 1.0])).tolist()
            [0.5, 0.25, 1.0]
        """
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape != (self.n, self.n):
            raise ConstraintError(f"expected an ({self.n}, {self.n}) matrix, got shape {m.shape}")
        return self.shape.to_action(0.5 * (m + m.T)[None])[0]

    # ------------------------------------------------------------------ family interface
    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """``eps - lambda_i`` per eigenvalue (and the asymmetry pairs for ``"full"``)."""
        finite = np.isfinite(actions).all(axis=1)
        if not finite.all():  # NaN rows stay NaN (LAPACK would raise), for the caller to report
            actions = np.where(finite[:, None], actions, 0.0)
        eig = self.eps - np.linalg.eigvalsh(self.shape.symmetric(actions))
        eig[~finite] = np.nan
        if self.shape.layout == "svec":
            return eig
        m = self.shape.to_matrix(actions)
        gap = m[:, self._iu[0], self._iu[1]] - m[:, self._iu[1], self._iu[0]]
        return np.hstack([eig, gap, -gap])

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        if self.shape.layout == "full" or not all(map(math.isfinite, action)):
            return super()._rows_one(action, obs)
        return [self.eps - v for v in np.linalg.eigvalsh(self._matrix_one(action)).tolist()]

    def _matrix_one(self, action: list[float]) -> FloatArray:
        """The matrix of one ``svec`` action, built without numpy indexing (the fast path)."""
        n, m = self.n, np.empty((self.n, self.n))
        k = 0
        for i in range(n):
            m[i, i] = action[k]
            for j in range(i + 1, n):
                m[i, j] = m[j, i] = action[k + j - i] / _SQRT2  # as the batched layout
            k += n - i
        return m

    def _params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "eps": self.eps}
        if self.shape.layout != "svec":
            out["layout"] = self.shape.layout
        return out

    @property
    def has_closed_form(self) -> bool:
        """Always: eigenvalue clipping (with Dykstra's steps when the box binds)."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Exact projection of one action (eigenvalue clipping; Dykstra if the box binds)."""
        x = np.asarray(action, dtype=np.float64)
        if self.shape.layout == "svec":
            values, vectors = np.linalg.eigh(self._matrix_one(x.tolist()))
            m = (vectors * np.maximum(values, self.eps)) @ vectors.T
            y = self.shape.to_action(m[None])[0]
            if np.all(y >= self.low - 1e-12) and np.all(y <= self.high + 1e-12):
                return np.minimum(np.maximum(y, self.low), self.high)
        return self.project_closed_form_batch(x.reshape(1, -1), None)[0]

    def project_closed_form_batch(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Exact projection of every row (one batched eigendecomposition)."""
        return project_psd_box(actions, self.shape, self.eps, self.low, self.high, self._anchor)

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Half uniform in the box, half their projections (feasible, on or near the boundary)."""
        box = rng.uniform(self.low, self.high, size=(n, self.dim))
        half = n // 2
        box[:half] = self.project_closed_form_batch(box[:half], None)
        return box

    def safe_action(self, obs: Any = None) -> FloatArray:
        """The projection of the zero matrix (``eps I`` when the box allows it)."""
        as_obs_batch(obs, self.obs_dim, 1)
        return self.project_closed_form(np.zeros(self.dim), None)
