"""``CostRolloutBuffer``: SB3's ``RolloutBuffer`` plus per-step costs and their GAE.

- :func:`generalized_advantage_estimate` — GAE(λ) over a ``(n_steps, n_envs)`` rollout, the
  recursion SB3 uses for rewards, as a pure function.
- :class:`CostRolloutBufferSamples` — ``RolloutBufferSamples`` plus cost values, cost
  advantages and cost returns.
- :class:`CostRolloutBuffer` — the ``rollout_buffer_class`` of the cost-aware algorithms.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.vec_env import VecNormalize

from acrl_policies.errors import PolicyError

__all__ = ["CostRolloutBuffer", "CostRolloutBufferSamples", "generalized_advantage_estimate"]


def generalized_advantage_estimate(
    rewards: np.ndarray,
    values: np.ndarray,
    last_values: np.ndarray,
    episode_starts: np.ndarray,
    dones: np.ndarray,
    gamma: float,
    gae_lambda: float,
) -> np.ndarray:
    """GAE(λ) advantages of a rollout (Schulman et al. 2016, eq. 16), SB3's recursion.

    ``A_t = δ_t + γλ(1 - d_{t+1}) A_{t+1}`` with ``δ_t = r_t + γ(1 - d_{t+1}) V_{t+1} - V_t``,
    where ``d_{t+1}`` says that step ``t`` ended its episode. The returns (value targets)
    are ``A + V``.

    Args:
        rewards: ``(n_steps, n_envs)`` per-step rewards (or costs), already bootstrapped
            at time-limit truncations.
        values: ``(n_steps, n_envs)`` value estimates of the visited states.
        last_values: ``(n_envs,)`` value of the state after the last step.
        episode_starts: ``(n_steps, n_envs)``, 1 where a step starts an episode.
        dones: ``(n_envs,)``, 1 where the last step ended its episode.
        gamma: discount factor.
        gae_lambda: GAE's λ (1: Monte-Carlo, 0: one-step TD).

    Returns:
        ``(n_steps, n_envs)`` float32 advantages.

    Example:
        >>> costs = np.array([[1.0], [0.0], [1.0]])
        >>> adv = generalized_advantage_estimate(costs, np.zeros((3, 1)), np.zeros(1),
        ...                                      np.zeros((3, 1)), np.ones(1), 0.5, 1.0)
        >>> adv[:, 0].tolist()  # discounted cost-to-go: 1 + 0.5 * 0 + 0.25 * 1, ...
        [1.25, 0.5, 1.0]
    """
    n_steps = rewards.shape[0]
    advantages = np.zeros_like(rewards, dtype=np.float32)
    last_gae = np.zeros_like(last_values, dtype=np.float32)
    for step in reversed(range(n_steps)):
        if step == n_steps - 1:
            next_non_terminal = 1.0 - np.asarray(dones, dtype=np.float32)
            next_values = last_values
        else:
            next_non_terminal = 1.0 - episode_starts[step + 1]
            next_values = values[step + 1]
        delta = rewards[step] + gamma * next_values * next_non_terminal - values[step]
        last_gae = delta + gamma * gae_lambda * next_non_terminal * last_gae
        advantages[step] = last_gae
    return advantages


class CostRolloutBufferSamples(NamedTuple):
    """One (mini)batch of a :class:`CostRolloutBuffer`: SB3's fields, then the cost fields."""

    observations: th.Tensor
    actions: th.Tensor
    old_values: th.Tensor
    old_log_prob: th.Tensor
    advantages: th.Tensor
    returns: th.Tensor
    old_cost_values: th.Tensor
    cost_advantages: th.Tensor
    cost_returns: th.Tensor


def _unit_interval(value: float | None, name: str, default: float) -> float:
    value = default if value is None else float(value)
    if not 0.0 <= value <= 1.0:
        raise PolicyError(f"{name} must lie in [0, 1], got {value!r}")
    return value


