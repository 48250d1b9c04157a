"""Vectorised exact projections for batches of actions (one numpy pass, no Python loop).

Used by the closed forms' batched path (:meth:`Constraint.project_closed_form_batch`),
which :meth:`Projector.project_batch` and the vector-env wrappers call. Each is exact: a
scalar multiplier per row on a monotone piecewise function, found by sorting its
breakpoints and solving on the right piece.

The sorts, cumulative sums and reductions run down the columns of transposed ``(d, N)``
arrays: numpy reduces a short axis row by row, but a long one in vectorised sweeps, which
for a batch of 64 six-entry actions is several times cheaper. Constant parameters
(``(d,)`` or ``(1, d)``) broadcast instead of being copied to ``(N, d)``.

- :func:`project_ball_box_batch` — ``||x - c(s)||^2 <= r(s)^2`` and a box.
- :func:`project_sum_box_batch` — ``sum x = total(s)`` and a box (capped simplex).
- :func:`project_simplex_batch` — ``x >= low``, ``sum x = total(s)`` (no upper bound binds).
"""

from __future__ import annotations

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import ProjectionError
from acrl_wrappers.projection.compiled import kernels

__all__ = ["project_ball_box_batch", "project_simplex_batch", "project_sum_box_batch"]


def project_ball_box_batch(
    a: FloatArray, center: FloatArray, r2: FloatArray, low: FloatArray, high: FloatArray
) -> FloatArray:
    """Row-wise projection onto ``{x in [low, high] : ||x - c||^2 <= r2}`` (round balls).

    Two fast cases answer most rows: ``clip(a)`` when it lies in the ball, and the radial
    projection ``c + r (a - c) / ||a - c||`` when it lies in the box (each is the
    projection onto a superset that lands in the set). The rest follow the KKT path
    ``x(t) = clip(c + t (a - c))``, ``t = 1 / (1 + mu)`` in ``(0, 1]``: each coordinate is
    linear in ``t`` between two breakpoints (where it meets a box face) and constant
    outside, so ``h(t) = ||x(t) - c||^2`` is non-decreasing and equals ``A t^2 + C``
    between consecutive breakpoints; sorting them finds the piece where ``h`` reaches
    ``r2``, and ``t = sqrt((r2 - C) / A)`` there.

    Args:
        a: ``(N, d)`` actions.
        center: ``(N, d)`` or ``(1, d)`` centres.
        r2: ``(N,)`` or ``(1,)`` squared radii, ``>= 0``.
        low: ``(d,)``, ``(1, d)`` or ``(N, d)`` lower box bounds.
        high: upper box bounds, shaped as ``low``.

    Raises:
        ProjectionError: a row's ball misses the box (empty set).

    Example:
        >>> x = project_ball_box_batch(np.array([[3.0, 4.0], [0.1, 0.0]]), np.zeros((1, 2)),
        ...                            np.array([1.0]), -np.ones(2), np.ones(2))
        >>> x.round(6).tolist()
        [[0.6, 0.8], [0.1, 0.0]]
    """
    out = np.minimum(np.maximum(a, low), high)
    gap = out - center
    far = np.einsum("ij,ij->i", gap, gap) > r2
    if not far.any():
        return out
    every = bool(far.all())  # all rows outside the ball (the usual case): no indexing
    todo = None if every else np.flatnonzero(far)
    a_, c_, r2_ = _take(a, todo), _take(center, todo), _take(r2, todo)
    lo_, hi_ = _take(np.atleast_2d(low), todo), _take(np.atleast_2d(high), todo)
    direction = a_ - c_
    norm2 = np.einsum("ij,ij->i", direction, direction)
    radial = c_ + np.sqrt(r2_ / norm2)[:, None] * direction
    inside = ((radial >= lo_) & (radial <= hi_)).all(axis=1)
    rows = np.arange(a.shape[0]) if todo is None else todo
    out[rows[inside]] = radial[inside]
    rest = np.flatnonzero(~inside)
    if rest.size:
        out[rows[rest]] = _ball_box_sorted(
            a_[rest], _take(c_, rest), _take(r2_, rest), _take(lo_, rest), _take(hi_, rest)
        )
    return out


