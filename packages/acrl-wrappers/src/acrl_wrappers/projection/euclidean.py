"""Exact Euclidean projections onto simple sets intersected with a box.

Each function returns ``argmin_x ||x - a||`` over its set for one action ``a``. All are
exact: the separable ones reduce the KKT conditions to one scalar multiplier on a
monotone piecewise-linear function, found by a sorted sweep over its breakpoints
(``O(n log n)``); the ellipsoidal ones reduce to a scalar secular equation, solved by
safeguarded Newton steps. Action dimensions in RL are small, so the arithmetic runs on
Python floats, which for a handful of coordinates is several times faster than numpy's
per-call overhead.

- :func:`project_box` — ``low <= x <= high``.
- :func:`project_budget_box` — ``sum |w_i x_i| <= c`` (or ``sum max(w_i x_i, 0) <= c``) and box.
- :func:`project_slab_box` — ``lo <= w.x <= hi`` and box (sum bands, single linear rows).
- :func:`project_ellipsoid_box` — ``sum w_i (x_i - c_i)^2 <= bound`` and box (weighted balls).
- :func:`project_ellipsoid` — ``x^T Q x <= bound`` for a PSD matrix ``Q`` (no box).
"""

from __future__ import annotations

import math

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import ProjectionError

Vector = FloatArray | list[float]
"""A float64 array or a list of floats (lists skip a conversion on hot paths)."""


def _floats(v: Vector) -> list[float]:
    return v.tolist() if isinstance(v, np.ndarray) else v


__all__ = [
    "project_box",
    "project_budget_box",
    "project_ellipsoid",
    "project_ellipsoid_box",
    "project_slab_box",
]

_EMPTY = "the feasible set is empty for this observation (no point of the box satisfies the row)"


def project_box(a: FloatArray, low: FloatArray, high: FloatArray) -> FloatArray:
    """Projection onto the box ``low <= x <= high``.

    Example:
        >>> project_box(np.array([2.0, -0.5]), -np.ones(2), np.ones(2)).tolist()
        [1.0, -0.5]
    """
    return np.minimum(np.maximum(a, low), high)


def _sweep(value: float, slope: float, events: list[tuple[float, float]], target: float) -> float:
    """Where a non-increasing piecewise-linear ``f(mu)``, ``mu >= 0``, falls to ``target``.

    Args:
        value: ``f(0)``, above ``target``.
        slope: the slope just right of 0 (``<= 0``).
        events: ``(mu, change of slope)`` at each breakpoint ``mu > 0``.
        target: the level to reach.

    Raises:
        ProjectionError: if ``f`` never reaches ``target`` (empty feasible set).
    """
    mu = 0.0
    for point, change in sorted(events):
        reached = value + slope * (point - mu)
        if reached <= target:
            break
        mu, value = point, reached
        slope += change
    if slope >= 0.0:
        raise ProjectionError(_EMPTY, status="infeasible")
    return mu + (value - target) / -slope


