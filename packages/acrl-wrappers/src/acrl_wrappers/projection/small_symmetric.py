"""Closed forms for symmetric 2 x 2 and 3 x 3 matrices: eigenvalues, eigenvalue clipping, PD test.

For the PSD family's small matrix actions LAPACK's ``eigh`` costs more in call overhead
than in arithmetic, so these closed forms answer the common cases (plain Python floats for
one matrix, numpy columns for a batch) and say where they cannot, for callers to use LAPACK.

A matrix is given by its upper-triangle entries row by row, unscaled: ``(m00, m01, m11)``
or ``(m00, m01, m02, m11, m12, m22)``.

- Eigenvalues: ``m ± hypot(h, m01)`` for 2 x 2; for 3 x 3 the trigonometric solution of
  the characteristic polynomial (Smith 1961), exact for diagonal matrices and within a
  few roundoffs of the matrix norm elsewhere, except near a double eigenvalue, where the
  pair's split is ill-conditioned (error ~ sqrt(roundoff)). There (``1 - |r| <``
  :data:`SPLIT`), and for entries so large or small that the formula would over- or
  underflow, the functions decline (``None`` / ``ok`` False).
- Clipping ``V diag(max(lambda, eps)) V^T`` needs one eigenvector, the one alone on its
  side of ``eps``: with ``k`` eigenvalues below ``eps`` it is ``X`` (k = 0), ``eps I``
  (k = n), ``X + (eps - l_1) P_1`` (k = 1) or, for 3 x 3, ``eps I + (l_3 - eps) P_3``
  (k = 2), with ``P = adj(X - mu I) / tr adj(X - mu I)`` the spectral projector of the
  simple eigenvalue ``mu``. The coefficient is at most the gap to the next eigenvalue,
  which bounds the error by the roundoff of the entries however small that gap is; only
  a trace at roundoff level (a gap below 1e-10 of the spread) makes it decline.
- :func:`clip_with_diagonal_at` — eigenvalue clipping of ``X + t E_kk`` with ``t`` such
  that the result's ``(k, k)`` entry is a given bound (the PSD cone inside a box that binds
  on one diagonal entry): Newton on ``t``, with the eigenvectors' squared ``k``-th entries
  ``adj(X - lambda I)_kk / prod_(j != i) (lambda_j - lambda_i)`` in closed form.
- :func:`positive_definite` — the LDL^T pivots of ``X - shift I``: a certificate that every
  eigenvalue exceeds ``shift`` (used to accept a projection's result without eigenvalues).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from acrl_wrappers._arrays import FloatArray

__all__ = [
    "SPLIT",
    "clip_small",
    "clip_small_batch",
    "clip_with_diagonal_at",
    "eigvalsh_small",
    "eigvalsh_small_batch",
    "positive_definite",
    "positive_definite_batch",
]

SPLIT = 1e-4
"""Declines when ``1 - |r| < SPLIT`` (a near-double eigenvalue; the error would exceed 1e-13)."""
_THIRD_TURN = 2.0 * math.pi / 3.0
_SCALE = (1e-50, 1e50)  # spreads p outside this range fall back (p^3 would over/underflow)
_TRACE = 1e-10  # declines when tr adj(X - mu I) <= _TRACE * spread^2
_ROOT_ITERATIONS = 8
_ROOT_STOP = 1e-12


# ---------------------------------------------------------------------- one matrix
def eigvalsh_small(m: Sequence[float]) -> tuple[float, ...] | None:
    """Eigenvalues, ascending, of a 1 x 1, 2 x 2 or 3 x 3 symmetric matrix; ``None`` if unsure.

    Example:
        >>> eigvalsh_small([2.0, 0.0, 0.0, 3.0, 0.0, 1.0])
        (1.0, 2.0, 3.0)
        >>> [round(v, 12) for v in eigvalsh_small([2.0, 1.0, 2.0])]
        [1.0, 3.0]
    """
    if len(m) == 1:
        return (m[0],)
    if len(m) == 3:
        a, b, d = m
        mean, half = 0.5 * (a + d), math.hypot(0.5 * (a - d), b)
        return mean - half, mean + half
    a, b, c, d, e, f = m
    off = b * b + c * c + e * e
    if off == 0.0:
        return tuple(sorted((a, d, f)))
    trace = a + d + f
    q = trace / 3.0
    a0, d0, f0 = a - q, d - q, f - q
    p = math.sqrt((a0 * a0 + d0 * d0 + f0 * f0 + 2.0 * off) / 6.0)
    if not _SCALE[0] < p < _SCALE[1]:  # LAPACK scales; NaN entries give NaN eigenvalues
        return (math.nan,) * 3 if math.isnan(trace + off) else None
    r = (a0 * (d0 * f0 - e * e) - b * (b * f0 - c * e) + c * (b * e - c * d0)) / (2.0 * p**3)
    if 1.0 - abs(r) < SPLIT:
        return None
    phi = math.acos(r) / 3.0
    top = q + 2.0 * p * math.cos(phi)
    bottom = q + 2.0 * p * math.cos(phi + _THIRD_TURN)
    return bottom, trace - top - bottom, top


def clip_small(m: Sequence[float], lam: Sequence[float], eps: float) -> list[float] | None:
    """Entries of ``V diag(max(lambda, eps)) V^T`` from ``m`` and its ascending eigenvalues.

    ``None`` when the 3 x 3 formula cannot tell the eigenvector apart (callers use LAPACK).

    Example:
        >>> clip_small([1.0, 0.0, -2.0], [-2.0, 1.0], 0.5)
        [1.0, 0.0, 0.5]
    """
    n = len(lam)
    if lam[0] >= eps:
        return list(m)
    if lam[-1] <= eps:
        return _scaled_identity(n, eps)
    if n == 2:
        a, b, d = m
        coef = (eps - lam[0]) / (lam[1] - lam[0])  # X + (eps - l1) adj(X - l1 I) / (l2 - l1)
        return [a + coef * (d - lam[0]), b - coef * b, d + coef * (a - lam[0])]
    two_below = lam[1] < eps
    mu = lam[2] if two_below else lam[0]
    a, b, c, d, e, f = m
    a, d, f = a - mu, d - mu, f - mu
    adj = [d * f - e * e, c * e - b * f, b * e - c * d, a * f - c * c, b * c - a * e, a * d - b * b]
    trace = adj[0] + adj[3] + adj[5]
    if not trace > _TRACE * (lam[2] - lam[0]) ** 2:
        return None
    if two_below:  # eps I + (l3 - eps) P3
        s = (lam[2] - eps) / trace
        return [
            eps + s * adj[0],
            s * adj[1],
            s * adj[2],
            eps + s * adj[3],
            s * adj[4],
            eps + s * adj[5],
        ]
    s = (eps - lam[0]) / trace  # X + (eps - l1) P1
    return [x + s * y for x, y in zip(m, adj, strict=True)]


def clip_with_diagonal_at(
    m: Sequence[float], k: int, bound: float, eps: float
) -> tuple[list[float], float] | None:
    """``(clip(X + t E_kk), t)`` where the clipped ``(k, k)`` entry equals ``bound``.

    Newton on ``t`` from 0 (the slope is ``w^T Omega w``: ``w`` the squared ``k``-th entries
    of the eigenvectors, ``Omega`` the divided differences of ``max(., eps)``), to
    ``1e-12``. ``None`` where the closed forms decline, the slope vanishes or Newton has
    not converged in eight steps (callers use LAPACK).

    Example:
        >>> y, t = clip_with_diagonal_at([2.0, 0.0, -1.0], 0, 1.5, 0.1)  # diag(2, -1)
        >>> [round(v, 12) for v in y], round(t, 12)
        ([1.5, 0.0, 0.1], -0.5)
    """
    pos = (0, 2) if len(m) == 3 else (0, 3, 5)
    s, det = _complement(m, k)
    entries, start, t = list(m), m[pos[k]], 0.0
    step = _residual_slope_2 if len(m) == 3 else _residual_slope_3
    for _ in range(_ROOT_ITERATIONS):
        entries[pos[k]] = start + t
        lam = eigvalsh_small(entries)
        if lam is None:
            return None
        residual, slope = step(lam, s, det, eps)
        residual -= bound
        if abs(residual) <= _ROOT_STOP:
            y = clip_small(entries, lam, eps)
            return None if y is None else (y, t)
        if not slope > 0.0:  # NaN, or E_kk outside what clipping moves
            return None
        t -= residual / slope
    return None


def _complement(m: Sequence[float], k: int) -> tuple[float, float]:
    """Trace and determinant of the block of ``X`` without row and column ``k``."""
    if len(m) == 3:
        other = m[2] if k == 0 else m[0]
        return other, other
    a, b, c, d, e, f = m
    if k == 0:
        return d + f, d * f - e * e
    if k == 1:
        return a + f, a * f - c * c
    return a + d, a * d - b * b


def _residual_slope_2(
    lam: Sequence[float], s: float, det: float, eps: float
) -> tuple[float, float]:
    """``(clip(X)_kk, d clip(X)_kk / d X_kk)`` of a 2 x 2 matrix from its eigenvalues.

    The squared ``k``-th eigenvector entries are ``adj(X - l_i I)_kk / (l_j - l_i)``, with
    ``adj(X - l I)_kk = s - l`` (``s`` the other diagonal entry); the slope is ``w^T Omega
    w`` with ``Omega`` the divided differences of ``max(., eps)``.
    """
    l1, l2 = lam
    gap = l2 - l1
    w1, w2 = (s - l1) / gap, (l2 - s) / gap
    c1, c2 = max(l1, eps), max(l2, eps)
    slope = w1 * w1 * (l1 > eps) + w2 * w2 * (l2 > eps) + 2.0 * w1 * w2 * (c2 - c1) / gap
    return c1 * w1 + c2 * w2, slope


def _residual_slope_3(
    lam: Sequence[float], s: float, det: float, eps: float
) -> tuple[float, float]:
    """:func:`_residual_slope_2` for 3 x 3: ``adj(X - l I)_kk = l^2 - s l + det``."""
    l1, l2, l3 = lam
    g12, g13, g23 = l2 - l1, l3 - l1, l3 - l2
    w1 = (l1 * l1 - s * l1 + det) / (g12 * g13)
    w2 = -(l2 * l2 - s * l2 + det) / (g12 * g23)
    w3 = (l3 * l3 - s * l3 + det) / (g13 * g23)
    c1, c2, c3 = max(l1, eps), max(l2, eps), max(l3, eps)
    slope = w1 * w1 * (l1 > eps) + w2 * w2 * (l2 > eps) + w3 * w3 * (l3 > eps)
    slope += 2.0 * (
        w1 * w2 * (c2 - c1) / g12 + w1 * w3 * (c3 - c1) / g13 + w2 * w3 * (c3 - c2) / g23
    )
    return c1 * w1 + c2 * w2 + c3 * w3, slope


def positive_definite(m: Sequence[float], shift: float) -> bool:
    """Whether ``X - shift I`` is positive definite, by its LDL^T pivots (all must be > 0).

    A ``True`` answer holds up to the pivots' roundoff (about 1e-15 of the entries); callers
    keep ``shift`` well below the eigenvalue bound they need.

    Example:
        >>> positive_definite([1.0, 0.5, 1.0], 0.4), positive_definite([1.0, 0.5, 1.0], 0.6)
        (True, False)
    """
    if len(m) == 1:
        return m[0] - shift > 0.0
    if len(m) == 3:
        a, b, d = m[0] - shift, m[1], m[2] - shift
        return a > 0.0 and d - b * b / a > 0.0
    a, b, c, d, e, f = m
    a, d, f = a - shift, d - shift, f - shift
    if not a > 0.0:
        return False
    d2 = d - b * b / a
    if not d2 > 0.0:
        return False
    e2 = e - b * c / a
    return f - c * c / a - e2 * e2 / d2 > 0.0


def _scaled_identity(n: int, eps: float) -> list[float]:
    return [eps] if n == 1 else ([eps, 0.0, eps] if n == 2 else [eps, 0.0, 0.0, eps, 0.0, eps])


# ---------------------------------------------------------------------- batches
def eigvalsh_small_batch(m: FloatArray) -> tuple[FloatArray, np.ndarray]:
    """Ascending eigenvalues ``(N, n)`` of ``(N, 3)`` or ``(N, 6)`` entry rows, and which hold.

    Rows where ``ok`` is False (3 x 3 matrices with a near-double eigenvalue, or of an
    extreme scale) are left for the caller to fill with LAPACK. NaN rows give NaN
    eigenvalues and count as ``ok``.
    """
    if m.shape[1] < 6:
        ok = np.ones(m.shape[0], dtype=bool)
        if m.shape[1] == 1:
            return m.copy(), ok
        a, b, d = m.T
        mean, half = 0.5 * (a + d), np.hypot(0.5 * (a - d), b)
        return np.stack([mean - half, mean + half], axis=1), ok
    a, b, c, d, e, f = m.T
    trace = a + d + f
    q = trace / 3.0
    a0, d0, f0 = a - q, d - q, f - q
    p = np.sqrt((a0 * a0 + d0 * d0 + f0 * f0 + 2.0 * (b * b + c * c + e * e)) / 6.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = (a0 * (d0 * f0 - e * e) - b * (b * f0 - c * e) + c * (b * e - c * d0)) / (2.0 * p**3)
    split = 1.0 - np.abs(r) < SPLIT  # False for NaN
    ok = ~(split | (p <= _SCALE[0]) | (p >= _SCALE[1]))
    phi = np.arccos(np.minimum(np.maximum(r, -1.0), 1.0)) / 3.0
    top = q + 2.0 * p * np.cos(phi)
    bottom = q + 2.0 * p * np.cos(phi + _THIRD_TURN)
    return np.stack([bottom, trace - top - bottom, top], axis=1), ok


def clip_small_batch(m: FloatArray, lam: FloatArray, eps: float) -> tuple[FloatArray, np.ndarray]:
    """:func:`clip_small` for ``(N, 3)`` or ``(N, 6)`` entry rows and their eigenvalues.

    Returns the clipped entries and which rows hold (the others are for LAPACK).
    """
    n = lam.shape[1]
    low, high = lam[:, 0], lam[:, -1]
    if n == 2:
        a, b, d = m.T
        with np.errstate(divide="ignore", invalid="ignore"):  # l1 = l2: X or eps I, below
            coef = np.where(low >= eps, 0.0, (eps - low) / (high - low))
            out = np.stack([a + coef * (d - low), b - coef * b, d + coef * (a - low)], axis=1)
        return _blend_identity(out, high <= eps, eps, n), np.ones(m.shape[0], dtype=bool)
    two_below = lam[:, 1] < eps
    mu = np.where(two_below, high, low)
    a, b, c, d, e, f = m.T
    a, d, f = a - mu, d - mu, f - mu
    adj = np.stack(
        [d * f - e * e, c * e - b * f, b * e - c * d, a * f - c * c, b * c - a * e, a * d - b * b],
        axis=1,
    )
    trace = adj[:, 0] + adj[:, 3] + adj[:, 5]
    base = np.where(two_below[:, None], _identity_row(eps), m)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = np.where(two_below, high - eps, eps - low) / trace
        out = base + s[:, None] * adj
    inside, below = low >= eps, high <= eps
    if inside.any():
        out[inside] = m[inside]
    ok = inside | below | (trace > _TRACE * (high - low) ** 2)
    return _blend_identity(out, below, eps, n), ok


def positive_definite_batch(m: FloatArray, shift: float) -> np.ndarray:
    """:func:`positive_definite` for ``(N, 1)``, ``(N, 3)`` or ``(N, 6)`` entry rows."""
    if m.shape[1] == 1:
        return m[:, 0] - shift > 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        if m.shape[1] == 3:
            a, b, d = m[:, 0] - shift, m[:, 1], m[:, 2] - shift
            return (a > 0.0) & (d - b * b / a > 0.0)
        a, b, c, d, e, f = m.T
        a, d, f = a - shift, d - shift, f - shift
        d2 = d - b * b / a
        e2 = e - b * c / a
        return (a > 0.0) & (d2 > 0.0) & (f - c * c / a - e2 * e2 / d2 > 0.0)


def _identity_row(eps: float) -> FloatArray:
    return np.array([eps, 0.0, 0.0, eps, 0.0, eps])


def _blend_identity(out: FloatArray, rows: np.ndarray, eps: float, n: int) -> FloatArray:
    """``out`` with ``eps I`` in ``rows`` (every eigenvalue at or below ``eps``)."""
    if rows.any():
        out[rows] = np.array(_scaled_identity(n, eps))
    return out
