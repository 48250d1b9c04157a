"""The QP form of a constraint: linear rows over the action and auxiliary variables.

A constraint with a QP form is the set ``{x : exists t, lower(s) <= M(s) [x; t] <= upper(s)}``
(the action box is added by the solver). The sparsity pattern of ``M`` is fixed when the
form is built, and only its values change with the state, so a solver is set up once and
updated in place on every call (see :class:`~acrl_wrappers.projection.OSQPProjector`).
Non-linear families reach this form through auxiliary variables, for example
``sum |w_i x_i| <= c`` as ``-t_i <= w_i x_i <= t_i, sum t_i <= c``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from acrl_wrappers._arrays import FloatArray

__all__ = ["QPForm", "QPValues"]

QPValues = tuple[FloatArray, FloatArray, FloatArray]
"""``(entries, lower, upper)``: matrix entries in pattern order and the row bounds."""


@dataclass(frozen=True)
class QPForm:
    """Rows ``lower <= M [x; t] <= upper`` with a fixed pattern and state-dependent values.

    Attributes:
        dim: number of action variables ``x``.
        n_aux: number of auxiliary variables ``t`` (appended after ``x``).
        n_rows: number of rows of ``M``.
        rows: row index of every pattern entry.
        cols: column index of every pattern entry.
        values: function of a ``(1, k)`` observation (or ``None``) returning
            :data:`QPValues`, with entries in the order of ``rows``/``cols``.
        state_dependent: whether the entries of ``M`` change with the observation
            (bounds may change either way).

    Example:
        >>> form = QPForm.constant(np.array([[1.0, 1.0]]), np.array([-np.inf]), np.array([1.0]))
        >>> form.matrix(form.values(None)[0]).toarray().tolist()
        [[1.0, 1.0]]
    """

    dim: int
    n_aux: int
    n_rows: int
    rows: np.ndarray
    cols: np.ndarray
    values: Callable[[FloatArray | None], QPValues]
    state_dependent: bool

    @classmethod
    def constant(cls, matrix: FloatArray, lower: FloatArray, upper: FloatArray) -> QPForm:
        """A state-independent form from a dense matrix over the action (no auxiliaries)."""
        rows, cols = np.nonzero(matrix)
        entries = matrix[rows, cols].astype(np.float64)
        lower = np.asarray(lower, dtype=np.float64)
        upper = np.asarray(upper, dtype=np.float64)
        return cls(
            dim=matrix.shape[1],
            n_aux=0,
            n_rows=matrix.shape[0],
            rows=rows,
            cols=cols,
            values=lambda obs: (entries, lower, upper),
            state_dependent=False,
        )

    @property
    def n_vars(self) -> int:
        """Number of variables ``dim + n_aux``."""
        return self.dim + self.n_aux

    def matrix(self, entries: FloatArray) -> sp.csc_matrix:
        """``M`` as a CSC matrix (explicit zeros kept, so the pattern never changes)."""
        return sp.csc_matrix(
            (entries[self.csc_order], self._csc_indices, self._csc_indptr),
            shape=(self.n_rows, self.n_vars),
        )

    @property
    def csc_order(self) -> np.ndarray:
        """Permutation taking entries in pattern order to CSC data order."""
        return self._csc[0]

    @property
    def _csc_indices(self) -> np.ndarray:
        return self._csc[1]

    @property
    def _csc_indptr(self) -> np.ndarray:
        return self._csc[2]

    @property
    def _csc(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_csc_cache")
        if cached is None:
            order = np.lexsort((self.rows, self.cols))
            cols = self.cols[order]
            indptr = np.searchsorted(cols, np.arange(self.n_vars + 1)).astype(np.int64)
            cached = (order, self.rows[order].astype(np.int64), indptr)
            object.__setattr__(self, "_csc_cache", cached)
        return cached

    @classmethod
    def stack(cls, forms: Sequence[QPForm]) -> QPForm:
        """Stack forms over the same action: rows concatenated, auxiliaries side by side."""
        dim = forms[0].dim
        row_offsets = np.cumsum([0] + [f.n_rows for f in forms])
        aux_offsets = np.cumsum([dim] + [f.n_aux for f in forms])
        rows, cols = [], []
        for f, r0, a0 in zip(forms, row_offsets, aux_offsets, strict=False):
            rows.append(f.rows + r0)
            cols.append(np.where(f.cols < dim, f.cols, f.cols - dim + a0))

        def values(obs: FloatArray | None) -> QPValues:
            parts = [f.values(obs) for f in forms]
            return (
                np.concatenate([p[0] for p in parts]),
                np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]),
            )

        return cls(
            dim=dim,
            n_aux=int(sum(f.n_aux for f in forms)),
            n_rows=int(row_offsets[-1]),
            rows=np.concatenate(rows),
            cols=np.concatenate(cols),
            values=values,
            state_dependent=any(f.state_dependent for f in forms),
        )
