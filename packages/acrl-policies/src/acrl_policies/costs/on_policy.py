"""``CostOnPolicyAlgorithm``: the cost plumbing shared by the on-policy safe-RL algorithms.

- :class:`CostOnPolicyAlgorithm` — a mixin placed before an SB3 on-policy algorithm
  (``class CTRPO(CostOnPolicyAlgorithm, TRPO)``) that reads ``info["cost"]`` during
  rollouts, fills a :class:`~acrl_policies.costs.CostRolloutBuffer`, tracks episode
  costs, logs ``rollout/ep_cost_mean`` and fits the cost critic.
- :func:`read_costs`, :func:`check_cost_limit` — re-exported from
  :mod:`acrl_policies.costs.tracking`, where they live with the shared
  :class:`~acrl_policies.costs.tracking.CostTracking`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch as th
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.utils import obs_as_tensor
from stable_baselines3.common.vec_env import VecEnv
from torch import nn
from torch.nn import functional as F

from acrl_policies.costs.buffers import CostRolloutBuffer
from acrl_policies.costs.tracking import CostTracking, check_cost_limit, read_costs
from acrl_policies.errors import PolicyError

if TYPE_CHECKING:
    from acrl_policies.costs.policies import CostActorCriticPolicy

__all__ = ["CostOnPolicyAlgorithm", "check_cost_limit", "read_costs"]


class _CostCollector(BaseCallback):
    """Internal callback: hands each rollout step's ``infos`` to the algorithm."""

    model: CostOnPolicyAlgorithm

    def _on_step(self) -> bool:
        self.model._record_step_costs(self.locals["infos"], self.locals["dones"])
        return True


