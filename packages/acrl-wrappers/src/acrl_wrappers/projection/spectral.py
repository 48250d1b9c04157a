"""Projections onto the PSD / PD cone ``{X symmetric : lambda_min(X) >= eps}`` for matrix actions.

A symmetric ``n x n`` matrix travels as a flat action in one of two layouts
(:class:`SymmetricLayout`), both isometries so that the Euclidean distance between
actions equals the Frobenius distance between matrices, which is what makes eigenvalue
clipping the *exact* Euclidean projection:

- ``"svec"`` (``n (n + 1) / 2`` entries): the upper triangle row by row, off-diagonal
  entries times ``sqrt(2)``;
- ``"full"`` (``n^2`` entries): the matrix row by row; an asymmetric action is first
  replaced by its symmetric part (the nearest symmetric matrix).

Eigenvalue clipping ``X = V diag(max(lambda, eps)) V^T`` is the projection onto the cone
(Higham 1988, for the Frobenius norm). Where the result leaves the action box,
:mod:`~acrl_wrappers.projection.psd_box` projects onto the intersection.
"""

from __future__ import annotations

import math

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.projection.small_symmetric import clip_small_batch, eigvalsh_small_batch

__all__ = ["SymmetricLayout", "clip_actions", "clip_eigenvalues"]

LAYOUTS = ("svec", "full")


class SymmetricLayout:
    """How a symmetric ``n x n`` matrix is flattened into an action.

    Args:
        n: matrix size (or ``None`` to infer it from ``dim``).
        dim: action size (or ``None`` to infer it from ``n``).
        layout: ``"svec"`` or ``"full"``.

    Raises:
        ConstraintError: ``n`` is not square (a pair of different sizes), ``dim`` fits no
            ``n`` for the layout, or the two disagree.

    Example:
        >>> lay = SymmetricLayout(n=2)
        >>> lay.dim, lay.to_matrix(np.array([[1.0, 2**0.5, 3.0]])).tolist()
        (3, [[[1.0, 1.0], [1.0, 3.0]]])
    """

    def __init__(
        self, n: int | tuple[int, int] | None = None, dim: int | None = None, layout: str = "svec"
    ) -> None:
        if layout not in LAYOUTS:
            raise ConstraintError(f"`layout` must be one of {LAYOUTS}, got {layout!r}")
        if isinstance(n, tuple | list):
            if len(n) != 2 or n[0] != n[1]:
                raise ConstraintError(
                    f"a PSD action is a square n x n matrix, got shape {tuple(n)}; give n "
                    "(the number of rows) for a square matrix"
                )
            n = int(n[0])
        if n is None:
            n = _size_from_dim(dim, layout)
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ConstraintError(f"`n` must be a positive integer, got {n!r}")
        self.n, self.layout = int(n), layout
        self.dim = self.n * (self.n + 1) // 2 if layout == "svec" else self.n * self.n
        if dim is not None and dim != self.dim:
            raise ConstraintError(
                f"a {self.n} x {self.n} matrix in layout {layout!r} has {self.dim} entries, "
                f"but dim={dim}; pass n={_size_from_dim(dim, layout, strict=False)} or the "
                "matching dim"
            )
        iu = np.triu_indices(self.n)
        self._iu = iu
        self._scale = np.where(iu[0] == iu[1], 1.0, math.sqrt(2.0))
        self.diagonal = (
            np.flatnonzero(iu[0] == iu[1]) if layout == "svec" else np.arange(self.n) * (self.n + 1)
        )
        """Action indices of the diagonal entries."""
        self.closed_form = layout == "svec" and self.n <= 3
        """Whether the closed forms of :mod:`~acrl_wrappers.projection.small_symmetric` apply."""

    def to_matrix(self, x: FloatArray) -> FloatArray:
        """``(N, n, n)`` matrices of ``(N, dim)`` actions (as given: ``full`` may be asymmetric)."""
        if self.layout == "full":
            return x.reshape(x.shape[0], self.n, self.n)
        m = np.empty((x.shape[0], self.n, self.n))
        values = x / self._scale
        m[:, self._iu[0], self._iu[1]] = values
        m[:, self._iu[1], self._iu[0]] = values
        return m

    def symmetric(self, x: FloatArray) -> FloatArray:
        """The symmetric matrices ``(N, n, n)`` the actions stand for."""
        m = self.to_matrix(x)
        return 0.5 * (m + m.transpose(0, 2, 1)) if self.layout == "full" else m

    def to_action(self, m: FloatArray) -> FloatArray:
        """``(N, dim)`` actions of symmetric ``(N, n, n)`` matrices."""
        if self.layout == "full":
            return m.reshape(m.shape[0], -1)
        return m[:, self._iu[0], self._iu[1]] * self._scale


def _size_from_dim(dim: int | None, layout: str, strict: bool = True) -> int:
    if dim is None:
        raise ConstraintError("pass `n` (the matrix size) or `dim` for a PSD constraint")
    root = (math.isqrt(8 * dim + 1) - 1) // 2 if layout == "svec" else math.isqrt(dim)
    fits = root * (root + 1) // 2 == dim if layout == "svec" else root * root == dim
    if strict and not fits:
        shape = "n (n + 1) / 2" if layout == "svec" else "n^2"
        raise ConstraintError(
            f"a PSD action of {dim} entries is no square matrix: layout {layout!r} needs "
            f"{shape} entries (e.g. {root * (root + 1) // 2 if layout == 'svec' else root * root}"
            f" or {(root + 1) * (root + 2) // 2 if layout == 'svec' else (root + 1) ** 2})"
        )
    return max(root, 1)


def clip_eigenvalues(m: FloatArray, eps: float) -> FloatArray:
    """``V diag(max(lambda, eps)) V^T`` for symmetric ``(N, n, n)``: the nearest ``X >= eps I``.

    Example:
        >>> clip_eigenvalues(np.array([[[1.0, 0.0], [0.0, -2.0]]]), 0.1).tolist()
        [[[1.0, 0.0], [0.0, 0.1]]]
    """
    values, vectors = np.linalg.eigh(m)
    clipped = np.maximum(values, eps)
    return (vectors * clipped[:, None, :]) @ vectors.transpose(0, 2, 1)  # faster than einsum


def clip_actions(x: FloatArray, layout: SymmetricLayout, eps: float) -> FloatArray:
    """The actions of the eigenvalue-clipped matrices of ``(N, dim)`` actions.

    Closed forms for ``svec`` matrices up to 3 x 3 (LAPACK for the rows they decline),
    LAPACK's ``eigh`` otherwise.
    """
    if not layout.closed_form:
        return layout.to_action(clip_eigenvalues(layout.symmetric(x), eps))
    if layout.n == 1:
        return np.maximum(x, eps)
    m = x / layout._scale
    lam, ok = eigvalsh_small_batch(m)
    y, clipped = clip_small_batch(m, lam, eps)
    y *= layout._scale
    bad = np.flatnonzero(~(ok & clipped))
    if bad.size:
        y[bad] = layout.to_action(clip_eigenvalues(layout.symmetric(x[bad]), eps))
    return y
