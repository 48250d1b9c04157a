"""Compiled batch kernels for 2 x 2 and 3 x 3 ``svec`` PSD actions (numba, the ``fast`` extra).

A batch of 64 small matrices costs numpy more in call overhead than in arithmetic: the
closed forms of :mod:`~acrl_wrappers.projection.small_symmetric` take some 30 numpy calls
each, and the rows where the box binds go one by one in plain Python. With numba
installed (``pip install "acrl-wrappers[fast]"``) the same closed forms run compiled,
one loop over the rows, for the three hot paths of :class:`~acrl_wrappers.PSDConstraint`:

- :func:`violation` — the violation of each row (box part plus ``sum max(0, eps - l_i)``);
- :func:`project` — eigenvalue clipping; where the clipping leaves the box by one
  diagonal entry, scalar Newton on that entry's multiplier
  (:func:`~acrl_wrappers.projection.small_symmetric.clip_with_diagonal_at`); where that
  guess is refuted or several entries leave, the semismooth Newton of
  :mod:`~acrl_wrappers.projection.psd_box`; then made feasible along the segment to the
  anchor as :func:`~acrl_wrappers.projection.psd_box.project_psd_box` does;
- :func:`certified` — the LDL^T certificate that accepts a projection's result.

Each kernel marks the rows it declines (a near-double eigenvalue, an extreme scale, a
Newton that has not converged); the caller gives those to the numpy path, so results do
not depend on whether numba is installed beyond roundoff.
:class:`~acrl_wrappers.PSDConstraint` imports this module where numba is installed and
``ACRL_NUMBA`` is not ``0``.
Compiled code is cached on disk (numba's ``cache=True``): the first process compiles
for a few seconds, later ones load it.
"""

from __future__ import annotations

import math
from typing import Any

import numba
import numpy as np

from acrl_wrappers.projection import small_symmetric
from acrl_wrappers.projection.psd_box import (
    _BOX_SLACK,
    _NEWTON_ITERATIONS,
    _NEWTON_RIDGE,
    _NEWTON_STOP,
)
from acrl_wrappers.projection.small_symmetric import (
    _ROOT_ITERATIONS,
    _ROOT_STOP,
    _SCALE,
    _THIRD_TURN,
    _TRACE,
    SPLIT,
)

__all__ = ["certified", "project", "violation"]

_SCALE_LOW, _SCALE_HIGH = _SCALE
_jit = numba.njit(cache=True, nogil=True)


# ---------------------------------------------------------------------- one row
# the same plain Python as the one-matrix closed forms, compiled for tuples
_slope_2 = _jit(small_symmetric._residual_slope_2)
_slope_3 = _jit(small_symmetric._residual_slope_3)
_complement = _jit(small_symmetric._complement)
_positive_definite = _jit(small_symmetric.positive_definite)


@_jit
def _entries(x: Any, scale: Any, m: Any) -> bool:
    """Unscaled matrix entries of one ``svec`` row into ``m``; False if any is not finite."""
    finite = True
    for j in range(x.shape[0]):
        m[j] = x[j] / scale[j]
        if not math.isfinite(x[j]):
            finite = False
    return finite


@_jit
def _eigenvalues(m: Any, lam: Any) -> bool:
    """Ascending eigenvalues of entries ``m`` into ``lam``; False where the closed form declines."""
    if m.shape[0] == 3:
        mean, half = 0.5 * (m[0] + m[2]), math.hypot(0.5 * (m[0] - m[2]), m[1])
        lam[0], lam[1] = mean - half, mean + half
        return True
    a, b, c, d, e, f = m[0], m[1], m[2], m[3], m[4], m[5]
    trace = a + d + f
    q = trace / 3.0
    a0, d0, f0 = a - q, d - q, f - q
    p = math.sqrt((a0 * a0 + d0 * d0 + f0 * f0 + 2.0 * (b * b + c * c + e * e)) / 6.0)
    if not _SCALE_LOW < p < _SCALE_HIGH:
        return False
    r = (a0 * (d0 * f0 - e * e) - b * (b * f0 - c * e) + c * (b * e - c * d0)) / (2.0 * p**3)
    if 1.0 - abs(r) < SPLIT:
        return False
    phi = math.acos(r) / 3.0
    top = q + 2.0 * p * math.cos(phi)
    bottom = q + 2.0 * p * math.cos(phi + _THIRD_TURN)
    lam[0], lam[1], lam[2] = bottom, trace - top - bottom, top
    return True


