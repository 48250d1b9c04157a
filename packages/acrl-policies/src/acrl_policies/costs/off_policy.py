"""``CostOffPolicyAlgorithm``: the cost plumbing shared by the off-policy safe-RL algorithms.

- :class:`CostOffPolicyAlgorithm` — a mixin placed before an SB3 off-policy algorithm
  (``class SACLagrangian(CostOffPolicyAlgorithm, SAC)``) that reads ``info["cost"]`` at
  every step, stores it in a :class:`~acrl_policies.costs.CostReplayBuffer`, tracks
  episode costs, logs ``rollout/ep_cost_mean`` and fits the twin cost critic by TD.
- :func:`twin_td_loss` — SB3's twin-critic TD loss, ``0.5 · Σ_i MSE(Q_i(s, a), y)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch as th
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.policies import ContinuousCritic
from stable_baselines3.common.utils import polyak_update
from torch.nn import functional as F

from acrl_policies.costs.replay_buffer import CostReplayBuffer, CostReplayBufferSamples
from acrl_policies.costs.tracking import CostTracking
from acrl_policies.errors import PolicyError

if TYPE_CHECKING:
    from acrl_policies.costs.policies import CostSACPolicy

__all__ = ["CostOffPolicyAlgorithm", "combine_twins", "twin_td_loss"]


def combine_twins(values: tuple[th.Tensor, ...], *, pessimistic_for: str = "reward") -> th.Tensor:
    """One estimate ``(batch, 1)`` from twin critics' outputs: the pessimistic one.

    For a reward that is the minimum of the twins (SB3, TD3); for a cost, the maximum.

    Args:
        values: the twins' ``(batch, 1)`` outputs.
        pessimistic_for: ``"reward"`` (minimum) or ``"cost"`` (maximum).

    Example:
        >>> twins = (th.tensor([[1.0], [4.0]]), th.tensor([[2.0], [3.0]]))
        >>> combine_twins(twins).flatten().tolist()
        [1.0, 3.0]
        >>> combine_twins(twins, pessimistic_for="cost").flatten().tolist()
        [2.0, 4.0]
    """
    reduce = th.max if pessimistic_for == "cost" else th.min
    return reduce(th.cat(values, dim=1), dim=1, keepdim=True).values


def twin_td_loss(
    critic: ContinuousCritic, observations: th.Tensor, actions: th.Tensor, target: th.Tensor
) -> th.Tensor:
    """SB3's critic loss: ``0.5 · Σ_i MSE(Q_i(s, a), y)`` over the twin critics.

    Args:
        critic: the (twin) critic.
        observations: ``(batch, obs_dim)`` observations.
        actions: ``(batch, action_dim)`` actions, scaled to ``[-1, 1]``.
        target: ``(batch, 1)`` TD targets y (no gradient).

    Example:
        >>> from gymnasium import spaces
        >>> from stable_baselines3.common.torch_layers import FlattenExtractor
        >>> box = spaces.Box(-1, 1, (2,))
        >>> critic = ContinuousCritic(box, box, [8], FlattenExtractor(box), 2)
        >>> twin_td_loss(critic, th.zeros(4, 2), th.zeros(4, 2), th.zeros(4, 1)).shape
        torch.Size([])
    """
    return 0.5 * sum(F.mse_loss(q, target) for q in critic(observations, actions))  # type: ignore[return-value]


class CostOffPolicyAlgorithm(CostTracking, OffPolicyAlgorithm):
    """Cost plumbing for an SB3 off-policy algorithm, used as the first base class.

    ``class SACLagrangian(CostOffPolicyAlgorithm, SAC)`` gets, without copying
    ``collect_rollouts``:

    - a :class:`~acrl_policies.costs.CostReplayBuffer` (``replay_buffer_class`` default),
      which reads ``info["cost"]`` in SB3's ``ReplayBuffer.add(..., infos)`` and stores it
      at the transition's position;
    - at every step, in ``_store_transition`` (SB3's narrow per-step hook, which receives
      the ``infos``), the episode costs: a
      :class:`~acrl_policies.errors.MissingCostError` at the first step without a cost;
    - :attr:`episode_cost_mean` (J_c, mean undiscounted cost of the last
      ``cost_window_size`` finished episodes), logged as ``rollout/ep_cost_mean``;
    - :meth:`_fit_cost_critic`, one TD step of the twin cost critic of a
      :class:`~acrl_policies.costs.CostSACPolicy`, and :meth:`_update_cost_target`.

    - :meth:`cost_q`, the twin cost critic's estimate Q_c(s, a): the **maximum** of the
      twins by default (``pessimistic_cost_critic=True``), the minimum otherwise.

    The reward side keeps SB3's minimum of the twins, the pessimistic estimate of a
    reward. For a cost the pessimistic estimate is the maximum: the minimum, which FSRL's
    ``DoubleCritic.predict`` applies to both critics, underestimates Q_c, so the
    constraint looks looser than it is. Measured on the velocity-cost tasks
    (``benchmarks/results/cvpo.md``, 50k steps, 3 seeds), CVPO's final episode cost on
    Hopper / HalfCheetah was 49 / 94 with the minimum and 11 / 21 with the maximum, under
    the limit of 25. ``pessimistic_cost_critic=False`` restores FSRL's rule.

    The subclass's ``train`` uses them. Costs are undiscounted in J_c and discounted with
    the algorithm's ``gamma`` in Q_c; time-limit truncations bootstrap, as for rewards.
    n-step returns (SB3's ``n_steps > 1``) are not supported: the cost would need the same
    n-step sum.

    Args:
        *args: positional arguments of the algorithm (``policy``, ``env``).
        cost_limit: limit b on the expected undiscounted episode cost (> 0).
        cost_window_size: finished episodes averaged into J_c.
        pessimistic_cost_critic: Q_c is the maximum of the twin cost critics (``False``:
            the minimum, as FSRL).
        **kwargs: keyword arguments of the algorithm.

    Raises:
        InvalidCostLimitError: ``cost_limit`` is ≤ 0, NaN or inf.
        PolicyError: a ``replay_buffer_class`` or policy without cost support, or
            ``n_steps > 1``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> from acrl_policies import SACLagrangian
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
        >>> model = SACLagrangian("MlpPolicy", env, cost_limit=10, learning_starts=32,
        ...                       policy_kwargs=dict(net_arch=[16]), seed=0).learn(64)
        >>> model.replay_buffer.costs.shape, model.episode_cost_mean > 0
        ((1000000, 1), True)

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy: CostSACPolicy
    replay_buffer: CostReplayBuffer

    def __init__(
        self,
        *args: Any,
        cost_limit: float = 25.0,
        cost_window_size: int = 50,
        pessimistic_cost_critic: bool = True,
        **kwargs: Any,
    ) -> None:
        self.pessimistic_cost_critic = bool(pessimistic_cost_critic)
        buffer_class = kwargs.get("replay_buffer_class") or CostReplayBuffer
        if not issubclass(buffer_class, CostReplayBuffer):
            raise PolicyError(
                f"replay_buffer_class must subclass acrl_policies.costs.CostReplayBuffer, got "
                f"{buffer_class.__name__}; leave it unset to use CostReplayBuffer"
            )
        if int(kwargs.get("n_steps", 1)) != 1:
            raise PolicyError(
                f"n_steps={kwargs['n_steps']!r}: the cost-aware off-policy algorithms use "
                "one-step TD targets; leave n_steps at 1"
            )
        kwargs["replay_buffer_class"] = buffer_class
        super().__init__(*args, cost_limit=cost_limit, cost_window_size=cost_window_size, **kwargs)

    def _setup_model(self) -> None:
        super()._setup_model()
        if not hasattr(self.policy, "cost_critic"):
            raise PolicyError(
                f"{type(self).__name__} needs a policy with a cost critic; got "
                f"{type(self.policy).__name__}. Use 'MlpPolicy' "
                "(acrl_policies.costs.CostSACPolicy) or a subclass of it"
            )
        self._ensure_episode_costs()

    def _store_transition(
        self,
        replay_buffer: ReplayBuffer,
        buffer_action: np.ndarray,
        new_obs: np.ndarray | dict[str, np.ndarray],
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """SB3's ``_store_transition`` after adding the step's costs to the episode costs."""
        self._track_step_costs(infos, dones)
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, infos)

    def cost_q(
        self, observations: th.Tensor, actions: th.Tensor, *, target: bool = False
    ) -> th.Tensor:
        """Q_c(s, a), ``(batch, 1)``: the max (or, not pessimistic, the min) of the twins.

        Args:
            observations: ``(batch, obs_dim)`` observations.
            actions: ``(batch, action_dim)`` actions, scaled to ``[-1, 1]``.
            target: use the target network.
        """
        critic = self.policy.cost_critic_target if target else self.policy.cost_critic
        side = "cost" if self.pessimistic_cost_critic else "reward"
        return combine_twins(critic(observations, actions), pessimistic_for=side)

    def _fit_cost_critic(self, data: CostReplayBufferSamples, next_actions: th.Tensor) -> float:
        """One TD step of the twin cost critic; returns its loss.

        The target is ``c + γ (1 − d) Q_c'(s', a')`` with :meth:`cost_q` of the target
        network and ``a'`` the next actions the subclass drew from its actor.

        Args:
            data: a replay batch.
            next_actions: ``(batch, action_dim)`` actions at the next observations.
        """
        with th.no_grad():
            next_q = self.cost_q(data.next_observations, next_actions, target=True)
            target = data.costs + (1 - data.dones) * self.gamma * next_q
        loss = twin_td_loss(self.policy.cost_critic, data.observations, data.actions, target)
        self.policy.cost_critic.optimizer.zero_grad()
        loss.backward()
        self.policy.cost_critic.optimizer.step()
        return loss.item()

    def _update_cost_target(self) -> None:
        """Polyak-average the cost critic into its target with ``tau``."""
        polyak_update(
            self.policy.cost_critic.parameters(),
            self.policy.cost_critic_target.parameters(),
            self.tau,
        )

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, tensors = super()._get_torch_save_params()
        return [*state_dicts, "policy.cost_critic.optimizer"], tensors