class CostOnPolicyAlgorithm(CostTracking, OnPolicyAlgorithm):
    """Cost plumbing for an SB3 on-policy algorithm, used as the first base class.

    ``class CTRPO(CostOnPolicyAlgorithm, TRPO)`` gets, without copying
    ``collect_rollouts``:

    - a :class:`~acrl_policies.costs.CostRolloutBuffer` (``rollout_buffer_class``
      default) and a :class:`~acrl_policies.costs.CostActorCriticPolicy` check;
    - at every rollout step, an internal callback (run before the user's) that reads
      ``info["cost"]`` (a :class:`~acrl_policies.errors.MissingCostError` at the first
      step if it is absent), bootstraps the cost at time-limit truncations with the cost
      critic, writes it into the buffer and updates the episode costs;
    - after the rollout, the cost values of all stored observations in one batch and the
      cost advantages/returns by GAE;
    - :attr:`episode_cost_mean` (J_c, the mean undiscounted cost of the last
      ``cost_window_size`` finished episodes), logged as ``rollout/ep_cost_mean``;
    - :meth:`_fit_critics`, the cost critic's regression on the cost returns (and the
      reward critic's, for algorithms that replace the base class's ``train``).

    The subclass's ``train`` uses them. The cost critic is fitted by MSE like SB3's
    critic; the reference's L2 penalty (0.001) and gradient clipping (40) are not used
    (the authors' ``algorithms/c-trpo.py``, github.com/milosen/ctrpo).

    Args:
        *args: positional arguments of the algorithm (``policy``, ``env``).
        cost_limit: limit b on the expected undiscounted episode cost (> 0).
        cost_gamma: discount factor of the costs (``None``: ``gamma``).
        cost_gae_lambda: GAE's λ for the costs (``None``: ``gae_lambda``).
        cost_window_size: finished episodes averaged into J_c (the reference uses 50).
        **kwargs: keyword arguments of the algorithm.

    Raises:
        InvalidCostLimitError: ``cost_limit`` is ≤ 0, NaN or inf.
        PolicyError: a ``rollout_buffer_class`` or policy without cost support.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> from acrl_policies import TRPOLagrangian
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
        >>> model = TRPOLagrangian("MlpPolicy", env, cost_limit=10, n_steps=64, batch_size=64,
        ...                        seed=0).learn(64)
        >>> model.rollout_buffer.costs.shape, model.episode_cost_mean > 0
        ((64, 1), True)

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy: CostActorCriticPolicy
    rollout_buffer: CostRolloutBuffer

    def __init__(
        self,
        *args: Any,
        cost_limit: float = 25.0,
        cost_gamma: float | None = None,
        cost_gae_lambda: float | None = None,
        cost_window_size: int = 50,
        **kwargs: Any,
    ) -> None:
        buffer_class = kwargs.get("rollout_buffer_class") or CostRolloutBuffer
        if not issubclass(buffer_class, CostRolloutBuffer):
            raise PolicyError(
                f"rollout_buffer_class must subclass acrl_policies.costs.CostRolloutBuffer, got "
                f"{buffer_class.__name__}; leave it unset to use CostRolloutBuffer"
            )
        kwargs["rollout_buffer_class"] = buffer_class
        kwargs["rollout_buffer_kwargs"] = {
            "cost_gamma": cost_gamma,
            "cost_gae_lambda": cost_gae_lambda,
            **(kwargs.get("rollout_buffer_kwargs") or {}),
        }
        super().__init__(*args, cost_limit=cost_limit, cost_window_size=cost_window_size, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        if not hasattr(self.policy, "predict_cost_values"):
            raise PolicyError(
                f"{type(self).__name__} needs a policy with a cost critic; got "
                f"{type(self.policy).__name__}. Use 'MlpPolicy' "
                "(acrl_policies.costs.CostActorCriticPolicy) or a subclass of it"
            )
        self._ensure_episode_costs()

    def _init_callback(self, callback: MaybeCallback, progress_bar: bool = False) -> BaseCallback:
        # The narrow hook into OnPolicyAlgorithm.collect_rollouts: a callback that runs first.
        callbacks: list[Any]
        if callback is None:
            callbacks = []
        else:
            callbacks = callback if isinstance(callback, list) else [callback]
        return super()._init_callback([_CostCollector(), *callbacks], progress_bar)

    def _record_step_costs(self, infos: Sequence[dict[str, Any]], dones: np.ndarray) -> None:
        """Store one vectorised step's costs in the buffer (before SB3 adds the step)."""
        costs = self._track_step_costs(infos, dones)
        for idx in np.flatnonzero(dones):
            info = infos[int(idx)]
            if info.get("terminal_observation") is not None and info.get("TimeLimit.truncated"):
                # bootstrap the truncated episode's cost-to-go, as SB3 does for the reward
                terminal_obs = self.policy.obs_to_tensor(info["terminal_observation"])[0]
                with th.no_grad():
                    terminal_cost = self.policy.predict_cost_values(terminal_obs)[0].item()
                costs[idx] += self.rollout_buffer.cost_gamma * terminal_cost
        self.rollout_buffer.costs[self.rollout_buffer.pos] = costs

    def collect_rollouts(
        self,
        env: VecEnv,
        callback: BaseCallback,
        rollout_buffer: RolloutBuffer,
        n_rollout_steps: int,
    ) -> bool:
        """SB3's rollout, then the cost values and cost GAE of the whole rollout."""
        if not super().collect_rollouts(env, callback, rollout_buffer, n_rollout_steps):
            return False
        buffer = self.rollout_buffer
        observations = buffer.observations.reshape(-1, *buffer.obs_shape)
        with th.no_grad():
            cost_values = self.policy.predict_cost_values(obs_as_tensor(observations, self.device))
            last_obs = obs_as_tensor(self._last_obs, self.device)  # type: ignore[arg-type]
            last_cost_values = self.policy.predict_cost_values(last_obs)
        buffer.compute_cost_returns_and_advantage(
            cost_values.cpu().numpy().reshape(buffer.buffer_size, buffer.n_envs),
            last_cost_values.cpu().numpy().reshape(-1),
            np.asarray(self._last_episode_starts),
        )
        return True

    def _fit_critics(
        self, n_epochs: int, batch_size: int, actor_params: list[nn.Parameter] | None = None
    ) -> tuple[float, float]:
        """Regress the cost critic on the cost returns, and the reward critic too if asked.

        Both critics are fitted by MSE on the same minibatches with one backward pass;
        each has its own optimizer. Logs ``train/cost_value_loss`` (and
        ``train/value_loss``).

        Args:
            n_epochs: passes over the rollout.
            batch_size: minibatch size.
            actor_params: if given, also fit the reward critic (sb3-contrib TRPO's critic
                loop), dropping these parameters' gradients so the loss cannot move the
                policy.

        Returns:
            The mean reward-critic loss (NaN if not fitted) and the mean cost-critic loss.
        """
        self._update_learning_rate(self.policy.cost_optimizer)
        value_losses, cost_losses = [], []
        for _ in range(n_epochs):
            for data in self.rollout_buffer.get(batch_size):
                predicted = self.policy.predict_cost_values(data.observations).flatten()
                loss = F.mse_loss(data.cost_returns, predicted)
                cost_losses.append(loss.item())
                self.policy.cost_optimizer.zero_grad()
                if actor_params is not None:
                    values = self.policy.predict_values(data.observations).flatten()
                    value_loss = F.mse_loss(data.returns, values)
                    value_losses.append(value_loss.item())
                    loss = loss + value_loss
                    self.policy.optimizer.zero_grad()
                loss.backward()
                if actor_params is not None:
                    for param in actor_params:
                        param.grad = None
                    self.policy.optimizer.step()
                self.policy.cost_optimizer.step()
        value_loss_mean = float(np.mean(value_losses)) if value_losses else math.nan
        self.logger.record("train/cost_value_loss", float(np.mean(cost_losses)))
        if value_losses:
            self.logger.record("train/value_loss", value_loss_mean)
        return value_loss_mean, float(np.mean(cost_losses))

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, tensors = super()._get_torch_save_params()
        return [*state_dicts, "policy.cost_optimizer"], tensors
