"""``LagrangianOnPolicyAlgorithm``: the naive Lagrangian on top of the cost plumbing."""

from __future__ import annotations

from typing import Any

import numpy as np

from acrl_policies.costs import CostOnPolicyAlgorithm
from acrl_policies.lagrangian.multiplier import LagrangeMultiplier

__all__ = ["LagrangianOnPolicyAlgorithm", "lagrangian_advantages"]


def lagrangian_advantages(
    reward_advantages: np.ndarray, cost_advantages: np.ndarray, multiplier: float
) -> np.ndarray:
    """(Â_r − λ·Â_c) / (1 + λ) with both advantages standardised over the rollout.

    The advantage of the Lagrangian L = J_r − λ·(J_c − b), divided by 1 + λ to keep its
    scale bounded as λ grows (OmniSafe's and SafePO's ``*Lag``; OmniSafe standardises both
    advantages, github.com/PKU-Alignment/omnisafe).

    Args:
        reward_advantages: reward GAE of the rollout.
        cost_advantages: cost GAE of the rollout (same shape).
        multiplier: λ ≥ 0.

    Example:
        >>> adv = lagrangian_advantages(np.array([1.0, -1.0]), np.array([1.0, -1.0]), 1.0)
        >>> adv.tolist()  # reward and cost pull equally hard in opposite directions
        [0.0, 0.0]
    """

    def standardise(x: np.ndarray) -> np.ndarray:
        return (x - x.mean()) / (x.std() + 1e-8)

    combined = standardise(reward_advantages) - multiplier * standardise(cost_advantages)
    return (combined / (1.0 + multiplier)).astype(np.float32)


class LagrangianOnPolicyAlgorithm(CostOnPolicyAlgorithm):
    """The naive Lagrangian method, placed before an SB3 on-policy algorithm.

    Before each update, the multiplier λ takes one Adam step on −λ·(J_c − b)
    (:class:`~acrl_policies.lagrangian.LagrangeMultiplier`) with J_c the mean cost of the
    last ``cost_window_size`` episodes; the rollout's advantages are replaced by
    :func:`lagrangian_advantages`; the base algorithm (TRPO, PPO) then updates policy and
    reward critic unchanged, and the cost critic is fitted on the cost returns. The base
    algorithm's advantage normalisation, if on, rescales the combined advantage again,
    which changes neither TRPO's step (its length is set by ``target_kl``) nor the balance
    between reward and cost.

    Subclasses set :attr:`critic_epochs_attribute`, the base algorithm's attribute that
    holds the critic's epochs per update.

    Args:
        *args: positional arguments of the algorithm (``policy``, ``env``).
        lagrangian_multiplier_init: λ at the start (≥ 0).
        lagrangian_multiplier_lr: Adam learning rate of λ.
        **kwargs: keyword arguments of :class:`~acrl_policies.costs.CostOnPolicyAlgorithm`
            and of the algorithm.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> from acrl_policies import PPOLagrangian
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
        >>> model = PPOLagrangian("MlpPolicy", env, n_steps=64, batch_size=32, seed=0).learn(64)
        >>> round(model.lagrangian_multiplier, 3)  # J_c < 25: lowered towards 0
        0.0

    Change logs:
        - v0.1.0 - Initially added.
    """

    critic_epochs_attribute = "n_critic_updates"

    def __init__(
        self,
        *args: Any,
        lagrangian_multiplier_init: float = 0.001,
        lagrangian_multiplier_lr: float = 0.035,
        **kwargs: Any,
    ) -> None:
        self.lagrange = LagrangeMultiplier(lagrangian_multiplier_init, lagrangian_multiplier_lr)
        super().__init__(*args, **kwargs)

    @property
    def lagrangian_multiplier(self) -> float:
        """The current Lagrange multiplier λ."""
        return self.lagrange.value

    def train(self) -> None:
        """Update λ, combine the advantages, run the base algorithm's update, fit V_c."""
        episode_cost = self.episode_cost_mean
        multiplier = self.lagrange.update(episode_cost, self.cost_limit)
        buffer = self.rollout_buffer
        buffer.advantages = lagrangian_advantages(
            buffer.advantages, buffer.cost_advantages, multiplier
        )
        super().train()
        epochs = getattr(self, self.critic_epochs_attribute)
        self._fit_critics(epochs, self.batch_size)  # type: ignore[attr-defined]
        self.logger.record("train/lagrangian_multiplier", multiplier)
        self.logger.record("train/ep_cost", episode_cost)
