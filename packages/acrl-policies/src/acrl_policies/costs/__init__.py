"""Cost plumbing for SB3 algorithms on CMDPs (a per-step cost in ``info["cost"]``).

On-policy:

- :class:`CostRolloutBuffer` — ``RolloutBuffer`` plus costs, cost values, cost GAE.
- :class:`CostActorCriticPolicy` (``MlpPolicy``) — actor-critic policy plus a cost critic.
- :class:`CostOnPolicyAlgorithm` — mixin reading ``info["cost"]`` during rollouts, tracking
  episode costs (``rollout/ep_cost_mean``) and fitting the cost critic.

Off-policy:

- :class:`CostReplayBuffer` — ``ReplayBuffer`` plus the per-transition cost.
- :class:`CostSACPolicy` — SAC's policy plus a twin cost critic and its target.
- :class:`CostOffPolicyAlgorithm` — mixin reading ``info["cost"]`` at every step, tracking
  episode costs and fitting the cost critic by TD.

Shared:

- :class:`CostTracking` — cost limit, episode costs J_c and their log.
- :class:`EpisodeCosts` — undiscounted episode costs over a moving window.
- :func:`read_costs`, :func:`check_cost_limit` — the checks with the helpful errors.
"""

from acrl_policies.costs.buffers import (
    CostRolloutBuffer,
    CostRolloutBufferSamples,
    generalized_advantage_estimate,
)
from acrl_policies.costs.episode_costs import EpisodeCosts
from acrl_policies.costs.off_policy import CostOffPolicyAlgorithm, combine_twins, twin_td_loss
from acrl_policies.costs.on_policy import CostOnPolicyAlgorithm
from acrl_policies.costs.policies import CostActorCriticPolicy, CostSACPolicy, MlpPolicy
from acrl_policies.costs.replay_buffer import CostReplayBuffer, CostReplayBufferSamples
from acrl_policies.costs.tracking import CostTracking, check_cost_limit, read_costs

__all__ = [
    "CostActorCriticPolicy",
    "CostOffPolicyAlgorithm",
    "CostOnPolicyAlgorithm",
    "CostReplayBuffer",
    "CostReplayBufferSamples",
    "CostRolloutBuffer",
    "CostRolloutBufferSamples",
    "CostSACPolicy",
    "CostTracking",
    "EpisodeCosts",
    "MlpPolicy",
    "check_cost_limit",
    "combine_twins",
    "generalized_advantage_estimate",
    "read_costs",
    "twin_td_loss",
]
