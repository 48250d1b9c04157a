"""Exact Euclidean projections in torch, batched and differentiable (closed forms).

Each projection onto "one constraint and the box" has a single multiplier ``nu`` and a
path ``x(nu)`` that is a clip of something affine in ``nu``; the constrained quantity is
monotone and piecewise simple in ``nu`` between breakpoints (where a coordinate meets a
box face or zero). The breakpoints are evaluated all at once (``O(N d^2)``, no sort), the
piece holding the root is bracketed, and on that piece the root has a closed form over
the coordinates that are free there. That closed form is evaluated with autograd on, so
the gradient is the exact derivative of the projection on the active set (implicit
differentiation of the KKT system with the active set fixed, written out).

- :func:`project_slab_box` — ``{lo <= x <= hi : L <= r . x <= U}``: a half-space or band
  and the box (single linear rows, sum bands, simplices, capped simplices).
- :func:`project_budget_box` — ``{sum_i u_i |x_i| <= c}`` and a box containing 0 (the
  weighted L1 "power" budget, and positive power, whose free coordinates have ``u_i = 0``).
- :func:`project_ball_box` — ``{||x - c||^2 <= r2}`` and the box (round balls).
"""

from __future__ import annotations

import torch

__all__ = ["project_ball_box", "project_budget_box", "project_slab_box"]

_INF = float("inf")
_ROUND = 1e-12  # a point this close to the boundary counts as inside (the identity branch)


def _bracket_midpoint(
    breaks: torch.Tensor, values: torch.Tensor, target: torch.Tensor, increasing: bool
) -> torch.Tensor:
    """Midpoint of the breakpoint interval where a monotone piecewise function meets ``target``.

    Args:
        breaks: ``(N, K)`` breakpoints (``nan`` for unused slots).
        values: ``(N, K)`` the function at each breakpoint.
        target: ``(N,)`` target values.
        increasing: whether the function is non-decreasing (else non-increasing).

    Returns:
        ``(N,)`` a point strictly inside the piece that holds the root.
    """
    t = target[:, None]
    valid = ~torch.isnan(breaks)
    below = (values <= t) if increasing else (values >= t)
    left = torch.where(valid & below, breaks, -_INF).amax(dim=1)
    right = torch.where(valid & ~below, breaks, _INF).amin(dim=1)
    finite_left = torch.isfinite(left)
    finite_right = torch.isfinite(right)
    mid = 0.5 * (left + right)
    mid = torch.where(finite_left & ~finite_right, left + 1.0, mid)
    mid = torch.where(~finite_left & finite_right, right - 1.0, mid)
    return torch.where(~finite_left & ~finite_right, torch.zeros_like(mid), mid)