def project_budget_box(
    a: Vector,
    w: Vector,
    bound: float,
    low: Vector,
    high: Vector,
    *,
    positive_only: bool = False,
) -> FloatArray:
    """Projection onto ``{x in box : sum |w_i x_i| <= bound}`` (or ``sum max(w_i x_i, 0)``).

    The box must contain 0 and ``bound >= 0``. KKT: ``x_i = sign(a_i) min(cap_i,
    max(0, |a_i| - mu |w_i|))`` on the terms that count (all for the L1 budget, those
    with ``w_i a_i > 0`` for positive power), ``x_i = clip(a_i)`` elsewhere; ``cap_i`` is
    the box limit on ``a_i``'s side. The total power is piecewise linear and
    non-increasing in ``mu``; a sweep over its breakpoints gives ``mu`` exactly.

    Example:
        >>> x = project_budget_box(np.array([0.9, 0.6]), np.ones(2), 1.0, -np.ones(2), np.ones(2))
        >>> x.round(6).tolist()
        [0.65, 0.35]
    """
    al, wl, lows, highs = _floats(a), _floats(w), _floats(low), _floats(high)
    x = []
    terms = []  # (index, sign, |a_i|, |w_i|, cap_i)
    power = 0.0
    for i, v in enumerate(al):
        lo, hi, wi = lows[i], highs[i], wl[i]
        x.append(hi if v > hi else (lo if v < lo else v))
        if wi == 0.0 or (positive_only and wi * v <= 0.0):
            continue
        mag, wt = abs(v), abs(wi)
        cap = hi if v > 0.0 else -lo
        terms.append((i, 1.0 if v > 0.0 else -1.0, mag, wt, cap))
        power += wt * (cap if mag > cap else mag)
    if power <= bound:
        return np.array(x)
    slope, events = 0.0, []
    for _, _, mag, wt, cap in terms:
        if mag > cap:  # flat at the cap, then shrinking, then zero
            events += [((mag - cap) / wt, -wt * wt), (mag / wt, wt * wt)]
        elif mag > 0.0:  # shrinking from the start
            slope -= wt * wt
            events.append((mag / wt, wt * wt))
    mu = _sweep(power, slope, events, bound)
    for i, sign, mag, wt, cap in terms:
        x[i] = sign * min(cap, max(0.0, mag - mu * wt))
    return np.array(x)


def project_slab_box(
    a: Vector,
    w: Vector,
    lo: float,
    hi: float,
    low: Vector,
    high: Vector,
) -> FloatArray:
    """Projection onto ``{x in box : lo <= w.x <= hi}``.

    KKT: ``x = clip(a - nu w)``; ``w.x`` is piecewise linear and non-increasing in ``nu``,
    so a sweep over its breakpoints gives ``nu`` exactly (downwards for ``w.x > hi``,
    upwards for ``w.x < lo``).

    Raises:
        ProjectionError: if no point of the box satisfies the row.

    Example:
        >>> box = -np.ones(2), np.ones(2)
        >>> project_slab_box(np.array([0.8, 0.8]), np.ones(2), 0.0, 1.0, *box).round(6).tolist()
        [0.5, 0.5]
    """
    al, wl, lows, highs = _floats(a), _floats(w), _floats(low), _floats(high)
    x = [min(max(v, l_), h_) for v, l_, h_ in zip(al, lows, highs, strict=True)]
    value = sum(wi * xi for wi, xi in zip(wl, x, strict=True))
    if lo <= value <= hi:
        return np.array(x)
    # Sweep in the direction that moves w.x toward the band: s = +1 lowers it, -1 raises it.
    s, target = (1.0, hi) if value > hi else (-1.0, -lo)
    slope, events = 0.0, []
    for v, wi, l_, h_ in zip(al, wl, lows, highs, strict=True):
        ws = s * wi
        if ws == 0.0:
            continue
        start, end = sorted(((v - h_) / ws, (v - l_) / ws))  # coordinate moves freely in between
        if start > 0.0:
            events += [(start, -ws * ws), (end, ws * ws)]
        elif end > 0.0:
            slope -= ws * ws
            events.append((end, ws * ws))
    nu = s * _sweep(s * value, slope, events, target)
    return np.array(
        [min(max(v - nu * wi, l_), h_) for v, wi, l_, h_ in zip(al, wl, lows, highs, strict=True)]
    )


