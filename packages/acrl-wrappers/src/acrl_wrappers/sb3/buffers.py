"""``DualReplayBuffer``: ARAM's two replay buffers behind SB3's ``replay_buffer_class``."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from acrl_wrappers.errors import ConstraintError

__all__ = ["DualReplayBuffer", "DualReplayBufferSamples"]


class DualReplayBufferSamples(NamedTuple):
    """:class:`~stable_baselines3.common.type_aliases.ReplayBufferSamples` plus the reward vectors.

    The first six fields are SB3's, so every off-policy algorithm trains on it unchanged.
    """

    observations: th.Tensor
    actions: th.Tensor
    next_observations: th.Tensor
    dones: th.Tensor
    rewards: th.Tensor
    discounts: th.Tensor | None
    reward_vectors: th.Tensor
    """``(batch, 2)``: ``[task_reward, penalty]`` from ``info["reward_vector"]``."""
    self_loops: th.Tensor
    """``(batch, 1)``: 1.0 for transitions drawn from the self-loop buffer."""


class DualReplayBuffer(ReplayBuffer):
    """Keeps self-loop transitions in a second buffer and mixes them into each batch (ARAM).

    A transition whose ``info["constraint"]["enforcement"]`` is ``"rejected"`` (an
    :class:`~acrl_wrappers.AutoMDP` or :class:`~acrl_wrappers.RejectAction` self-loop)
    goes to the self-loop buffer, every other one to the main buffer. A batch of size
    ``B`` takes ``min(len(self_loops), int(B * ratio))`` self-loops and the rest from the
    main buffer; ``ratio`` starts at ``self_loop_ratio`` and is multiplied by
    ``ratio_decay`` every ``decay_every`` real (simulator) steps. Defaults follow the
    released code (ARAM, arXiv:2503.12932): 0.2, x0.99, every 10,000 steps. Both buffers hold
    ``buffer_size`` transitions (the published default of 100 is a known defect that
    never trains; 1e6 is intended). ``info["reward_vector"]`` is stored with every
    transition and returned as ``reward_vectors`` (``[reward, 0]`` if absent).

    Use it as ``SAC("MlpPolicy", env, replay_buffer_class=DualReplayBuffer)`` (also TD3,
    DDPG, TQC); ``replay_buffer_kwargs`` set the three parameters below. Works with any
    number of envs; each env's transition is routed on its own. Box observations only.

    Args:
        buffer_size: capacity of each buffer, in transitions.
        observation_space: observation space (a ``Box``).
        action_space: action space.
        device: torch device.
        n_envs: number of envs adding transitions each step.
        optimize_memory_usage: not supported (must be ``False``).
        handle_timeout_termination: as SB3 (time-limit ends are not terminal).
        self_loop_ratio: initial share of self-loops per batch, in ``[0, 1]``.
        ratio_decay: factor applied to the share every ``decay_every`` real steps.
        decay_every: real steps between decays (``>= 1``).

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3 import SAC
        >>> import acrl_wrappers as acrl
        >>> box = {"name": "box", "dim": 1, "high": 0.2}
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), box, "automdp")
        >>> model = SAC("MlpPolicy", env, replay_buffer_class=DualReplayBuffer,
        ...             learning_starts=50, batch_size=32, seed=0)
        >>> _ = model.learn(100)
        >>> buffer = model.replay_buffer
        >>> buffer.size() + buffer.self_loops.size()
        100
    """

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        n_envs: int = 1,
        optimize_memory_usage: bool = False,
        handle_timeout_termination: bool = True,
        *,
        self_loop_ratio: float = 0.2,
        ratio_decay: float = 0.99,
        decay_every: int = 10_000,
    ) -> None:
        if optimize_memory_usage:
            raise ConstraintError("DualReplayBuffer does not support optimize_memory_usage=True")
        if not isinstance(observation_space, spaces.Box):
            raise ConstraintError(
                f"DualReplayBuffer needs Box observations, got {observation_space}"
            )
        if not 0.0 <= self_loop_ratio <= 1.0 or not 0.0 < ratio_decay <= 1.0 or decay_every < 1:
            raise ConstraintError(
                "need 0 <= self_loop_ratio <= 1, 0 < ratio_decay <= 1 and decay_every >= 1, got "
                f"{self_loop_ratio}, {ratio_decay}, {decay_every}"
            )
        # Both storages hold single transitions (n_envs=1): each env's step is routed alone.
        super().__init__(
            buffer_size,
            observation_space,
            action_space,
            device,
            1,
            False,
            handle_timeout_termination,
        )
        self.self_loops = ReplayBuffer(
            buffer_size, observation_space, action_space, device, 1, False, False
        )
        self.source_envs = n_envs
        self.reward_vectors = np.zeros((self.buffer_size, 2), dtype=np.float32)
        self.self_loop_reward_vectors = np.zeros((self.self_loops.buffer_size, 2), dtype=np.float32)
        self.self_loop_ratio = float(self_loop_ratio)
        self.ratio_decay = float(ratio_decay)
        self.decay_every = int(decay_every)
        self.real_steps = 0

    def add(
        self,
        obs: np.ndarray,
        next_obs: np.ndarray,
        action: np.ndarray,
        reward: np.ndarray,
        done: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """Route each env's transition to the self-loop or the main buffer."""
        action = action.reshape((len(infos), self.action_dim))
        for i, info in enumerate(infos):
            vector = info.get("reward_vector", (float(reward[i]), 0.0))
            rejected = info.get("constraint", {}).get("enforcement") == "rejected"
            one = (
                obs[i : i + 1],
                next_obs[i : i + 1],
                action[i : i + 1],
                reward[i : i + 1],
                done[i : i + 1],
            )
            if rejected and not done[i]:  # a self-loop (a rejection that ends the episode is real)
                self.self_loop_reward_vectors[self.self_loops.pos] = vector
                self.self_loops.add(*one, [info])
                continue
            self.reward_vectors[self.pos] = vector
            super().add(*one, [info])
            self.real_steps += 1
            if self.real_steps % self.decay_every == 0:
                self.self_loop_ratio *= self.ratio_decay

    def sample(self, batch_size: int, env: VecNormalize | None = None) -> DualReplayBufferSamples:  # type: ignore[override]
        """A batch of ``int(batch_size * ratio)`` self-loops (at most all stored) and real steps.

        Indices come from numpy's global generator, which SB3 seeds, as its own buffers do.
        """
        n_loops_stored, n_real_stored = self.self_loops.size(), self.size()
        if n_loops_stored + n_real_stored == 0:
            raise ConstraintError("cannot sample from an empty DualReplayBuffer")
        n_loops = min(n_loops_stored, int(batch_size * self.self_loop_ratio))
        if n_real_stored == 0:
            n_loops = batch_size
        real_inds = (
            np.random.randint(0, n_real_stored, size=batch_size - n_loops)  # noqa: NPY002
            if n_real_stored
            else np.zeros(0, int)
        )
        parts = [(self._get_samples(real_inds, env), self.reward_vectors[real_inds], 0.0)]
        if n_loops:
            loop_inds = np.random.randint(0, n_loops_stored, size=n_loops)  # noqa: NPY002
            loops = self.self_loops._get_samples(loop_inds, env)
            parts.append((loops, self.self_loop_reward_vectors[loop_inds], 1.0))
        return self._concatenate(parts)

    def _concatenate(
        self, parts: list[tuple[ReplayBufferSamples, np.ndarray, float]]
    ) -> DualReplayBufferSamples:
        fields = [
            th.cat([getattr(p[0], name) for p in parts]) for name in ReplayBufferSamples._fields[:5]
        ]
        vectors = self.to_torch(np.concatenate([p[1] for p in parts]))
        flags = self.to_torch(
            np.concatenate([np.full((len(p[1]), 1), p[2], dtype=np.float32) for p in parts])
        )
        observations, actions, next_observations, dones, rewards = fields
        return DualReplayBufferSamples(
            observations=observations,
            actions=actions,
            next_observations=next_observations,
            dones=dones,
            rewards=rewards,
            discounts=None,
            reward_vectors=vectors,
            self_loops=flags,
        )
