"""Exact projections of one action onto a fixed sum: the simplex and the capped simplex.

Plain Python floats (an RL action has a handful of entries, where numpy's per-call cost
dominates); the batched counterparts are in :mod:`~acrl_wrappers.projection.batched`.
Both are the KKT solution ``x = clip(a - nu)`` with the scalar ``nu`` where the sum of
``x`` reaches ``total``:

- :func:`project_simplex` — ``x >= low``, ``sum x = total``: the sort method (Held, Wolfe
  and Crowder; Duchi et al. 2008), the same arithmetic as
  :func:`~acrl_wrappers.projection.batched.project_simplex_batch`.
- :func:`project_sum_box` — ``low <= x <= high``, ``sum x = total``: a sweep over the
  sorted breakpoints of the piecewise-linear sum.

The caller checks that the set is non-empty (``sum low <= total <= sum high``).
"""

from __future__ import annotations

__all__ = ["project_simplex", "project_sum_box"]


def project_simplex(a: list[float], total: float, low: list[float]) -> list[float]:
    """Projection onto ``{x >= low : sum x = total}`` (no upper bound may bind).

    With ``y = a - low`` sorted in decreasing order ``u``, ``theta = (sum_{i<=rho} u_i -
    spare) / rho`` for the largest ``rho`` with ``rho u_rho > sum_{i<=rho} u_i - spare``
    (``spare = total - sum low``), and ``x = low + max(y - theta, 0)``.

    Example:
        >>> [round(v, 6) for v in project_simplex([0.5, 0.3, -0.4], 1.0, [0.0, 0.0, 0.0])]
        [0.6, 0.4, 0.0]
    """
    y = [v - lo for v, lo in zip(a, low, strict=True)]
    spare = total - sum(low)
    if not spare > 0.0:  # the set is the single point low
        return list(low)
    theta = cum = 0.0
    for j, u in enumerate(sorted(y, reverse=True), 1):
        cum += u
        excess = cum - spare
        if not u * j > excess:  # the condition holds on a prefix
            break
        theta = excess / j
    return [(v - theta if v > theta else 0.0) + lo for v, lo in zip(y, low, strict=True)]


def project_sum_box(
    a: list[float], total: float, low: list[float], high: list[float]
) -> list[float]:
    """Projection onto ``{low <= x <= high : sum x = total}`` (the capped simplex).

    ``S(nu) = sum clip(a - nu)`` falls from ``sum high`` to ``sum low``, linearly between
    the breakpoints ``a_i - high_i`` (entry ``i`` starts to move: slope ``-1``) and ``a_i -
    low_i`` (it stops: slope ``+1``); the sweep walks them in order (two sorted lists,
    merged) to the piece where ``S`` reaches ``total``.

    Example:
        >>> x = project_sum_box([0.9, 0.6, -0.2], 1.0, [0.0] * 3, [0.5, 0.5, 1.0])
        >>> [round(v, 6) for v in x]
        [0.5, 0.5, 0.0]
    """
    starts = sorted([v - h for v, h in zip(a, high, strict=True)])  # slope -1 from here
    stops = sorted([v - lo for v, lo in zip(a, low, strict=True)])  # slope +1 from here
    d = len(starts)
    nu, value, slope = starts[0], sum(high), 0.0
    i = j = 0
    while j < d:  # merge the two sorted lists (a start before a stop at the same point)
        if i < d and starts[i] <= stops[j]:
            point, change, i = starts[i], -1.0, i + 1
        else:
            point, change, j = stops[j], 1.0, j + 1
        reached = value + slope * (point - nu)
        if reached <= total:
            break
        nu, value = point, reached
        slope += change
    if slope < 0.0:
        nu += (value - total) / -slope
    return [
        (h if v - nu > h else (lo if v - nu < lo else v - nu))
        for v, lo, h in zip(a, low, high, strict=True)
    ]
