"""``CostOnPolicyAlgorithm``: the cost plumbing shared by the on-policy safe-RL algorithms.

- :class:`CostOnPolicyAlgorithm` — a mixin placed before an SB3 on-policy algorithm
  (``class CTRPO(CostOnPolicyAlgorithm, TRPO)``) that reads ``info["cost"]`` during
  rollouts, fills a :class:`~acrl_policies.costs.CostRolloutBuffer`, tracks episode
  costs, logs ``rollout/ep_cost_mean`` and fits the cost critic.
- :func:`read_costs` — the per-step costs of a vectorised step, or a
  :class:`~acrl_policies.errors.MissingCostError` that names the providers.
- :func:`check_cost_limit` — validates a cost limit.
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
from acrl_policies.costs.episode_costs import EpisodeCosts
from acrl_policies.errors import InvalidCostLimitError, MissingCostError, PolicyError

if TYPE_CHECKING:
    from acrl_policies.costs.policies import CostActorCriticPolicy

__all__ = ["CostOnPolicyAlgorithm", "check_cost_limit", "read_costs"]

_COST_PROVIDERS = (
    "Cost-aware algorithms learn from a per-step CMDP cost in info['cost']. Use a task "
    "that reports it, such as gym.make('ACRL/SafeHopperVelocity-v1') (or another "
    "ACRL/Safe*Velocity-v1 task), or an action-constrained task with an enforcement wrapper, "
    "gym.make('ACRL/HopperM10-v0', enforce='project') or acrl.wrap(env, constraint, "
    "enforce='project' | 'reject' | 'automdp' | 'monitor') (ConstraintMonitor only "
    "measures), whose cost is 1.0 on each step whose proposed action was infeasible."
)


def read_costs(infos: Sequence[dict[str, Any]]) -> np.ndarray:
    """The ``info["cost"]`` of each env of a vectorised step, as a float array.

    Args:
        infos: the ``infos`` list a ``VecEnv.step`` returned.

    Raises:
        MissingCostError: an env's ``info`` has no ``"cost"``, or it is NaN or inf.

    Example:
        >>> read_costs([{"cost": 1.0}, {"cost": 0.0}]).tolist()
        [1.0, 0.0]
        >>> read_costs([{"x_velocity": 0.3}])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_policies.errors.MissingCostError: env 0 reported no info['cost'] (its info has ...
    """
    costs = np.empty(len(infos), dtype=np.float64)
    for idx, info in enumerate(infos):
        cost = info.get("cost")
        if cost is None:
            raise MissingCostError(
                f"env {idx} reported no info['cost'] (its info has keys {sorted(info)}). "
                + _COST_PROVIDERS
            )
        costs[idx] = float(cost)
        if not math.isfinite(costs[idx]):
            raise MissingCostError(
                f"env {idx} reported info['cost'] = {cost!r}; costs must be finite"
            )
    return costs


def check_cost_limit(cost_limit: float, name: str = "cost_limit") -> float:
    """Return ``cost_limit`` as a float if it is finite and positive.

    Args:
        cost_limit: limit on the expected undiscounted episode cost.
        name: the parameter's name, for the message.

    Raises:
        InvalidCostLimitError: the limit is not a finite positive number.

    Example:
        >>> check_cost_limit(25)
        25.0
        >>> check_cost_limit(0.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_policies.errors.InvalidCostLimitError: cost_limit must be a finite number > 0 ...
    """
    try:
        value = float(cost_limit)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InvalidCostLimitError(
            f"{name} must be a finite number > 0 (the allowed expected episode cost, e.g. 25 "
            f"for the ACRL/Safe*Velocity-v1 tasks), got {cost_limit!r}"
        )
    return value


class _CostCollector(BaseCallback):
    """Internal callback: hands each rollout step's ``infos`` to the algorithm."""

    model: CostOnPolicyAlgorithm

    def _on_step(self) -> bool:
        self.model._record_step_costs(self.locals["infos"], self.locals["dones"])
        return True


class CostOnPolicyAlgorithm(OnPolicyAlgorithm):
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
    (safe-rl §1.6).

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
        self.cost_limit = check_cost_limit(cost_limit)
        if int(cost_window_size) < 1:
            raise PolicyError(f"cost_window_size must be >= 1, got {cost_window_size!r}")
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
        self.cost_window_size = int(cost_window_size)
        self.episode_costs: EpisodeCosts | None = None
        super().__init__(*args, **kwargs)

    @property
    def episode_cost_mean(self) -> float:
        """J_c: mean undiscounted cost of the last ``cost_window_size`` finished episodes."""
        return 0.0 if self.episode_costs is None else self.episode_costs.mean()

    def _setup_model(self) -> None:
        super()._setup_model()
        if not hasattr(self.policy, "predict_cost_values"):
            raise PolicyError(
                f"{type(self).__name__} needs a policy with a cost critic; got "
                f"{type(self.policy).__name__}. Use 'MlpPolicy' "
                "(acrl_policies.costs.CostActorCriticPolicy) or a subclass of it"
            )
        if self.episode_costs is None or len(self.episode_costs.running) != self.n_envs:
            self.episode_costs = EpisodeCosts(self.n_envs, self.cost_window_size)

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        env_reset = reset_num_timesteps or self._last_obs is None
        result = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        if reset_num_timesteps or self.episode_costs is None:
            self.episode_costs = EpisodeCosts(self.n_envs, self.cost_window_size)
        elif env_reset:
            self.episode_costs.reset_running()
        return result

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
        costs = read_costs(infos)
        assert self.episode_costs is not None  # set by _setup_model
        self.episode_costs.update(costs, dones)
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

    def dump_logs(self, iteration: int = 0) -> None:
        """SB3's logs plus ``rollout/ep_cost_mean`` (J_c)."""
        if self.episode_costs is not None and self.episode_costs.finished:
            self.logger.record("rollout/ep_cost_mean", self.episode_cost_mean)
        super().dump_logs(iteration)

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, tensors = super()._get_torch_save_params()
        return [*state_dicts, "policy.cost_optimizer"], tensors