@_jit
def _clip(m: Any, lam: Any, eps: float, out: Any) -> bool:
    """Entries of ``V diag(max(lambda, eps)) V^T`` into ``out`` (as ``clip_small``)."""
    d, n = m.shape[0], lam.shape[0]
    if lam[0] >= eps:
        for j in range(d):
            out[j] = m[j]
        return True
    if lam[n - 1] <= eps:
        for j in range(d):
            out[j] = 0.0
        out[0] = eps
        out[d - 1] = eps
        if n == 3:
            out[3] = eps
        return True
    if n == 2:
        coef = (eps - lam[0]) / (lam[1] - lam[0])
        out[0] = m[0] + coef * (m[2] - lam[0])
        out[1] = m[1] - coef * m[1]
        out[2] = m[2] + coef * (m[0] - lam[0])
        return True
    two_below = lam[1] < eps
    mu = lam[2] if two_below else lam[0]
    a, b, c, d_, e, f = m[0] - mu, m[1], m[2], m[3] - mu, m[4], m[5] - mu
    adj0, adj1, adj2 = d_ * f - e * e, c * e - b * f, b * e - c * d_
    adj3, adj4, adj5 = a * f - c * c, b * c - a * e, a * d_ - b * b
    trace = adj0 + adj3 + adj5
    if not trace > _TRACE * (lam[2] - lam[0]) ** 2:
        return False
    if two_below:
        s = (lam[2] - eps) / trace
        out[0], out[1], out[2] = eps + s * adj0, s * adj1, s * adj2
        out[3], out[4], out[5] = eps + s * adj3, s * adj4, eps + s * adj5
        return True
    s = (eps - lam[0]) / trace
    out[0], out[1], out[2] = m[0] + s * adj0, m[1] + s * adj1, m[2] + s * adj2
    out[3], out[4], out[5] = m[3] + s * adj3, m[4] + s * adj4, m[5] + s * adj5
    return True


@_jit
def _diagonal_clip(m: Any, k: int, bound: float, eps: float, out: Any, lam: Any) -> float:
    """``clip(X + t E_kk)`` into ``out`` with its ``(k, k)`` entry at ``bound``; returns ``t``.

    Newton on ``t`` from 0 (``clip_with_diagonal_at``); NaN where it declines.
    """
    d = m.shape[0]
    if d == 3:
        pos = 2 * k
        s, det = _complement((m[0], m[1], m[2]), k)
    else:
        pos = (0, 3, 5)[k]
        s, det = _complement((m[0], m[1], m[2], m[3], m[4], m[5]), k)
    entries = m.copy()
    start, t = m[pos], 0.0
    for _ in range(_ROOT_ITERATIONS):
        entries[pos] = start + t
        if not _eigenvalues(entries, lam):
            return math.nan
        if d == 3:
            residual, slope = _slope_2((lam[0], lam[1]), s, det, eps)
        else:
            residual, slope = _slope_3((lam[0], lam[1], lam[2]), s, det, eps)
        residual -= bound
        if abs(residual) <= _ROOT_STOP:
            return t if _clip(entries, lam, eps, out) else math.nan
        if not slope > 0.0:
            return math.nan
        t -= residual / slope
    return math.nan


# ---------------------------------------------------------------------- batches
@_jit
def violation(x: Any, scale: Any, eps: float, low: Any, high: Any, out: Any, ok: Any) -> None:
    """Each row's violation into ``out`` (NaN for non-finite rows); ``ok`` False where declined."""
    rows, dim = x.shape
    n = 2 if dim == 3 else 3
    m, lam = np.empty(dim), np.empty(n)
    for i in range(rows):
        ok[i] = True
        if not _entries(x[i], scale, m):
            out[i] = math.nan
            continue
        if not _eigenvalues(m, lam):
            ok[i] = False
            continue
        total = 0.0
        for j in range(dim):
            total += max(x[i, j] - high[j], 0.0) + max(low[j] - x[i, j], 0.0)
        for j in range(n):
            total += max(eps - lam[j], 0.0)
        out[i] = total