def project_slab_box(
    a: torch.Tensor,
    r: torch.Tensor,
    lower: torch.Tensor,
    upper: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
) -> torch.Tensor:
    """Project rows of ``a`` onto ``{lo <= x <= hi : lower <= r . x <= upper}``.

    ``x(nu) = clip(a - nu r, lo, hi)``; ``r . x(nu)`` is non-increasing and piecewise
    linear in ``nu``, so on the bracketed piece ``nu = (r_F . a_F + r_C . x_C - T) / |r_F|^2``
    over the free coordinates ``F`` (``T`` the violated side, ``C`` the clipped ones).

    Args:
        a: ``(N, d)`` actions.
        r: ``(N or 1, d)`` row coefficients.
        lower: ``(N or 1,)`` lower side (``-inf`` for a half-space).
        upper: ``(N or 1,)`` upper side (``inf`` for none).
        lo: ``(N or 1, d)`` box lower bounds.
        hi: ``(N or 1, d)`` box upper bounds.

    Returns:
        ``(N, d)`` projections, differentiable in ``a``.

    Example:
        >>> a = torch.tensor([[0.5, 0.5]], dtype=torch.float64)
        >>> ones = torch.ones(1, 2, dtype=torch.float64)
        >>> inf = torch.tensor([float("inf")], dtype=torch.float64)
        >>> project_slab_box(a, ones, -inf, torch.tensor([0.4], dtype=torch.float64),
        ...                  -ones, ones).tolist()
        [[0.2, 0.2]]
    """
    n, d = a.shape
    r, lo, hi = r.expand(n, d), lo.expand(n, d), hi.expand(n, d)
    lower, upper = lower.expand(n), upper.expand(n)
    with torch.no_grad():
        s0 = (r * torch.minimum(torch.maximum(a, lo), hi)).sum(dim=1)
        slack = _ROUND * (1.0 + s0.abs())
        above, below = s0 > upper + slack, s0 < lower - slack
        target = torch.where(above, upper, lower)
        target = torch.where(above | below, target, s0)
        safe_r = torch.where(r == 0, torch.ones_like(r), r)
        breaks = torch.cat([(a - lo) / safe_r, (a - hi) / safe_r], dim=1)
        breaks = torch.where(torch.cat([r == 0, r == 0], dim=1), torch.nan, breaks)
        breaks = torch.cat([breaks, torch.zeros_like(breaks[:, :1])], dim=1)  # nu = 0
        path = torch.minimum(
            torch.maximum(a[:, None, :] - breaks[:, :, None] * r[:, None, :], lo[:, None, :]),
            hi[:, None, :],
        )
        values = (path * r[:, None, :]).sum(dim=2)
        mid = _bracket_midpoint(breaks, values, target, False)
        point = a - mid[:, None] * r
        free = (point > lo) & (point < hi) & (r != 0)
        clipped = torch.minimum(torch.maximum(point, lo), hi)
        fixed = torch.where(free, torch.zeros_like(a), r * clipped).sum(dim=1)
        norm = torch.where(free, r * r, torch.zeros_like(r)).sum(dim=1)
        need = (above | below) & (norm > 0)
    nu = (torch.where(free, r * a, torch.zeros_like(a))).sum(dim=1) + fixed - target
    nu = torch.where(need, nu / torch.where(need, norm, torch.ones_like(norm)), 0 * nu)
    nu = torch.where((above | below) & ~need, mid, nu)
    return torch.clamp(a - nu[:, None] * r, lo, hi)


def project_budget_box(
    a: torch.Tensor,
    u: torch.Tensor,
    budget: float,
    lo: torch.Tensor,
    hi: torch.Tensor,
) -> torch.Tensor:
    """Project rows of ``a`` onto ``{sum_i u_i |x_i| <= budget}`` and a box containing 0.

    Soft thresholding ``x_i = sign(a_i) clip(|a_i| - lam u_i, 0, h_i)`` with ``h_i`` the
    box face on ``a_i``'s side; the cost is non-increasing and piecewise linear in
    ``lam``, so on the bracketed piece ``lam = (u_F . |a_F| + u_H . h_H - budget) / |u_F|^2``.

    Args:
        a: ``(N, d)`` actions.
        u: ``(N or 1, d)`` non-negative costs per unit of ``|x_i|`` (``|w_i|`` for the
            power budget; 0 where positive power costs nothing).
        budget: the budget ``c >= 0``.
        lo: ``(1, d)`` box lower bounds (``<= 0``).
        hi: ``(1, d)`` box upper bounds (``>= 0``).

    Returns:
        ``(N, d)`` projections, differentiable in ``a``.

    Example:
        >>> a = torch.tensor([[0.9, 0.6]], dtype=torch.float64)
        >>> ones = torch.ones(1, 2, dtype=torch.float64)
        >>> project_budget_box(a, ones, 1.0, -ones, ones).tolist()
        [[0.65, 0.35]]
    """
    n, d = a.shape
    u = u.expand(n, d)
    sign = torch.where(a < 0, -torch.ones_like(a), torch.ones_like(a))
    h = torch.where(a < 0, -lo.expand(n, d), hi.expand(n, d))
    mag = a.abs()
    with torch.no_grad():
        m0 = torch.minimum(mag, h)
        cost0 = (u * m0).sum(dim=1)
        need = cost0 > budget + _ROUND * (1.0 + budget)
        safe_u = torch.where(u == 0, torch.ones_like(u), u)
        breaks = torch.cat([(mag - h) / safe_u, mag / safe_u], dim=1)
        breaks = torch.where(torch.cat([u == 0, u == 0], dim=1), torch.nan, breaks.clamp_min(0))
        breaks = torch.cat([breaks, torch.zeros_like(breaks[:, :1])], dim=1)  # lam = 0
        path = torch.minimum(
            torch.clamp_min(mag[:, None, :] - breaks[:, :, None] * u[:, None, :], 0.0),
            h[:, None, :],
        )
        values = (path * u[:, None, :]).sum(dim=2)
        target = torch.full_like(cost0, budget)
        mid = _bracket_midpoint(breaks, values, target, False)
        point = mag - mid[:, None] * u
        free = (point > 0) & (point < h) & (u > 0)
        capped = (point >= h) & (u > 0)
        fixed = torch.where(capped, u * h, torch.zeros_like(u)).sum(dim=1)
        norm = torch.where(free, u * u, torch.zeros_like(u)).sum(dim=1)
        solvable = need & (norm > 0)
    lam = torch.where(free, u * mag, torch.zeros_like(mag)).sum(dim=1) + fixed - budget
    lam = torch.where(solvable, lam / torch.where(solvable, norm, torch.ones_like(norm)), 0 * lam)
    lam = torch.where(need & ~solvable, mid, lam)
    return sign * torch.clamp(mag - lam[:, None] * u, torch.zeros_like(h), h)