def _take(x: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
    """``x[rows]``, or ``x`` itself for all rows (``None``) or a row that broadcasts."""
    return x if rows is None or x.shape[0] == 1 else x[rows]


def _ball_box_sorted(
    a: FloatArray, c: FloatArray, r2: FloatArray, lo: FloatArray, hi: FloatArray
) -> FloatArray:
    """The sorted-breakpoint solve of :func:`project_ball_box_batch` for the hard rows."""
    m = a.shape[0]
    gap0 = np.minimum(np.maximum(c, lo), hi) - c
    if np.any(np.einsum("ij,ij->i", gap0, gap0) > r2 * (1 + 1e-12)):
        raise ProjectionError(
            "the ball does not meet the action box (empty feasible set)", status="infeasible"
        )
    direction = a - c
    with np.errstate(divide="ignore", invalid="ignore"):
        t_lo, t_hi = (lo - c) / direction, (hi - c) / direction
    breaks = np.nan_to_num(np.concatenate([t_lo, t_hi], axis=1), nan=0.0)
    ends = np.concatenate([np.zeros((m, 1)), np.clip(breaks, 0.0, 1.0), np.ones((m, 1))], 1)
    breaks = np.sort(ends, axis=1)
    moved = c[:, None] + breaks[:, :, None] * direction[:, None]
    x_at = np.minimum(np.maximum(moved, lo[:, None]), hi[:, None])
    h_at = ((x_at - c[:, None]) ** 2).sum(axis=2)
    j = np.clip((h_at < r2[:, None]).sum(axis=1), 1, breaks.shape[1] - 1)
    rows = np.arange(m)
    t0, t1 = breaks[rows, j - 1], breaks[rows, j]
    mid = c + (0.5 * (t0 + t1))[:, None] * direction
    free = (mid > lo) & (mid < hi)
    fixed_gap = np.where(free, 0.0, np.minimum(np.maximum(mid, lo), hi) - c)
    big_a = np.where(free, direction**2, 0.0).sum(axis=1)
    big_c = (fixed_gap**2).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.sqrt(np.maximum(r2 - big_c, 0.0) / big_a)
    t = np.clip(np.where(big_a > 0.0, t, t0), t0, t1)
    return np.minimum(np.maximum(c + t[:, None] * direction, lo), hi)


def project_sum_box_batch(
    a: FloatArray, total: FloatArray, low: FloatArray, high: FloatArray
) -> FloatArray:
    """Row-wise projection onto ``{x in [low, high] : sum x = total}`` (the capped simplex).

    KKT: ``x(nu) = clip(a - nu)``; ``S(nu) = sum x(nu)`` is non-increasing and linear
    between the sorted breakpoints ``a_i - high_i`` (where entry ``i`` starts to move:
    slope ``-1``) and ``a_i - low_i`` (where it stops: slope ``+1``). One sort and two
    cumulative sums give ``S`` at every breakpoint; the piece where ``S`` crosses
    ``total`` gives ``nu`` by interpolation. Every row needs ``sum low <= total <= sum
    high`` (the caller checks). Compiled (:mod:`~acrl_wrappers.projection.sum_box_kernel`)
    where numba is installed.

    Args:
        a: ``(N, d)`` actions.
        total: ``(N,)`` or ``(1,)`` totals.
        low: ``(d,)``, ``(1, d)`` or ``(N, d)`` lower bounds (finite).
        high: upper bounds (finite), shaped as ``low``.

    Example:
        >>> project_sum_box_batch(np.array([[0.5, 0.5, 0.5]]), np.array([1.0]),
        ...                       np.zeros(3), np.ones(3)).round(6).tolist()
        [[0.333333, 0.333333, 0.333333]]
    """
    n, d = a.shape
    compiled = kernels("sum_box_kernel")
    if compiled is not None and n:
        out = np.empty((n, d))
        compiled.project_sum_box(
            a,
            np.broadcast_to(total, (n,)),
            np.broadcast_to(low, (n, d)),
            np.broadcast_to(high, (n, d)),
            out,
        )
        return out
    return _project_sum_box_numpy(a, total, low, high)


def _project_sum_box_numpy(
    a: FloatArray, total: FloatArray, low: FloatArray, high: FloatArray
) -> FloatArray:
    """:func:`project_sum_box_batch` in numpy: one sort and two cumulative sums for all rows."""
    n, d = a.shape
    at, lo, hi = a.T, _columns(low), _columns(high)  # (d, N), (d, N or 1)
    breaks = np.concatenate([at - hi, at - lo])  # (2d, N)
    order = np.argsort(breaks, axis=0)
    slope = np.cumsum(_SLOPE_CHANGES[d][order], axis=0)  # slope of S right of each breakpoint
    breaks.sort(axis=0)  # the same order as argsort's (cheaper than take_along_axis)
    sums = np.empty((2 * d, n))
    sums[0] = hi.sum(axis=0)
    np.cumsum(slope[:-1] * (breaks[1:] - breaks[:-1]), axis=0, out=sums[1:])
    sums[1:] += sums[0]
    j = np.minimum(np.maximum((sums > total).sum(axis=0) - 1, 0), 2 * d - 2)  # last above
    cols = np.arange(n)
    s0, k = sums[j, cols], slope[j, cols]
    with np.errstate(divide="ignore", invalid="ignore"):
        nu = breaks[j, cols] + np.where(k < 0, (s0 - total) / -k, 0.0)
    return np.minimum(np.maximum(a - nu[:, None], low), high)


def _columns(bound: FloatArray) -> FloatArray:
    """A ``(d,)``, ``(1, d)`` or ``(N, d)`` bound as columns: ``(d, 1)`` or ``(d, N)``."""
    return bound.reshape(-1, 1) if bound.ndim == 1 else bound.T


def project_simplex_batch(a: FloatArray, total: FloatArray, low: FloatArray) -> FloatArray:
    """Row-wise projection onto ``{x >= low : sum x = total}`` (a shifted simplex).

    The sort method (Held, Wolfe and Crowder; Duchi et al. 2008): with ``y = a - low``
    sorted in decreasing order ``u``, ``rho`` is the largest ``j`` with ``u_j > (sum_{i<=j}
    u_i - t) / j`` and ``x = low + max(y - theta, 0)`` with ``theta = (sum_{i<=rho} u_i -
    t) / rho``. Exact; the caller makes sure no upper bound binds (each ``high_i - low_i
    >= total - sum low``).

    Args:
        a: ``(N, d)`` actions.
        total: ``(N,)`` or ``(1,)`` totals, ``>= sum low``.
        low: ``(d,)`` lower bounds.

    Example:
        >>> project_simplex_batch(np.array([[0.5, 0.3, -0.4]]), np.array([1.0]),
        ...                       np.zeros(3)).round(6).tolist()
        [[0.6, 0.4, 0.0]]
    """
    n, d = a.shape
    y = a - low
    u = np.sort(y.T, axis=0)[::-1]  # (d, N), each column decreasing
    excess = np.cumsum(u, axis=0) - (total - low.sum())
    rho = (u * _COUNTS[d] > excess).sum(axis=0)  # the condition holds on a prefix
    theta = excess[rho - 1, np.arange(n)] / rho
    return np.maximum(y - theta[:, None], 0.0) + low


class _SlopeChanges(dict):  # type: ignore[type-arg]
    """``d -> [-1] * d + [+1] * d``, built once per dimension."""

    def __missing__(self, d: int) -> np.ndarray:
        self[d] = np.r_[-np.ones(d), np.ones(d)]
        return self[d]


_SLOPE_CHANGES = _SlopeChanges()


class _Counts(dict):  # type: ignore[type-arg]
    """``d -> [[1], [2], ..., [d]]`` (a column), built once per dimension."""

    def __missing__(self, d: int) -> np.ndarray:
        self[d] = np.arange(1.0, d + 1.0).reshape(-1, 1)
        return self[d]


_COUNTS = _Counts()
