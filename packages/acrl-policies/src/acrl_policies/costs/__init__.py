"""Cost plumbing for on-policy SB3 algorithms (CMDPs with ``info["cost"]``).

- :class:`CostRolloutBuffer` — ``RolloutBuffer`` plus costs, cost values, cost GAE.
- :class:`CostActorCriticPolicy` (``MlpPolicy``) — actor-critic policy plus a cost critic.
- :class:`CostOnPolicyAlgorithm` — mixin reading ``info["cost"]`` during rollouts, tracking
  episode costs (``rollout/ep_cost_mean``) and fitting the cost critic.
- :class:`EpisodeCosts` — undiscounted episode costs over a moving window.
"""

from acrl_policies.costs.buffers import (
    CostRolloutBuffer,
    CostRolloutBufferSamples,
    generalized_advantage_estimate,
)
from acrl_policies.costs.episode_costs import EpisodeCosts
from acrl_policies.costs.on_policy import CostOnPolicyAlgorithm, check_cost_limit, read_costs
from acrl_policies.costs.policies import CostActorCriticPolicy, MlpPolicy

__all__ = [
    "CostActorCriticPolicy",
    "CostOnPolicyAlgorithm",
    "CostRolloutBuffer",
    "CostRolloutBufferSamples",
    "EpisodeCosts",
    "MlpPolicy",
    "check_cost_limit",
    "generalized_advantage_estimate",
    "read_costs",
]