class CostRolloutBuffer(RolloutBuffer):
    """A ``RolloutBuffer`` that also holds per-step costs, cost values and their GAE.

    Rewards are handled exactly as SB3 does. The costs (``info["cost"]``, bootstrapped at
    time-limit truncations with the cost critic) are written into :attr:`costs` while the
    rollout runs; after it, :meth:`compute_cost_returns_and_advantage` stores the cost
    values of all visited states and computes cost advantages and cost returns by GAE
    with their own ``cost_gamma`` and ``cost_gae_lambda`` (C-TRPO's reference uses
    γ_c = γ = 0.99 and λ_c = λ = 0.95; C-TRPO, arXiv:2411.02957). The algorithms
    (:class:`~acrl_policies.costs.CostOnPolicyAlgorithm`) fill it; users only pick it
    through ``rollout_buffer_kwargs``.

    Args:
        buffer_size: steps per env in one rollout (``n_steps``).
        observation_space: the env's observation space (not a ``Dict``).
        action_space: the env's action space.
        device: torch device of the sampled tensors.
        gae_lambda: GAE's λ for the rewards.
        gamma: discount factor of the rewards.
        n_envs: number of parallel envs.
        cost_gamma: discount factor of the costs (``None``: ``gamma``).
        cost_gae_lambda: GAE's λ for the costs (``None``: ``gae_lambda``).

    Example:
        >>> buf = CostRolloutBuffer(4, spaces.Box(-1, 1, (2,)), spaces.Box(-1, 1, (1,)),
        ...                         gamma=0.99, gae_lambda=0.95, cost_gae_lambda=1.0)
        >>> buf.costs.shape, buf.cost_gamma, buf.cost_gae_lambda
        ((4, 1), 0.99, 1.0)

    Change logs:
        - v0.1.0 - Initially added.
    """

    costs: np.ndarray
    cost_values: np.ndarray
    cost_advantages: np.ndarray
    cost_returns: np.ndarray

    def __init__(
        self,
        buffer_size: int,
        observation_space: spaces.Space,
        action_space: spaces.Space,
        device: th.device | str = "auto",
        gae_lambda: float = 1,
        gamma: float = 0.99,
        n_envs: int = 1,
        cost_gamma: float | None = None,
        cost_gae_lambda: float | None = None,
    ) -> None:
        if isinstance(observation_space, spaces.Dict):
            raise PolicyError(
                "CostRolloutBuffer does not support Dict observations; flatten them with "
                "gymnasium.wrappers.FlattenObservation"
            )
        self.cost_gamma = _unit_interval(cost_gamma, "cost_gamma", gamma)
        self.cost_gae_lambda = _unit_interval(cost_gae_lambda, "cost_gae_lambda", gae_lambda)
        super().__init__(
            buffer_size, observation_space, action_space, device, gae_lambda, gamma, n_envs
        )

    def reset(self) -> None:
        """Empty the buffer, cost arrays included."""
        shape = (self.buffer_size, self.n_envs)
        self.costs = np.zeros(shape, dtype=np.float32)
        self.cost_values = np.zeros(shape, dtype=np.float32)
        self.cost_advantages = np.zeros(shape, dtype=np.float32)
        self.cost_returns = np.zeros(shape, dtype=np.float32)
        super().reset()

    def compute_cost_returns_and_advantage(
        self, cost_values: np.ndarray, last_cost_values: np.ndarray, dones: np.ndarray
    ) -> None:
        """Store the cost values and compute cost advantages (GAE) and returns (A + V).

        Call it once the rollout is complete, before :meth:`get`.

        Args:
            cost_values: ``(n_steps, n_envs)`` cost-critic values of the stored observations.
            last_cost_values: ``(n_envs,)`` cost value of the observation after the last step.
            dones: ``(n_envs,)`` whether the last step ended its episode.
        """
        self.cost_values[:] = cost_values
        self.cost_advantages = generalized_advantage_estimate(
            self.costs,
            self.cost_values,
            np.asarray(last_cost_values, dtype=np.float32).reshape(-1),
            self.episode_starts,
            dones,
            self.cost_gamma,
            self.cost_gae_lambda,
        )
        self.cost_returns = self.cost_advantages + self.cost_values

    def get(  # type: ignore[override]
        self, batch_size: int | None = None
    ) -> Generator[CostRolloutBufferSamples, None, None]:
        """Yield shuffled minibatches with the cost fields (one batch if ``batch_size`` is None)."""
        if not self.generator_ready:
            for name in ("cost_values", "cost_advantages", "cost_returns"):
                self.__dict__[name] = self.swap_and_flatten(self.__dict__[name])
        yield from super().get(batch_size)  # type: ignore[misc]

    def _get_samples(  # type: ignore[override]
        self, batch_inds: np.ndarray, env: VecNormalize | None = None
    ) -> CostRolloutBufferSamples:
        samples = super()._get_samples(batch_inds, env)
        extra = (
            self.cost_values[batch_inds].flatten(),
            self.cost_advantages[batch_inds].flatten(),
            self.cost_returns[batch_inds].flatten(),
        )
        return CostRolloutBufferSamples(*samples, *map(self.to_torch, extra))
