"""FlowPG's published flow training (github.com/rlr-smu/flow-pg), run on our samples.

Used by `python benchmarks/flows.py --reference PATH`, where PATH is a checkout of that
repository (its `core/` package is imported as is; it imports `gurobipy` at module
level, so `pip install gurobipy` — importing needs no licence). What runs is the
reference's own code: `core.flow.real_nvp.RealNvp` (6 couplings, hidden 256, default
initialisation, raw conditions), `core.flow.train_flow.update_flow_batch` (maximum
likelihood under the mollified uniform, sigma 1e-4) and its optimiser settings from
`experiments/conf/train_flow_forward.yaml` (Adam, lr 1e-5, batch 256, grad-norm clip 0.1),
on feasible samples drawn the way `experiments/generate_samples_with_rejection.py`
draws them (actions and conditions together, feasible pairs kept). The trained model is
wrapped so `acrl_policies.flows.evaluate_flow` measures it exactly like our flows.
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch
from torch import nn

from acrl_policies.flows import ConditionDistribution, FlowCheckpoint, rejection_sample
from acrl_wrappers import Constraint


class ReferenceFlow(nn.Module):
    """The reference `RealNvp` behind our flow interface (`g` forward, `f` inverse)."""

    def __init__(self, model: nn.Module, condition_dim: int) -> None:
        super().__init__()
        self.model, self.condition_dim = model, condition_dim
        self.config = {"reference": "rlr-smu/flow-pg core.flow.real_nvp.RealNvp"}

    def forward(self, z, condition=None, *, check: bool = True):
        """Base samples to actions; the reference's `g` (its log-det is not used here)."""
        return self.model.g(z, condition)

    def actions(self, z, condition=None, *, check: bool = True):
        """Actions only."""
        return self.model.g(z, condition)[0]

    def inverse(self, a, condition=None, *, check: bool = True):
        """Actions to base samples and the exact log-determinant; the reference's `f`."""
        return self.model.f(a, condition)


def train_reference(
    path: str,
    constraint: Constraint,
    condition: ConditionDistribution,
    *,
    updates: int,
    n_samples: int,
    seed: int,
) -> tuple[FlowCheckpoint, float]:
    """Train the reference flow for `updates` batches; returns it and the CPU seconds."""
    if path not in sys.path:
        sys.path.insert(0, path)
    from core.constraints import BoxConstraint
    from core.flow.constrained_distribution import ConstrainedDistribution
    from core.flow.real_nvp import RealNvp
    from core.flow.train_flow import update_flow_batch

    torch.manual_seed(seed)
    n, c = constraint.dim, len(constraint.obs_indices)
    a, y = rejection_sample(constraint, n_samples, condition=condition, rng=seed, balanced=False)
    data = torch.from_numpy(np.concatenate([a, y], axis=1)).float()
    model = RealNvp(n, 6, conditional_param_count=c, hidden_size=256)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)
    box = BoxConstraint(n, torch.full((n,), -1.0), torch.full((n,), 1.0))
    prior = ConstrainedDistribution(box, 1e-4)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(data), batch_size=256, shuffle=True
    )
    done, start = 0, time.process_time()
    while done < updates:
        for (batch,) in loader:
            x, cond = batch[:, :n], (batch[:, n:] if c else None)
            update_flow_batch(model, prior, x, cond, optimizer, 0.1, take_log_again=False)
            done += 1
            if done >= updates:
                break
    seconds = time.process_time() - start
    flow = ReferenceFlow(model, c)
    return FlowCheckpoint(flow, constraint, constraint.obs_indices, condition), seconds
