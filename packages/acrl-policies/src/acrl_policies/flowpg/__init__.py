"""FlowPG: DDPG/TD3 whose actor acts through a frozen normalizing flow."""

from acrl_policies.flowpg.flowpg import FlowPG
from acrl_policies.flowpg.policies import FlowPGPolicy, MlpPolicy

__all__ = ["FlowPG", "FlowPGPolicy", "MlpPolicy"]
