"""The per-batch loss of flow training: forward KL on samples, reverse KL to the violation.

- **forward KL** (maximum likelihood, FlowPG, arXiv:2402.05149): ``-log p_base(f⁻¹(a, y))
  - log|det|`` on feasible (action, condition) samples. Mass-covering: it spreads the flow
  over the whole feasible set, but pulls mass out of infeasible regions only weakly.
- **reverse KL** (CV-Flow, arXiv:2502.10431): ``violation(f(z, y), y) / sigma - log|det|``
  on base samples, the KL from the flow's push-forward to ``exp(-violation / sigma)``,
  with ``sigma`` given in units of the constraint's violation scale.
  Mode-seeking: it empties infeasible regions, but can cover only part of the feasible set.

:class:`FlowObjective` weighs the two (``forward_kl_weight``, ``reverse_kl_weight``); each
method's defaults lean on its own term and add a little of the other, which fixes the
weakness of each (``benchmarks/results/flows.md`` measures every combination).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch

from acrl_policies.flows.bases import make_base, seeded_draw
from acrl_policies.flows.conditions import ConditionDistribution, Conditioning
from acrl_policies.flows.violation import violation_scale, violation_with_gradient
from acrl_wrappers import Constraint

if TYPE_CHECKING:
    from acrl_policies.flows.training import FlowTrainingConfig

__all__ = ["FlowObjective", "annealed"]


def annealed(start: float, end: float, step: int, total: int) -> float:
    """Geometric interpolation from ``start`` to ``end`` over the first half of training.

    Example:
        >>> [annealed(1e-2, 1e-4, step, 100) for step in (0, 25, 90)]
        [0.01, 0.001, 0.0001]
    """
    fraction = min(1.0, step / max(1, total // 2))
    return start * (end / start) ** fraction


class FlowObjective:
    """``forward_kl_weight * forward KL + reverse_kl_weight * reverse KL`` for one batch.

    Args:
        cfg: the :class:`~acrl_policies.flows.FlowTrainingConfig` (weights, sigmas, batch).
        constraint: the constraint.
        cond: the condition entries.
        dist: their distribution (reverse-KL batches draw conditions from it).
        actions: ``(N, n)`` feasible samples for the forward KL (may be empty when its
            weight is 0).
        conditions: ``(N, c)`` their conditions.
        device: where the flow lives.
    """

    def __init__(
        self,
        cfg: FlowTrainingConfig,
        constraint: Constraint,
        cond: Conditioning,
        dist: ConditionDistribution,
        actions: np.ndarray,
        conditions: np.ndarray,
        device: torch.device,
    ) -> None:
        self.cfg = cfg
        self.settings = cfg.objective()
        self.constraint, self.cond, self.dist = constraint, cond, dist
        self.dtype, self.device = getattr(torch, cfg.dtype), device
        self.base = make_base(cfg.base, constraint.dim, cfg.base_sigma)
        self.actions = torch.as_tensor(actions, dtype=self.dtype, device=device)
        self.conditions = torch.as_tensor(conditions, dtype=self.dtype, device=device)
        seed = cfg.seed
        self.gen = torch.Generator().manual_seed(seed)  # CPU: the same draws on any device
        self.rng = np.random.default_rng(seed)
        self.violation_scale = (
            violation_scale(constraint, cond, dist, seed=seed)
            if cfg.violation_scale is None
            else cfg.violation_scale
        )
        """The unit of the reverse KL's temperature (measured unless the settings give it)."""

    def __call__(self, flow: torch.nn.Module, step: int, total: int) -> torch.Tensor:
        """The weighted loss of one batch at update ``step`` of ``total``."""
        loss = torch.zeros((), dtype=self.dtype, device=self.device)
        forward, reverse = self.settings["forward_kl_weight"], self.settings["reverse_kl_weight"]
        if forward:
            loss = loss + forward * self.forward_kl(flow, step, total)
        if reverse:
            loss = loss + reverse * self.reverse_kl(flow, step, total)
        return loss

    def forward_kl(self, flow: torch.nn.Module, step: int, total: int) -> torch.Tensor:
        """Negative log-likelihood of a batch of the feasible samples."""
        cfg = self.cfg
        n = self.actions.shape[0]
        idx = torch.randint(0, n, (cfg.batch_size,), generator=self.gen, device="cpu")
        idx = idx.to(self.device)
        y = self.conditions[idx] if self.cond.dim else None
        z, log_det = flow.inverse(self.actions[idx], y)
        sigma = annealed(cfg.base_sigma_start, cfg.base_sigma, step, total)
        log_prob = make_base(cfg.base, self.constraint.dim, sigma).log_prob(z)
        return -(log_prob + log_det).mean()

    def reverse_kl(self, flow: torch.nn.Module, step: int, total: int) -> torch.Tensor:
        """``violation / (scale * sigma) - log|det|`` on a batch of base samples."""
        cfg = self.cfg
        z = self.base.sample(cfg.batch_size, self.gen, self.dtype, self.device)
        if self.settings["face_fraction"]:
            z = _push_to_faces(z, self.settings["face_fraction"], self.gen)
        y = self.dist.sample(cfg.batch_size, self.cond.dim, self.rng)
        y_t = torch.as_tensor(y, dtype=self.dtype, device=self.device) if self.cond.dim else None
        a, log_det = flow(z, y_t)
        v = violation_with_gradient(self.constraint, a, self.cond.observations(y))
        sigma = annealed(self.settings["cv_sigma_start"], self.settings["cv_sigma"], step, total)
        return (v / (self.violation_scale * sigma) - log_det).mean()


def _push_to_faces(z: torch.Tensor, fraction: float, gen: torch.Generator) -> torch.Tensor:
    """Move the share ``fraction`` of the coordinates into the outer 1 % of their side.

    A tanh actor's outputs crowd the base box's faces and corners (FlowPG's, measured:
    ``benchmarks/results/flows.md``), which uniform base samples almost never visit in
    several dimensions; the reverse KL on these points keeps the flow feasible there. Only
    the second half of the batch is moved (each coordinate with probability ``2 *
    fraction``, at most 1): the first half stays uniform, so the interior keeps its share
    of the reverse KL (moving coordinates of every row left 12 % of a 6-D batch untouched
    at 0.3, and cost 3-4 points of uniform accuracy on ``halfcheetah-o20``).
    """
    shape = tuple(z.shape)
    chosen = seeded_draw(torch.rand, shape, gen, z.dtype, z.device) < min(1.0, 2.0 * fraction)
    chosen[: shape[0] // 2] = False
    depth = 1.0 - 0.01 * seeded_draw(torch.rand, shape, gen, z.dtype, z.device)
    return torch.where(chosen, torch.sign(z) * depth, z)