@_jit
def project(
    x: Any,
    scale: Any,
    iu: Any,
    eps: float,
    low: Any,
    high: Any,
    anchor: Any,
    anchor_min: float,
    out: Any,
    done: Any,
) -> None:
    """Projections onto ``{X >= eps I} ∩ box`` into ``out``; ``done`` False where declined.

    Per row: clipping where it lands in the box; where it leaves the box by one diagonal
    entry, scalar Newton on that entry's multiplier; where that guess is refuted (or
    several entries leave), the semismooth Newton of ``psd_box._newton``; then the step
    toward ``anchor`` (``lambda_min`` ``anchor_min``) where ``lambda_min < eps`` by roundoff.
    ``iu`` is the ``(2, dim)`` matrix row and column of each ``svec`` entry.
    """
    rows, dim = x.shape
    n = 2 if dim == 3 else 3
    m, lam, y = np.empty(dim), np.empty(n), np.empty(dim)
    for i in range(rows):
        done[i] = False
        if not (_entries(x[i], scale, m) and _eigenvalues(m, lam) and _clip(m, lam, eps, y)):
            continue
        leaving, entry = 0, -1
        for j in range(dim):
            y[j] *= scale[j]
            if y[j] > high[j] + _BOX_SLACK or y[j] < low[j] - _BOX_SLACK:
                leaving += 1
                entry = j
        if leaving == 0:
            for j in range(dim):
                out[i, j] = min(max(y[j], low[j]), high[j])
            done[i] = True
            continue
        solved = leaving == 1 and iu[0, entry] == iu[1, entry]
        if solved:
            solved = _one_diagonal(m, entry, iu[0, entry], scale, eps, low, high, y, lam)
        if not solved:
            solved = _semismooth_newton(x[i], scale, iu, eps, low, high, y)
        if not solved:
            continue
        for j in range(dim):
            y[j] = min(max(y[j], low[j]), high[j])
            m[j] = y[j] / scale[j]
        smallest = _smallest_eigenvalue(m, iu, lam)
        if smallest < eps:  # lambda_min is concave: the segment to the anchor reaches eps
            theta = (eps - smallest) / max(anchor_min - smallest, 1e-300)
            theta = min(theta * (1 + 1e-9) + 1e-15, 1.0)
            for j in range(dim):  # clipped: the step's roundoff can leave the box by 1 ulp
                y[j] = min(max((1 - theta) * y[j] + theta * anchor[j], low[j]), high[j])
        for j in range(dim):
            out[i, j] = y[j]
        done[i] = True


@_jit
def _smallest_eigenvalue(m: Any, iu: Any, lam: Any) -> float:
    """``lambda_min`` of entries ``m``: the closed form, else LAPACK (e.g. a double eigenvalue)."""
    if _eigenvalues(m, lam):
        return lam[0]
    n = lam.shape[0]
    mat = np.empty((n, n))
    for j in range(m.shape[0]):
        mat[iu[0, j], iu[1, j]] = mat[iu[1, j], iu[0, j]] = m[j]
    return np.linalg.eigvalsh(mat)[0]


@_jit
def _one_diagonal(
    m: Any, entry: int, k: int, scale: Any, eps: float, low: Any, high: Any, y: Any, lam: Any
) -> bool:
    """The guess ``z = t e_entry`` (the clipping ``y`` leaves the box at diagonal ``entry``).

    Solves for ``t`` (:func:`_diagonal_clip`) into ``y``; False where the answer refutes
    the guess (``t`` of the wrong sign, another entry outside the box) or Newton declines.
    """
    upper = y[entry] > high[entry]
    bound = high[entry] if upper else low[entry]
    t = _diagonal_clip(m, k, bound, eps, y, lam)
    if not (t <= 0.0 if upper else t >= 0.0):  # NaN: declined
        return False
    for j in range(y.shape[0]):
        y[j] = bound if j == entry else y[j] * scale[j]
        if y[j] > high[j] + _BOX_SLACK or y[j] < low[j] - _BOX_SLACK:
            return False
    return True


