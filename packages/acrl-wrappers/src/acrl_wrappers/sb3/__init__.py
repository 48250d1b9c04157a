"""Stable-Baselines3 glue (needs ``pip install acrl-wrappers[sb3]``).

- :class:`ConstraintMetricsCallback` — logs ``constraint/*`` rates, QP solves and
  ``rollout/ep_cost_mean`` from the wrappers' ``info`` to the SB3 logger.
- :class:`DualReplayBuffer` — a ``replay_buffer_class`` for SAC/TD3/DDPG/TQC that keeps
  self-loop transitions apart and mixes them into each batch at a decaying ratio (ARAM),
  and stores ``info["reward_vector"]``.
- :class:`VecProjectAction`, :class:`VecRejectAction`, :class:`VecConstraintMonitor` —
  enforcement wrappers for a whole ``VecEnv`` (one batched check per step); what
  ``acrl.wrap(vec_env, ...)`` returns.
"""

from acrl_wrappers.sb3.buffers import DualReplayBuffer, DualReplayBufferSamples
from acrl_wrappers.sb3.callbacks import ConstraintMetricsCallback
from acrl_wrappers.wrappers.vector.sb3_vec_env import (
    VecConstraintMonitor,
    VecProjectAction,
    VecRejectAction,
)

__all__ = [
    "ConstraintMetricsCallback",
    "DualReplayBuffer",
    "DualReplayBufferSamples",
    "VecConstraintMonitor",
    "VecProjectAction",
    "VecRejectAction",
]
