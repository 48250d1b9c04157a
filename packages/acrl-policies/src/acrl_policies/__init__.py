"""acrl-policies: action-constrained and safe RL algorithms for Stable-Baselines3.

One folder per method, SB3 / sb3-contrib style, each with a ``policies.py`` holding the
``MlpPolicy`` aliases:

- :mod:`acrl_policies.flows` — conditional RealNVP flows, feasible-action samplers and
  flow training (FlowPG's maximum likelihood, CV-Flow's reverse KL);
- :mod:`acrl_policies.flowpg` — ``FlowPG`` (DDPG/TD3 acting through a frozen flow);
- :mod:`acrl_policies.cvflow` — ``CVFlowSAC`` (SAC acting in the flow's latent space);
- :mod:`acrl_policies.costs` — cost plumbing for on- and off-policy SB3 algorithms;
- :mod:`acrl_policies.ctrpo` — ``CTRPO`` (constrained TRPO);
- :mod:`acrl_policies.cvpo` — ``CVPO`` (constrained variational policy optimization);
- :mod:`acrl_policies.lagrangian` — ``TRPOLagrangian``, ``PPOLagrangian``, ``SACLagrangian``;
- :mod:`acrl_policies.aram` — ``ARAM`` (acceptance-rejection + augmented MDP, MOSAC);
- :mod:`acrl_policies.arm` — ``AcceptanceRejection`` (feasible ``predict`` for any SB3 model);
- :mod:`acrl_policies.projection_td3` — ``DPre``, ``DPro``, ``DOpt`` (OptLayer): the
  projection baselines, one ``ProjectionTD3`` configured three ways, with "+" penalties;
- :mod:`acrl_policies.nfwpo` — ``NFWPO`` (Frank-Wolfe policy optimisation, TD3-based);
- :mod:`acrl_policies.constraints` — torch violations, ``DifferentiableProjection`` and the
  linear-maximisation oracle;
- :mod:`acrl_policies.common.safety_net` — ``SafetyNetCounts``: what the methods that check
  their own proposals (ARAM, FlowPG, CV-Flow) proposed, rejected and projected.

Classes are imported lazily, so ``import acrl_policies`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "ConditionalRealNVP": "acrl_policies.flows",
    "ConditionalSplineFlow": "acrl_policies.flows",
    "FlowCheckpoint": "acrl_policies.flows",
    "train_flow": "acrl_policies.flows",
    "FlowPG": "acrl_policies.flowpg",
    "CVFlowSAC": "acrl_policies.cvflow",
    "CTRPO": "acrl_policies.ctrpo",
    "TRPOLagrangian": "acrl_policies.lagrangian",
    "PPOLagrangian": "acrl_policies.lagrangian",
    "SACLagrangian": "acrl_policies.lagrangian",
    "CVPO": "acrl_policies.cvpo",
    "ARAM": "acrl_policies.aram",
    "AcceptanceRejection": "acrl_policies.arm",
    "ProjectionTD3": "acrl_policies.projection_td3",
    "DPre": "acrl_policies.projection_td3",
    "DPro": "acrl_policies.projection_td3",
    "DOpt": "acrl_policies.projection_td3",
    "NFWPO": "acrl_policies.nfwpo",
    "DifferentiableProjection": "acrl_policies.constraints",
    "LinearMaximizationOracle": "acrl_policies.constraints",
    "torch_violation": "acrl_policies.constraints",
    "SafetyNetCounts": "acrl_policies.common.safety_net",
    "safety_net_counts": "acrl_policies.common.safety_net",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'acrl_policies' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
