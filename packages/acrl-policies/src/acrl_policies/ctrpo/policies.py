"""Policy aliases of ``CTRPO``: SB3's actor-critic policy plus a cost critic."""

from acrl_policies.costs.policies import CostActorCriticPolicy

__all__ = ["MlpPolicy"]

MlpPolicy = CostActorCriticPolicy