def project_ball_box(
    a: torch.Tensor,
    center: torch.Tensor,
    r2: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
) -> torch.Tensor:
    """Project rows of ``a`` onto ``{lo <= x <= hi : ||x - c||^2 <= r2}``.

    The KKT path ``x(t) = clip(c + t (a - c))``, ``t`` in ``(0, 1]``: ``||x(t) - c||^2``
    is non-decreasing and equals ``K + t^2 F`` between breakpoints, so on the bracketed
    piece ``t = sqrt((r2 - K) / F)`` with ``F`` over the free coordinates.

    Args:
        a: ``(N, d)`` actions.
        center: ``(N or 1, d)`` centres (inside the box).
        r2: ``(N or 1,)`` squared radii.
        lo: ``(N or 1, d)`` box lower bounds.
        hi: ``(N or 1, d)`` box upper bounds.

    Returns:
        ``(N, d)`` projections, differentiable in ``a``.

    Example:
        >>> a = torch.tensor([[3.0, 4.0]], dtype=torch.float64)
        >>> ones = torch.ones(1, 2, dtype=torch.float64)
        >>> project_ball_box(a, 0 * ones, torch.ones(1, dtype=torch.float64), -ones, ones).tolist()
        [[0.6, 0.8]]
    """
    n, d = a.shape
    c, lo, hi = center.expand(n, d), lo.expand(n, d), hi.expand(n, d)
    r2 = r2.expand(n)
    diff = a - c
    with torch.no_grad():
        gap0 = torch.minimum(torch.maximum(a, lo), hi) - c
        need = (gap0 * gap0).sum(dim=1) > r2 + _ROUND * (1.0 + r2)
        safe = torch.where(diff == 0, torch.ones_like(diff), diff)
        breaks = torch.cat([(lo - c) / safe, (hi - c) / safe], dim=1)
        outside = (breaks <= 0) | (breaks >= 1) | torch.cat([diff == 0, diff == 0], dim=1)
        breaks = torch.where(outside, torch.nan, breaks)
        ends = torch.cat([torch.zeros_like(breaks[:, :1]), torch.ones_like(breaks[:, :1])], 1)
        breaks = torch.cat([breaks, ends], dim=1)  # t = 0 (the centre) and t = 1 (clip(a))
        path = (
            torch.minimum(
                torch.maximum(
                    c[:, None, :] + breaks[:, :, None] * diff[:, None, :], lo[:, None, :]
                ),
                hi[:, None, :],
            )
            - c[:, None, :]
        )
        values = (path * path).sum(dim=2)
        mid = _bracket_midpoint(breaks, values, r2, True).clamp(0.0, 1.0)
        point = c + mid[:, None] * diff
        free = (point > lo) & (point < hi)
        clipped = torch.minimum(torch.maximum(point, lo), hi) - c
        fixed = torch.where(free, torch.zeros_like(a), clipped * clipped).sum(dim=1)
    scale = torch.where(free, diff * diff, torch.zeros_like(a)).sum(dim=1)
    solvable = need & (scale.detach() > 0)
    ratio = (r2 - fixed).clamp_min(0.0) / torch.where(solvable, scale, torch.ones_like(scale))
    t = torch.where(solvable, torch.sqrt(torch.where(solvable, ratio, torch.ones_like(ratio))), 1)
    t = torch.where(need & ~solvable, mid, t)
    return torch.clamp(c + t[:, None] * diff, lo, hi)
