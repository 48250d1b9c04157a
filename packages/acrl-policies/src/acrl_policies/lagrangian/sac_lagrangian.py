"""``SACLagrangian``: SAC on the Lagrangian of a CMDP (the SAC-Lag baseline)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, ClassVar, TypeVar

import numpy as np
import torch as th
from stable_baselines3 import SAC
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.utils import polyak_update

from acrl_policies.costs import (
    CostOffPolicyAlgorithm,
    CostReplayBufferSamples,
    combine_twins,
    twin_td_loss,
)
from acrl_policies.costs.policies import CostSACPolicy
from acrl_policies.lagrangian.multiplier import LagrangeMultiplier

__all__ = ["SACLagrangian"]

SelfSACLagrangian = TypeVar("SelfSACLagrangian", bound="SACLagrangian")


class SACLagrangian(CostOffPolicyAlgorithm, SAC):
    """SAC-Lagrangian: SB3's SAC with a cost critic and a Lagrange multiplier on its actor.

    Paper: Ha, Xu, Tan, Levine, Tan, "Learning to Walk in the Real World with Minimal
    Human Effort" (CoRL 2020) introduced the Lagrangian SAC; the baseline here is
    OmniSafe's ``SACLag`` and FSRL's ``SACLagAgent`` (github.com/PKU-Alignment/omnisafe,
    github.com/liuzuxin/FSRL). Code: SB3's
    ``SAC`` with the cost plumbing of :class:`~acrl_policies.costs.CostOffPolicyAlgorithm`.

    The actor minimises (α·log π(a|s) − Q_r(s, a) + λ·Q_c(s, a)) / (1 + λ) with a ~ π
    reparameterised, Q_r the minimum of its twins and Q_c their maximum
    (:meth:`~acrl_policies.costs.CostOffPolicyAlgorithm.cost_q`): the loss of OmniSafe's
    ``SACLag._loss_pi``, whose division by 1 + λ keeps the gradient scale bounded as λ
    grows (FSRL adds λ·Q_c without it). The reward critic, the entropy coefficient and
    the targets are SAC's; the twin cost critic is fitted by TD on the stored costs
    (no entropy term). λ is a :class:`~acrl_policies.lagrangian.LagrangeMultiplier`
    (Adam on −λ·(J_c − b), clipped at 0), stepped at the start of an update round when
    at least one training episode has finished since its last step, J_c being the mean
    cost of the last ``cost_window_size`` episodes; one step per fresh episode cost is
    OmniSafe's once-per-epoch update for 1000-step episodes.

    Args:
        policy: ``"MlpPolicy"`` (a :class:`~acrl_policies.costs.CostSACPolicy`).
        env: the environment to learn from; its ``info`` must carry ``"cost"``.
        cost_limit: limit b on the expected undiscounted episode cost (> 0).
        lagrangian_multiplier_init: λ at the start.
        lagrangian_multiplier_lr: Adam learning rate of λ.
        cost_window_size: finished episodes averaged into J_c.
        pessimistic_cost_critic: Q_c is the maximum of the twin cost critics (``False``:
            the minimum).
        _init_setup_model: whether to build the networks now.
        **kwargs: any other argument of SB3's ``SAC``, with its default.

    Raises:
        InvalidCostLimitError: ``cost_limit`` ≤ 0 or non-finite.
        MissingCostError: at the first step, if the env reports no ``info["cost"]``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/SafeHopperVelocity-v1")
        >>> model = SACLagrangian("MlpPolicy", env, learning_starts=64, batch_size=32,
        ...                       policy_kwargs=dict(net_arch=[32]), seed=0).learn(128)
        >>> model.lagrangian_multiplier < 0.001  # J_c below the limit: λ falls
        True

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": CostSACPolicy}
    policy: CostSACPolicy

    def __init__(
        self,
        policy: str | type[CostSACPolicy],
        env: Any,
        cost_limit: float = 25.0,
        lagrangian_multiplier_init: float = 0.001,
        lagrangian_multiplier_lr: float = 0.035,
        cost_window_size: int = 50,
        pessimistic_cost_critic: bool = True,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        self.lagrange = LagrangeMultiplier(lagrangian_multiplier_init, lagrangian_multiplier_lr)
        self._episodes_at_lagrange_update = 0
        super().__init__(
            policy,
            env,
            cost_limit=cost_limit,
            cost_window_size=cost_window_size,
            pessimistic_cost_critic=pessimistic_cost_critic,
            _init_setup_model=False,
            **kwargs,
        )
        if _init_setup_model:
            self._setup_model()

    @property
    def lagrangian_multiplier(self) -> float:
        """The current Lagrange multiplier λ."""
        return self.lagrange.value

    def _update_lagrange(self) -> float:
        """Step λ on J_c − b if an episode finished since the last step; return λ."""
        episodes = 0 if self.episode_costs is None else self.episode_costs.total_finished
        if episodes != self._episodes_at_lagrange_update:
            self._episodes_at_lagrange_update = episodes
            self.lagrange.update(self.episode_cost_mean, self.cost_limit)
        return self.lagrange.value

    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        """One update round: λ, then per step SAC's critic and α, the cost critic, the actor."""
        multiplier = self._update_lagrange()
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        optimizers.append(self.policy.cost_critic.optimizer)
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        logs: dict[str, list[float]] = defaultdict(list)
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            actions_pi, log_prob = self.actor.action_log_prob(data.observations)
            log_prob = log_prob.reshape(-1, 1)
            ent_coef = self._step_ent_coef(log_prob, logs)
            with th.no_grad():
                next_actions, next_log_prob = self.actor.action_log_prob(data.next_observations)
            logs["critic_loss"].append(
                self._fit_reward_critic(data, next_actions, next_log_prob, ent_coef)
            )
            logs["cost_critic_loss"].append(self._fit_cost_critic(data, next_actions))
            q_reward = combine_twins(self.critic(data.observations, actions_pi))
            q_cost = self.cost_q(data.observations, actions_pi)
            actor_loss = (ent_coef * log_prob - q_reward + multiplier * q_cost).mean()
            actor_loss = actor_loss / (1.0 + multiplier)
            self.actor.optimizer.zero_grad()
            actor_loss.backward()
            self.actor.optimizer.step()
            logs["actor_loss"].append(actor_loss.item())
            logs["q_cost"].append(q_cost.mean().item())
            self._n_updates += 1
            if self._n_updates % self.target_update_interval == 0:
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.batch_norm_stats, self.batch_norm_stats_target, 1.0)
                self._update_cost_target()
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/lagrangian_multiplier", multiplier)
        self.logger.record("train/ep_cost", self.episode_cost_mean)
        for key, values in logs.items():
            self.logger.record(f"train/{key}", float(np.mean(values)))

    def _step_ent_coef(self, log_prob: th.Tensor, logs: dict[str, list[float]]) -> th.Tensor:
        """SAC's entropy coefficient α (one gradient step if it is learned)."""
        if self.ent_coef_optimizer is None:
            return self.ent_coef_tensor
        ent_coef = th.exp(self.log_ent_coef.detach())
        ent_coef_loss = -(self.log_ent_coef * (log_prob + self.target_entropy).detach()).mean()
        self.ent_coef_optimizer.zero_grad()
        ent_coef_loss.backward()
        self.ent_coef_optimizer.step()
        logs["ent_coef"].append(ent_coef.item())
        logs["ent_coef_loss"].append(ent_coef_loss.item())
        return ent_coef

    def _fit_reward_critic(
        self,
        data: CostReplayBufferSamples,
        next_actions: th.Tensor,
        next_log_prob: th.Tensor,
        ent_coef: th.Tensor,
    ) -> float:
        """SAC's soft TD step of the twin reward critic; returns its loss."""
        with th.no_grad():
            next_q = combine_twins(self.critic_target(data.next_observations, next_actions))
            next_q = next_q - ent_coef * next_log_prob.reshape(-1, 1)
            target = data.rewards + (1 - data.dones) * self.gamma * next_q
        loss = twin_td_loss(self.critic, data.observations, data.actions, target)
        self.critic.optimizer.zero_grad()
        loss.backward()
        self.critic.optimizer.step()
        return loss.item()

    def learn(
        self: SelfSACLagrangian,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "SACLagrangian",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfSACLagrangian:
        """Train for ``total_timesteps`` env steps (SB3's ``learn``)."""
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
