"""The constraint's violation as a differentiable torch function (CV-Flow's training signal).

:func:`violation_scale` measures the unit the reverse KL's temperature is given in: the
violation of a typical infeasible action differs by orders of magnitude between
constraints (0.6 on ``reacher-l2``, 12 on ``halfcheetah-o20``), so one raw temperature
would be sharp on one and blunt on the other.

CV-Flow trains from the violation alone. acrl constraints compute it in numpy, for any
family a plugin registers, so the gradient here is a central finite difference of the
constraint's own vectorised :meth:`~acrl_wrappers.Constraint.violation`: the ``2 n``
perturbed copies of a batch go through one call. The violation is piecewise smooth
(sums of positive parts), so the difference is exact up to ``O(h^2)`` away from kinks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from acrl_wrappers import Constraint

if TYPE_CHECKING:
    from acrl_policies.flows.conditions import ConditionDistribution, Conditioning

__all__ = ["violation_scale", "violation_with_gradient"]


class _Violation(torch.autograd.Function):
    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, actions: torch.Tensor, constraint: Constraint, obs: np.ndarray | None, step: float
    ) -> torch.Tensor:
        a = actions.detach().cpu().double().numpy()
        ctx.save_for_backward(actions)
        ctx.constraint, ctx.obs, ctx.step = constraint, obs, step
        violation = torch.from_numpy(constraint._violation(a, obs))
        return violation.to(device=actions.device, dtype=actions.dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        (actions,) = ctx.saved_tensors
        a = actions.detach().cpu().double().numpy()
        n, dim = a.shape
        h = ctx.step
        offsets = np.concatenate([np.eye(dim), -np.eye(dim)]) * h  # (2 dim, dim)
        probes = (a[None, :, :] + offsets[:, None, :]).reshape(-1, dim)
        obs = None if ctx.obs is None else np.tile(ctx.obs, (2 * dim, 1))
        values = ctx.constraint._violation(probes, obs).reshape(2 * dim, n)
        grad = ((values[:dim] - values[dim:]) / (2.0 * h)).T  # (n, dim)
        grad_t = torch.from_numpy(grad).to(device=actions.device, dtype=actions.dtype)
        return grad_output[:, None] * grad_t, None, None, None


def violation_with_gradient(
    constraint: Constraint, actions: torch.Tensor, obs: np.ndarray | None, step: float = 1e-6
) -> torch.Tensor:
    """``constraint.violation(actions, obs)`` as a tensor that backpropagates to ``actions``.

    Args:
        constraint: any acrl constraint (box included in its violation).
        actions: ``(N, dim)`` actions (float32 or float64).
        obs: ``(N, k)`` float64 observations, or ``None`` for a state-independent constraint.
        step: finite-difference step.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("ball", bound=0.05, dim=2)
        >>> a = torch.tensor([[0.3, 0.0]], dtype=torch.float64, requires_grad=True)
        >>> v = violation_with_gradient(c, a, None)
        >>> v.backward()
        >>> round(v.item(), 6), [round(g, 4) for g in a.grad[0].tolist()]
        (0.04, [0.6, 0.0])
    """
    return _Violation.apply(actions, constraint, obs, step)


def violation_scale(
    constraint: Constraint,
    cond: Conditioning,
    dist: ConditionDistribution,
    n: int = 10_000,
    seed: int = 0,
) -> float:
    """The median violation of the infeasible ones among ``n`` uniform actions in the box.

    Conditions come from ``dist`` (the training distribution). 1.0 when no draw is
    infeasible (the set fills the box: any temperature serves).

    Example:
        >>> import acrl_wrappers as acrl
        >>> from acrl_policies.flows import ConditionDistribution, Conditioning
        >>> c = acrl.make_constraint("reacher-l2")
        >>> round(violation_scale(c, Conditioning(c), ConditionDistribution()), 2)
        0.61
    """
    rng = np.random.default_rng(seed)
    actions = rng.uniform(constraint.low, constraint.high, size=(n, constraint.dim))
    y = dist.sample(n, cond.dim, rng)
    v = constraint._violation(actions, cond.observations(y))
    infeasible = v[v > constraint.tol]
    return float(np.median(infeasible)) if infeasible.size else 1.0
