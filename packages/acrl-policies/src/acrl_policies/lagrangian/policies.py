"""Policy aliases of ``TRPOLagrangian`` and ``PPOLagrangian``: actor-critic plus a cost critic."""

from acrl_policies.costs.policies import CostActorCriticPolicy

__all__ = ["MlpPolicy"]

MlpPolicy = CostActorCriticPolicy
