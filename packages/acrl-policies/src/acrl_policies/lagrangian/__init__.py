"""Lagrangian baselines (naive multiplier): TRPO-, PPO- and SAC-Lagrangian."""

from acrl_policies.lagrangian.lagrangian import LagrangianOnPolicyAlgorithm, lagrangian_advantages
from acrl_policies.lagrangian.multiplier import LagrangeMultiplier
from acrl_policies.lagrangian.policies import MlpPolicy
from acrl_policies.lagrangian.ppo_lagrangian import PPOLagrangian
from acrl_policies.lagrangian.sac_lagrangian import SACLagrangian
from acrl_policies.lagrangian.trpo_lagrangian import TRPOLagrangian

__all__ = [
    "LagrangeMultiplier",
    "LagrangianOnPolicyAlgorithm",
    "MlpPolicy",
    "PPOLagrangian",
    "SACLagrangian",
    "TRPOLagrangian",
    "lagrangian_advantages",
]
