"""``CostReplayBuffer``: SB3's ``ReplayBuffer`` plus the per-transition cost.

- :class:`CostReplayBufferSamples` — ``ReplayBufferSamples`` plus ``costs``.
- :class:`CostReplayBuffer` — the ``replay_buffer_class`` of the off-policy cost-aware
  algorithms (``CVPO``, ``SACLagrangian``).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.vec_env import VecNormalize

from acrl_policies.costs.tracking import read_costs
from acrl_policies.errors import PolicyError

__all__ = ["CostReplayBuffer", "CostReplayBufferSamples"]


class CostReplayBufferSamples(NamedTuple):
    """One batch of a :class:`CostReplayBuffer`: SB3's fields, then ``costs`` ``(batch, 1)``."""

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    costs: th.Tensor


class CostReplayBuffer(ReplayBuffer):
    """A ``ReplayBuffer`` that also stores each transition's cost, ``info["cost"]``.

    :meth:`add` is SB3's, called with the step's ``infos`` as
    ``OffPolicyAlgorithm._store_transition`` always does; it reads the costs from them
    (:func:`~acrl_policies.costs.read_costs`, so a missing cost is a
    :class:`~acrl_policies.errors.MissingCostError` at the first step) and writes them at
    the same position. Samples carry ``costs`` next to ``rewards``; costs are never
    normalised (``VecNormalize`` rescales rewards only). Time-limit truncations are handled
    as SB3 does for rewards: the sampled ``dones`` exclude timeouts, so the cost critic
    bootstraps through them.

    Args:
        buffer_size: capacity in transitions (over all envs).
        observation_space: the env's observation space (not a ``Dict``).
        action_space: the env's action space.
        device: torch device of the sampled tensors.
        n_envs: number of parallel envs.
        optimize_memory_usage: SB3's memory-saving layout.
        handle_timeout_termination: bootstrap through time-limit truncations.

    Example:
        >>> box = spaces.Box(-1, 1, (2,))
        >>> buf = CostReplayBuffer(8, box, spaces.Box(-1, 1, (1,)), device="cpu")
        >>> for cost in (0.0, 1.0):
        ...     buf.add(np.zeros((1, 2)), np.zeros((1, 2)), np.zeros((1, 1)), np.ones(1),
        ...             np.zeros(1), [{"cost": cost}])
        >>> buf.costs[:2, 0].tolist(), buf.sample(4).costs.shape
        ([0.0, 1.0], torch.Size([4, 1]))

    Change logs:
        - v0.1.0 - Initially added.
    """

    costs: np.ndarray

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
    ) -> None:
        if isinstance(observation_space, spaces.Dict):
            raise PolicyError(
                "CostReplayBuffer does not support Dict observations; flatten them with "
                "gymnasium.wrappers.FlattenObservation"
            )
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device,
            n_envs,
            optimize_memory_usage,
            handle_timeout_termination,
        )
        self.costs = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """Store one vectorised transition and its ``info["cost"]`` (SB3's ``add``)."""
        costs = read_costs(infos)
        self.costs[self.pos] = costs
        super().add(obs, next_obs, action, reward, done, infos)

    def _get_samples(  # type: ignore[override]
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> CostReplayBufferSamples:
        # SB3 draws the env of each sample inside its _get_samples (with numpy's global
        # generator, which SB3's seeding sets), so the cost column needs that same draw:
        # SB3's indexing is redone here around one draw.
        env_indices = np.random.randint(0, high=self.n_envs, size=(len(batch_inds),))  # noqa: NPY002
        if self.optimize_memory_usage:
            next_obs = self.observations[(batch_inds + 1) % self.buffer_size, env_indices, :]
        else:
            next_obs = self.next_observations[batch_inds, env_indices, :]
        dones = self.dones[batch_inds, env_indices] * (1 - self.timeouts[batch_inds, env_indices])
        data = (
            self._normalize_obs(self.observations[batch_inds, env_indices, :], env),
            self.actions[batch_inds, env_indices, :],
            self._normalize_obs(next_obs, env),
            dones.reshape(-1, 1),
            self._normalize_reward(self.rewards[batch_inds, env_indices].reshape(-1, 1), env),
            self.costs[batch_inds, env_indices].reshape(-1, 1),
        )
        return CostReplayBufferSamples(*map(self.to_torch, data))
