"""Matrix actions: the PSD / PD cone ``{X symmetric : lambda_min(X) >= eps}`` (and the box).

For a gain or covariance matrix an agent outputs: the action is a flattened symmetric
matrix (layouts in :class:`~acrl_wrappers.projection.spectral.SymmetricLayout`) and the
projection clips its eigenvalues at ``eps``, exactly (the layouts are isometries).
"""

from __future__ import annotations

import math
from types import ModuleType
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, as_obs_batch, float_scalar
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint
from acrl_wrappers.errors import ConstraintError, EmptyFeasibleSetError
from acrl_wrappers.projection.compiled import kernels
from acrl_wrappers.projection.psd_box import project_psd_box
from acrl_wrappers.projection.small_symmetric import (
    clip_small,
    eigvalsh_small,
    eigvalsh_small_batch,
    positive_definite,
    positive_definite_batch,
)
from acrl_wrappers.projection.spectral import SymmetricLayout

__all__ = ["PSDConstraint"]

_SQRT2 = math.sqrt(2.0)  # an svec off-diagonal entry is sqrt(2) X_ij
_ROUNDOFF = 1e-13  # bound on the LDL^T certificate's roundoff, relative to the entries


class PSDConstraint(Constraint):
    """A symmetric matrix action whose smallest eigenvalue is at least ``eps`` (PSD, or PD).

    The violation sums ``max(0, eps - lambda_i)`` over the eigenvalues (plus, in the
    ``"full"`` layout, ``|X_ij - X_ji|`` over ``i < j``) and the box part. The projection is
    eigenvalue clipping ``V diag(max(lambda, eps)) V^T``, exact because both layouts keep
    Euclidean distances equal to Frobenius distances; when that leaves the action box,
    Newton's method on the box multipliers gives the projection onto the intersection
    (:mod:`~acrl_wrappers.projection.psd_box`; Dykstra's method where it declines).
    ``svec`` matrices up to 3 x 3 use the closed forms of
    :mod:`~acrl_wrappers.projection.small_symmetric` (LAPACK where they decline), compiled
    for batches of 2 x 2 and 3 x 3 where numba is installed (the ``fast`` extra,
    :mod:`~acrl_wrappers.projection.psd_kernels`); larger ones and ``"full"`` use one
    batched ``eigh`` call for all rows.

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
        self._small = self.shape.closed_form
        self._scale_list: list[float] = self.shape._scale.tolist()
        # a projection's result is accepted when X - (eps - margin) I is positive definite:
        # then sum(max(0, eps - lambda)) < n * margin = tol / 2
        self._margin = self.tol / (2 * self.n)
        self._compiled = self._small and self.n in (2, 3)  # the kernels, looked up per call:
        # a module does not pickle (vector envs and Ray send constraints to workers)
        self._svec_index = np.array(self.shape._iu)  # (2, dim): each entry's row and column
        self._anchor_min = float(np.linalg.eigvalsh(self.shape.symmetric(self._anchor[None]))[0, 0])

    @property
    def _kernels(self) -> ModuleType | None:
        """The compiled kernels for this constraint's batches, or ``None`` (numpy)."""
        return kernels("psd_kernels") if self._compiled else None

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
        if self._small:
            return self.eps - self._eigenvalues(actions)
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

    def _violation(self, a: FloatArray, obs: FloatArray | None) -> FloatArray:
        """The compiled kernel's violations where numba is installed, else the rows' sum."""
        if self._kernels is None or not a.shape[0]:
            return super()._violation(a, obs)
        out, ok = np.empty(a.shape[0]), np.empty(a.shape[0], dtype=bool)
        self._kernels.violation(a, self.shape._scale, self.eps, self.low, self.high, out, ok)
        if not ok.all():  # near-double eigenvalues, extreme scales: LAPACK
            out[~ok] = super()._violation(a[~ok], obs)
        return out

    def _eigenvalues(self, actions: FloatArray) -> FloatArray:
        """Ascending eigenvalues ``(N, n)`` of small ``svec`` actions (closed form, else LAPACK)."""
        lam, ok = eigvalsh_small_batch(actions / self.shape._scale)
        bad = np.flatnonzero(~ok)
        if bad.size:  # near-double eigenvalues, extreme scales: LAPACK (NaN for non-finite rows)
            sub = actions[bad]
            finite = np.isfinite(sub).all(axis=1)
            lam[bad] = np.nan
            lam[bad[finite]] = np.linalg.eigvalsh(self.shape.symmetric(sub[finite]))
        return lam

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        if self.shape.layout == "full" or not all(map(math.isfinite, action)):
            return super()._rows_one(action, obs)
        lam = eigvalsh_small(self._entries(action)) if self._small else None
        if lam is None:  # a larger matrix, or the closed form declined
            lam = np.linalg.eigvalsh(self._matrix_one(action)).tolist()
        return [self.eps - v for v in lam]

    def _entries(self, action: list[float]) -> list[float]:
        """The matrix entries (upper triangle, unscaled) of one ``svec`` action."""
        return [v / s for v, s in zip(action, self._scale_list, strict=True)]

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

    def _accepts_values(self, values: list[float], obs: FloatArray | None) -> bool:
        """In the box and ``X - (eps - tol / 2n) I`` positive definite, else the violation."""
        shift = self.eps - self._margin
        if (
            self._small
            and self._certifiable(values)
            and positive_definite(self._entries(values), shift)
        ):
            return True
        return super()._accepts_values(values, obs)

    def _certifiable(self, values: list[float]) -> bool:
        """In the box, with entries small enough for the certificate's roundoff."""
        box = self._uniform_box
        if box is not None:
            inside = box[0] <= min(values) and max(values) <= box[1]
        else:
            pairs = zip(values, self._low_list, self._high_list, strict=True)
            inside = all(lo <= v <= hi for v, lo, hi in pairs)
        big = max(max(values), -min(values), abs(self.eps))
        return inside and big * _ROUNDOFF < self._margin

    def _accepts(self, actions: FloatArray, obs: FloatArray | None) -> bool:
        """Every row in the box and certified positive definite, else the violation."""
        if self._kernels is not None and actions.size:
            scale = self.shape._scale
            if self._kernels.certified(
                actions, scale, self.low, self.high, self.eps, _ROUNDOFF, self._margin
            ):
                return True
        elif self._small and actions.size:
            big = max(float(np.abs(actions).max()), abs(self.eps))
            inside = bool(((actions >= self.low) & (actions <= self.high)).all())
            if inside and big * _ROUNDOFF < self._margin:
                m = actions / self.shape._scale
                if positive_definite_batch(m, self.eps - self._margin).all():
                    return True
        return super()._accepts(actions, obs)

    def _params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n": self.n, "eps": self.eps}
        if self.shape.layout != "svec":
            out["layout"] = self.shape.layout
        return out

    @property
    def has_closed_form(self) -> bool:
        """Always: eigenvalue clipping (Newton on the box multipliers when the box binds)."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Exact projection of one action (eigenvalue clipping; Newton if the box binds)."""
        x = np.asarray(action, dtype=np.float64)
        y = self._clip_one(x.tolist()) if self.shape.layout == "svec" else None
        if y is not None and all(
            lo - 1e-12 <= v <= hi + 1e-12
            for v, lo, hi in zip(y, self._low_list, self._high_list, strict=True)
        ):
            return np.minimum(np.maximum(np.array(y), self.low), self.high)
        return self.project_closed_form_batch(x.reshape(1, -1), None)[0]

    def _clip_one(self, values: list[float]) -> list[float] | None:
        """The eigenvalue-clipped ``svec`` action (closed form, else LAPACK)."""
        if self._small:
            m = self._entries(values)
            lam = eigvalsh_small(m)
            clipped = None if lam is None else clip_small(m, lam, self.eps)
            if clipped is not None:
                return [v * s for v, s in zip(clipped, self._scale_list, strict=True)]
        values_, vectors = np.linalg.eigh(self._matrix_one(values))
        m = (vectors * np.maximum(values_, self.eps)) @ vectors.T
        return self.shape.to_action(m[None])[0].tolist()

    def project_closed_form_batch(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Exact projection of every row (compiled, else one batched eigendecomposition)."""
        if self._kernels is None or not actions.shape[0]:
            return project_psd_box(actions, self.shape, self.eps, self.low, self.high, self._anchor)
        out, done = np.empty_like(actions), np.empty(actions.shape[0], dtype=bool)
        self._kernels.project(
            actions,
            self.shape._scale,
            self._svec_index,
            self.eps,
            self.low,
            self.high,
            self._anchor,
            self._anchor_min,
            out,
            done,
        )
        if not done.all():  # a double eigenvalue, a Newton that did not converge, ...
            rest = ~done
            out[rest] = project_psd_box(
                actions[rest], self.shape, self.eps, self.low, self.high, self._anchor
            )
        return out

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform symmetric matrices of the box with every diagonal entry ``>= eps``.

        Every ``X >= eps I`` has ``X_ii >= eps``, so the tighter box keeps rejection sampling
        uniform on the set; a ``"full"`` action is drawn as its upper triangle and mirrored
        (its box is symmetric), as the set holds only symmetric matrices.
        """
        low = self.low.copy()
        low[self.shape.diagonal] = np.maximum(low[self.shape.diagonal], self.eps)
        box = rng.uniform(low, self.high, size=(n, self.dim))
        if self.shape.layout == "full":
            square = box.reshape(n, self.n, self.n)
            square[:, self._iu[1], self._iu[0]] = square[:, self._iu[0], self._iu[1]]
        return box

    def safe_action(self, obs: Any = None) -> FloatArray:
        """The projection of the zero matrix (``eps I`` when the box allows it)."""
        as_obs_batch(obs, self.obs_dim, 1)
        return self.project_closed_form(np.zeros(self.dim), None)
