"""ARAM's augmented replay buffer: :class:`DualReplayBuffer` plus a batched self-loop write."""

from __future__ import annotations

import numpy as np

from acrl_wrappers.sb3 import DualReplayBuffer

__all__ = ["AugmentedReplayBuffer"]


class AugmentedReplayBuffer(DualReplayBuffer):
    """A :class:`~acrl_wrappers.sb3.DualReplayBuffer` that takes many self-loops in one write.

    ARAM's acceptance-rejection produces up to ``M`` self-loop transitions per env step
    (ARAM, arXiv:2503.12932): ``(s, a_rejected, [0, -kappa], s, done=False)``.
    :meth:`add_self_loops` writes them into the self-loop buffer as one numpy slice
    assignment instead of ``M`` calls of SB3's ``add``. Mixing, decay and sampling are
    the parent's.

    Args:
        *args: :class:`~acrl_wrappers.sb3.DualReplayBuffer` arguments.
        **kwargs: :class:`~acrl_wrappers.sb3.DualReplayBuffer` keyword arguments.

    Example:
        >>> from gymnasium import spaces
        >>> buffer = AugmentedReplayBuffer(10, spaces.Box(-1, 1, (3,)), spaces.Box(-1, 1, (2,)))
        >>> buffer.add_self_loops(np.ones((4, 3)), np.zeros((4, 2)), kappa=0.2)
        >>> buffer.self_loops.size(), buffer.self_loop_reward_vectors[0].tolist()
        (4, [0.0, -0.20000000298023224])
    """

    def add_self_loops(self, obs: np.ndarray, actions: np.ndarray, kappa: float) -> None:
        """Store ``len(obs)`` self-loops ``(obs, actions, [0, -kappa], obs, done=False)``.

        Args:
            obs: ``(K, *obs_shape)`` raw observations.
            actions: ``(K, action_dim)`` rejected actions, scaled to ``[-1, 1]``.
            kappa: the penalty per rejection.
        """
        loops = self.self_loops
        k = len(obs)
        if k == 0:
            return
        if k > loops.buffer_size:  # only the newest fit
            obs, actions, k = (
                obs[-loops.buffer_size :],
                actions[-loops.buffer_size :],
                loops.buffer_size,
            )
        idx = (loops.pos + np.arange(k)) % loops.buffer_size
        obs = np.asarray(obs).reshape((k, 1, *loops.obs_shape))
        loops.observations[idx] = obs
        loops.next_observations[idx] = obs
        loops.actions[idx] = np.asarray(actions).reshape((k, 1, loops.action_dim))
        loops.rewards[idx] = -kappa
        loops.dones[idx] = 0.0
        loops.timeouts[idx] = 0.0
        self.self_loop_reward_vectors[idx] = (0.0, -kappa)
        if loops.pos + k >= loops.buffer_size:
            loops.full = True
        loops.pos = int((loops.pos + k) % loops.buffer_size)