def project_ellipsoid_box(
    a: Vector,
    w: Vector,
    center: Vector,
    bound: float,
    low: Vector,
    high: Vector,
    *,
    max_iter: int = 100,
) -> FloatArray:
    """Projection onto ``{x in box : sum_i w_i (x_i - c_i)^2 <= bound}`` with ``w >= 0``.

    A round ball whose radial projection stays in the box is answered directly. Otherwise,
    KKT: ``x_i(mu) = clip((a_i + mu w_i c_i) / (1 + mu w_i))``. The constraint value
    ``h(mu)`` decreases in ``mu``; Newton steps on ``1/sqrt(h) - 1/sqrt(bound)`` (exact in
    one step for a round ball without active box faces) inside a bisection bracket
    find ``mu``. The returned point lies on the boundary to within ``1e-12 * bound``.

    Raises:
        ProjectionError: if the set is empty (the box misses the ellipsoid).

    Example:
        >>> x = project_ellipsoid_box(
        ...     np.array([3.0, 4.0]), np.ones(2), np.zeros(2), 1.0, -np.ones(2), np.ones(2))
        >>> x.round(6).tolist()
        [0.6, 0.8]
    """
    al, wl, cl, lows, highs = _floats(a), _floats(w), _floats(center), _floats(low), _floats(high)
    if wl.count(wl[0]) == len(wl) and wl[0] > 0.0:  # a round ball: scale towards the centre
        squared = wl[0] * sum((ai - ci) ** 2 for ai, ci in zip(al, cl, strict=True))
        if squared > bound:
            scale = math.sqrt(bound / squared)
            x = [ci + (ai - ci) * scale for ai, ci in zip(al, cl, strict=True)]
            if all(lo <= xi <= hi for xi, lo, hi in zip(x, lows, highs, strict=True)):
                return np.array(x)
    coords = list(zip(al, wl, cl, lows, highs, strict=True))

    def point(mu: float) -> list[float]:
        return [
            min(max((ai + mu * wi * ci) / (1.0 + mu * wi), lo), hi) for ai, wi, ci, lo, hi in coords
        ]

    def value(x: list[float]) -> float:
        return sum(wi * (xi - ci) ** 2 for xi, (_, wi, ci, _, _) in zip(x, coords, strict=True))

    x = point(0.0)
    h = value(x)
    if h <= bound:
        return np.array(x)
    limit = [
        min(max(ci if wi > 0.0 else xi, lo), hi)
        for xi, (_, wi, ci, lo, hi) in zip(x, coords, strict=True)
    ]
    if value(limit) > bound:
        raise ProjectionError(
            "the ellipsoid does not meet the action box (empty feasible set)", status="infeasible"
        )
    if bound == 0.0:
        return np.array(limit)
    target = 1.0 / math.sqrt(bound)
    lo_mu, hi_mu, mu = 0.0, math.inf, 0.0
    for _ in range(max_iter):
        if abs(h - bound) <= 1e-12 * bound:  # on the boundary (violation <= 1e-12 * bound)
            return np.array(x)
        if h < bound:
            hi_mu = mu
        else:
            lo_mu = mu
        if hi_mu - lo_mu <= 1e-15 * (1.0 + hi_mu) < math.inf:
            break
        # derivative of h over the coordinates strictly inside the box
        dh = 0.0
        for xi, (ai, wi, ci, lo, hi) in zip(x, coords, strict=True):
            if lo < xi < hi:
                dh -= 2.0 * wi * wi * (ai - ci) ** 2 / (1.0 + mu * wi) ** 3
        step = math.inf
        if dh < 0.0:
            psi = 1.0 / math.sqrt(h) - target
            step = mu + psi / (0.5 * h**-1.5 * dh)
        if not lo_mu < step < hi_mu:  # safeguard: bisect, or grow the bracket
            step = 0.5 * (lo_mu + hi_mu) if math.isfinite(hi_mu) else max(2.0 * lo_mu, 1.0)
        mu = step
        x = point(mu)
        h = value(x)
    return np.array(point(hi_mu) if math.isfinite(hi_mu) else limit)


def project_ellipsoid(a: FloatArray, q: FloatArray, bound: float) -> FloatArray:
    """Projection onto ``{x : x^T Q x <= bound}`` for a symmetric PSD ``Q`` (no box).

    Rotates into ``Q``'s eigenbasis, where the set is an axis-aligned ellipsoid, and
    solves the same secular equation as :func:`project_ellipsoid_box`.

    Example:
        >>> x = project_ellipsoid(np.array([2.0, 0.0]), np.diag([4.0, 1.0]), 1.0)
        >>> x.round(6).tolist()
        [0.5, 0.0]
    """
    eigval, eigvec = np.linalg.eigh(q)
    eigval = np.maximum(eigval, 0.0)
    y = eigvec.T @ a
    inf = np.full_like(y, np.inf)
    z = project_ellipsoid_box(y, eigval, np.zeros_like(y), bound, -inf, inf)
    return eigvec @ z
