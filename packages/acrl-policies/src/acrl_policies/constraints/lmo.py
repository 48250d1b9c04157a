"""The linear-maximisation oracle ``argmax_{x in C(s)} g . x`` (Frank-Wolfe's step, NFWPO).

:class:`LinearMaximizationOracle` picks, once:

- ``"closed-form"`` (torch, batched, on the gradients' device): the box (a vertex), round
  balls with the box (the end of the path ``clip(c + s g)`` on the sphere), the power
  and positive-power budgets over a box containing 0 (a fractional knapsack: coordinates
  by decreasing ``|g_i| / |w_i|``), simplices and capped simplices (fill by decreasing
  ``g_i``), slew limits, and intersections whose only constrained member is one of these;
- ``"lp"`` (the rest with a QP form): one linear program for the whole batch, the rows'
  QP forms stacked block-diagonally, solved by HiGHS (``scipy.optimize.linprog``);

and refuses the others with :class:`~acrl_policies.errors.NoDifferentiablePathError`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
import torch

from acrl_policies.constraints.closed_form import project_ball_box
from acrl_policies.constraints.torch_params import as_obs_tensor, constant, parameter, weights
from acrl_policies.errors import NoDifferentiablePathError
from acrl_wrappers import Constraint, make_constraint
from acrl_wrappers.constraints import (
    BallConstraint,
    BoxConstraint,
    CappedSimplexConstraint,
    IntersectionConstraint,
    PositivePowerConstraint,
    PowerConstraint,
    SimplexConstraint,
    SlewRateConstraint,
)
from acrl_wrappers.errors import ProjectionError

__all__ = ["LinearMaximizationOracle", "greedy_fill"]

_FAR = 1e8  # a ball's LMO is the projection of c + _FAR g / max|g| (see _ball)


def greedy_fill(
    priority: torch.Tensor, cost: torch.Tensor, capacity: torch.Tensor, budget: torch.Tensor
) -> torch.Tensor:
    """Fill coordinates by decreasing ``priority`` up to ``capacity`` until ``budget`` is spent.

    The fractional knapsack: amounts ``m`` with ``0 <= m <= capacity`` and ``cost . m <=
    budget``; free coordinates (``cost == 0``) are filled whatever the budget.

    Args:
        priority: ``(N, d)`` value per unit of cost.
        cost: ``(N, d)`` cost per unit, ``>= 0``.
        capacity: ``(N, d)`` largest amounts, ``>= 0``.
        budget: ``(N,)`` budgets, ``>= 0``.

    Example:
        >>> one = torch.ones(1, 3, dtype=torch.float64)
        >>> greedy_fill(torch.tensor([[3.0, 1.0, 2.0]]), one, one, torch.tensor([1.5])).tolist()
        [[1.0, 0.0, 0.5]]
    """
    order = torch.argsort(priority, dim=1, descending=True)
    c = torch.gather(cost, 1, order)
    cap = torch.gather(capacity, 1, order)
    spend = c * cap
    before = torch.cumsum(spend, dim=1) - spend
    left = (budget[:, None] - before).clamp_min(0.0)
    amount = torch.where(c > 0, torch.minimum(cap, left / torch.where(c > 0, c, 1.0)), cap)
    return torch.empty_like(amount).scatter_(1, order, amount)


def _lmo_box(c: BoxConstraint, g: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    lo, hi = constant(c.low, g)[None], constant(c.high, g)[None]
    if c.lower is not None:
        lo = torch.maximum(lo, parameter(c.lower, obs, g))
    if c.upper is not None:
        hi = torch.minimum(hi, parameter(c.upper, obs, g))
    middle = torch.minimum(torch.maximum(torch.zeros_like(g), lo), hi)
    return torch.where(g > 0, hi.expand_as(g), torch.where(g < 0, lo.expand_as(g), middle))


def _lmo_ball(c: BallConstraint, g: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    """The far end of the KKT path ``clip(c + s g)``: the projection of a far point along ``g``."""
    w2 = float(c.weights.scale[0]) ** 2
    r2 = constant([c.bound], g) if c.bound is not None else None
    if r2 is None:
        value = parameter(c.radius_param, obs, g)[:, 0]
        r2 = value if c._squared else value * value
    center = parameter(c.center_param, obs, g).expand_as(g)
    scale = g.abs().amax(dim=1, keepdim=True).clamp_min(1e-300)
    far = center + _FAR * g / scale
    lo, hi = constant(c.low, g)[None], constant(c.high, g)[None]
    return project_ball_box(far, center, r2 / w2, lo, hi)


def _lmo_budget(
    c: PowerConstraint | PositivePowerConstraint, g: torch.Tensor, obs: torch.Tensor | None
) -> torch.Tensor:
    w = weights(c.weights, obs, g).expand_as(g)
    u = w.abs()
    if c.positive_only:  # moving against the weight's sign costs nothing
        u = torch.where(w * g > 0, u, torch.zeros_like(u))
    lo, hi = constant(c.low, g)[None], constant(c.high, g)[None]
    capacity = torch.where(g < 0, -lo.expand_as(g), hi.expand_as(g))
    capacity = torch.where(g == 0, torch.zeros_like(g), capacity)
    priority = torch.where(u > 0, g.abs() / torch.where(u > 0, u, 1.0), torch.inf)
    budget = torch.full_like(g[:, 0], c.bound)
    return torch.sign(g) * greedy_fill(priority, u, capacity, budget)


def _lmo_simplex(
    c: CappedSimplexConstraint, g: torch.Tensor, obs: torch.Tensor | None
) -> torch.Tensor:
    high = constant(c.high, g)[None]
    hi = high if c.caps is None else torch.minimum(high, parameter(c.caps, obs, g))
    floor = constant(c._floor, g)[None]
    total = parameter(c.total, obs, g)[:, 0].expand(g.shape[0])
    spare = total - floor.sum(dim=1)
    ones = torch.ones_like(g)
    return floor + greedy_fill(g, ones, (hi - floor).expand_as(g), spare)


def _closed_form(c: Constraint) -> Any:
    kind = type(c)
    if kind is BoxConstraint:
        return _lmo_box
    if kind is BallConstraint and c._round and c.weights.scale[0] != 0.0:  # type: ignore[attr-defined]
        return _lmo_ball
    if kind in (PowerConstraint, PositivePowerConstraint) and c._zero_in_box:  # type: ignore[attr-defined]
        return _lmo_budget
    if kind in (CappedSimplexConstraint, SimplexConstraint):
        return _lmo_simplex
    if kind is SlewRateConstraint:
        inner = _closed_form(c.inner)  # type: ignore[attr-defined]
        return None if inner is None else (lambda _c, g, obs: inner(c.inner, g, obs))  # type: ignore[attr-defined]
    if kind is IntersectionConstraint and c._closed_form_member is not None:  # type: ignore[attr-defined]
        member = c._closed_form_member  # type: ignore[attr-defined]
        inner = _closed_form(member)
        return None if inner is None else (lambda _c, g, obs: inner(member, g, obs))
    return None


class LinearMaximizationOracle:
    """``argmax_{x in C(s)} g . x`` for a batch of gradients ``g`` (Frank-Wolfe's vertex).

    NFWPO's target (Lin et al., UAI 2021) moves the projected action a step ``eta``
    towards this point. Closed forms run in torch on the gradients' device; the other
    QP-representable sets are one block-diagonal linear program per batch (HiGHS).

    Args:
        constraint: a constraint, a registered name or a spec (convex).

    Raises:
        NoDifferentiablePathError: no closed form and no QP form; names the alternatives.

    Example:
        >>> import acrl_wrappers as acrl
        >>> lmo = LinearMaximizationOracle(acrl.make_constraint("power", bound=1.0, dim=3))
        >>> g = torch.tensor([[3.0, -2.0, 0.5]], dtype=torch.float64)
        >>> lmo.method, lmo(g).tolist()
        ('closed-form', [[1.0, 0.0, 0.0]])

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(self, constraint: Constraint | str | dict[str, Any]) -> None:
        self.constraint = make_constraint(constraint)
        self._closed = _closed_form(self.constraint)
        c = self.constraint
        if self._closed is not None:
            self.method = "closed-form"
        elif c.convex and c.qp_form() is not None:
            self.method = "lp"
        else:
            raise NoDifferentiablePathError(
                f"no linear-maximisation oracle for {type(c).__name__} ({c.family!r}): "
                f"{'it is not convex' if not c.convex else 'no closed form and no QP form'}. "
                "NFWPO needs one; use DPre or DPro (projection only), FlowPG or ARAM instead"
            )
        self.solves = 0

    def __call__(self, grad: torch.Tensor, obs: Any = None) -> torch.Tensor:
        """The maximisers ``(N, dim)`` for gradients ``(N, dim)`` (no gradient flows)."""
        c = self.constraint
        with torch.no_grad():
            if self._closed is not None:
                g = grad.double()
                o = as_obs_tensor(obs, g) if c.obs_dim else None
                out = self._closed(c, g, o)
            else:
                out = torch.as_tensor(self._solve_lp(grad, obs), device=grad.device)
        self.solves += grad.shape[0]
        return out.to(grad.dtype)

    def _solve_lp(self, grad: torch.Tensor, obs: Any) -> np.ndarray:
        from scipy.optimize import linprog  # imported here: scipy.optimize is slow to import

        c = self.constraint
        g = grad.detach().cpu().double().numpy()
        o = None
        if c.obs_dim and obs is not None:
            o = obs.detach().cpu().double().numpy() if isinstance(obs, torch.Tensor) else obs
            o = np.asarray(o, dtype=np.float64).reshape(
                -1, c.obs_dim if o.ndim == 1 else o.shape[-1]
            )
        form = c.qp_form()
        assert form is not None
        n_batch, d, n = g.shape[0], c.dim, form.n_vars
        blocks, lows, ups = [], [], []
        for i in range(n_batch):
            row_obs = None if o is None else o[min(i, o.shape[0] - 1)].reshape(1, -1)
            entries, lower, upper = form.values(row_obs)
            blocks.append(sp.csr_matrix((entries, (form.rows, form.cols)), shape=(form.n_rows, n)))
            lows.append(lower)
            ups.append(upper)
        matrix = sp.block_diag(blocks, format="csr")
        lower, upper = np.concatenate(lows), np.concatenate(ups)
        objective = np.zeros((n_batch, n))
        objective[:, :d] = -g
        box = [(lo, hi) for lo, hi in zip(c.low, c.high, strict=True)] + [(None, None)] * (n - d)
        equal = np.isfinite(lower) & np.isfinite(upper) & (lower == upper)
        up_rows = np.isfinite(upper) & ~equal
        low_rows = np.isfinite(lower) & ~equal
        a_ub = sp.vstack([matrix[up_rows], -matrix[low_rows]], format="csr")
        b_ub = np.concatenate([upper[up_rows], -lower[low_rows]])
        result = linprog(
            objective.reshape(-1),
            A_ub=a_ub if a_ub.shape[0] else None,
            b_ub=b_ub if a_ub.shape[0] else None,
            A_eq=matrix[equal] if equal.any() else None,
            b_eq=upper[equal] if equal.any() else None,
            bounds=box * n_batch,
            method="highs",
        )
        if result.status != 0:
            raise ProjectionError(
                f"HiGHS could not solve the oracle's linear program: {result.message}",
                status=str(result.status),
            )
        return np.asarray(result.x).reshape(n_batch, n)[:, :d]