@_jit
def _semismooth_newton(
    u: Any, scale: Any, iu: Any, eps: float, low: Any, high: Any, y: Any
) -> bool:
    """``psd_box._newton`` for one row: ``y = P(u + z)``, ``y = clip(y - z)``, into ``y``.

    LAPACK's ``eigh`` per iterate, the Jacobian ``J_lm = sum_ij T_l,ij Omega_ij T_m,ij``
    (``T_l = V^T S_l V``), identity rows for the entries strictly inside the box; the
    Levenberg-Marquardt ridge where the plain step exceeds the box's width. False where it
    has not converged to ``1e-12`` in ``_NEWTON_ITERATIONS``.
    """
    dim = u.shape[0]
    n = 2 if dim == 3 else 3
    span = 0.0
    for j in range(dim):
        span = max(span, high[j] - low[j])
    z = np.zeros(dim)
    mat = np.empty((n, n))
    residual, inside = np.empty(dim), np.empty(dim, dtype=np.bool_)
    t = np.empty((dim, n, n))
    omega = np.empty((n, n))
    for _ in range(_NEWTON_ITERATIONS):
        for j in range(dim):
            mat[iu[0, j], iu[1, j]] = mat[iu[1, j], iu[0, j]] = (u[j] + z[j]) / scale[j]
        lam, vectors = np.linalg.eigh(mat)
        worst = 0.0
        for j in range(dim):
            r, c = iu[0, j], iu[1, j]
            value = 0.0
            for q in range(n):
                value += vectors[r, q] * max(lam[q], eps) * vectors[c, q]
            y[j] = value * scale[j]
            shifted = y[j] - z[j]
            inside[j] = low[j] < shifted < high[j]
            residual[j] = y[j] - min(max(shifted, low[j]), high[j])
            worst = max(worst, abs(residual[j]))
        if worst <= _NEWTON_STOP:
            return True
        for p in range(n):
            for q in range(n):
                lp, lq = max(lam[p], eps), max(lam[q], eps)
                if lam[p] > eps and lam[q] > eps:
                    omega[p, q] = 1.0
                elif lam[p] <= eps and lam[q] <= eps:
                    omega[p, q] = 0.0
                else:
                    omega[p, q] = (lp - lq) / (lam[p] - lam[q])
        for j in range(dim):  # T_j = V^T S_j V, S_j the matrix of the unit svec entry j
            r, c = iu[0, j], iu[1, j]
            w = 1.0 / scale[j]
            for p in range(n):
                for q in range(n):
                    value = vectors[r, p] * vectors[c, q]
                    if r != c:
                        value += vectors[c, p] * vectors[r, q]
                    t[j, p, q] = w * value
        system = np.empty((dim, dim))
        for a in range(dim):
            for b in range(dim):
                if inside[a]:
                    system[a, b] = 1.0 if a == b else 0.0
                    continue
                value = 0.0
                for p in range(n):
                    for q in range(n):
                        value += t[a, p, q] * omega[p, q] * t[b, p, q]
                system[a, b] = value + (_NEWTON_RIDGE if a == b else 0.0)
        step = np.linalg.solve(system, residual)
        if not np.abs(step).max() <= span:
            ridge = np.abs(residual).max()
            for a in range(dim):
                if not inside[a]:
                    system[a, a] += ridge - _NEWTON_RIDGE
            step = np.linalg.solve(system, residual)
        z -= step
    return False


@_jit
def certified(
    x: Any, scale: Any, low: Any, high: Any, eps: float, roundoff: float, margin: float
) -> bool:
    """Every row in the box and ``X - (eps - margin) I`` certified positive definite (LDL^T).

    ``roundoff`` bounds the pivots' error relative to the entries; rows whose entries are
    too large for that bound to stay below ``margin`` are not certified.
    """
    shift = eps - margin
    rows, dim = x.shape
    m = np.empty(dim)
    for i in range(rows):
        big = abs(eps)
        for j in range(dim):
            v = x[i, j]
            if not low[j] <= v <= high[j]:  # False for NaN
                return False
            big = max(big, abs(v))
            m[j] = v / scale[j]
        if not big * roundoff < margin:
            return False
        if dim == 3:
            certain = _positive_definite((m[0], m[1], m[2]), shift)
        else:
            certain = _positive_definite((m[0], m[1], m[2], m[3], m[4], m[5]), shift)
        if not certain:
            return False
    return True
