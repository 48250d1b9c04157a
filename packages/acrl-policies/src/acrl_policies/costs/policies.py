"""``CostActorCriticPolicy``: SB3's actor-critic policy plus a cost critic.

- :class:`CostActorCriticPolicy` — adds ``cost_value_net`` (V_c) and its own optimizer.
- ``MlpPolicy`` — its alias, used by ``CTRPO``, ``TRPOLagrangian`` and ``PPOLagrangian``.
- :class:`CostSACPolicy` — SB3's ``SACPolicy`` plus a twin cost critic Q_c and its target,
  used by ``SACLagrangian`` and (with an old actor) ``CVPO``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy, ContinuousCritic
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from stable_baselines3.sac.policies import SACPolicy
from torch import nn

__all__ = ["CostActorCriticPolicy", "CostSACPolicy", "MlpPolicy"]


class CostActorCriticPolicy(ActorCriticPolicy):
    """An ``ActorCriticPolicy`` with a separate cost value network V_c(s).

    The cost critic is an MLP with the reward critic's ``net_arch`` (``vf``) and
    activation, on the critic's features, orthogonally initialised like SB3's critic.
    It is called ``cost_value_net``: sb3-contrib's ``TRPO._compute_actor_grad`` skips
    every parameter whose name contains ``"value"``, and the cost critic takes no part in
    the policy's divergence, so it stays out of the trust-region step. It has its own
    optimizer, :attr:`cost_optimizer` (same class, learning rate and kwargs as
    ``optimizer``), so PPO's combined loss and TRPO's critic loop leave it alone; the
    cost-aware algorithms fit it on the cost returns. C-TRPO's reference (the authors'
    ``algorithms/c-trpo.py``, github.com/milosen/ctrpo) uses separate reward and cost
    critics, MLP [64, 64] tanh, Adam 1e-3 — SB3's defaults for this policy.

    Args:
        *args: as ``ActorCriticPolicy``.
        **kwargs: as ``ActorCriticPolicy``.

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3.common.utils import ConstantSchedule
        >>> env = gym.make("Pendulum-v1")
        >>> policy = CostActorCriticPolicy(env.observation_space, env.action_space,
        ...                                ConstantSchedule(1e-3))
        >>> policy.predict_cost_values(th.zeros(5, 3)).shape
        torch.Size([5, 1])
        >>> any("cost" in name for name, _ in policy.named_parameters() if "value" not in name)
        False

    Change logs:
        - v0.1.0 - Initially added.
    """

    cost_value_net: nn.Sequential
    cost_optimizer: th.optim.Optimizer

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        net_arch = self.net_arch["vf"] if isinstance(self.net_arch, dict) else self.net_arch
        self.cost_value_net = nn.Sequential(
            *create_mlp(self.features_dim, 1, list(net_arch), self.activation_fn)
        )
        if self.ortho_init:
            self.cost_value_net.apply(partial(self.init_weights, gain=np.sqrt(2)))
            self.init_weights(self.cost_value_net[-1], gain=1.0)
        self.cost_optimizer = self.optimizer_class(  # type: ignore[call-arg]
            self.cost_value_net.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def predict_cost_values(self, obs: PyTorchObs) -> th.Tensor:
        """The cost critic's estimate V_c(s), shape ``(batch, 1)``.

        Args:
            obs: a batch of observations (as given to ``predict_values``).
        """
        features = BasePolicy.extract_features(self, obs, self.vf_features_extractor)
        return self.cost_value_net(features)


MlpPolicy = CostActorCriticPolicy


class CostSACPolicy(SACPolicy):
    """SB3's ``SACPolicy`` plus a twin cost critic Q_c(s, a) and its target network.

    The cost critic is a ``ContinuousCritic`` built like the reward critic (same
    ``net_arch``, ``n_critics`` twins, activation), always with its own features
    extractor, and its target starts as a copy. It has its own optimizer,
    ``cost_critic.optimizer`` (the policy's optimizer class and kwargs), so the
    off-policy cost-aware algorithms (:class:`~acrl_policies.costs.CostOffPolicyAlgorithm`)
    fit it by TD on the stored costs, next to SB3's reward critic. The actor is SAC's
    tanh-squashed Gaussian with a state-dependent standard deviation.

    Args:
        *args: as ``SACPolicy``.
        **kwargs: as ``SACPolicy``.

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3.common.utils import ConstantSchedule
        >>> env = gym.make("Pendulum-v1")
        >>> policy = CostSACPolicy(env.observation_space, env.action_space,
        ...                        ConstantSchedule(1e-3), net_arch=[16])
        >>> [q.shape for q in policy.cost_critic(th.zeros(5, 3), th.zeros(5, 1))]
        [torch.Size([5, 1]), torch.Size([5, 1])]

    Change logs:
        - v0.1.0 - Initially added.
    """

    cost_critic: ContinuousCritic
    cost_critic_target: ContinuousCritic

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        self.cost_critic = self.make_critic(features_extractor=None)
        self.cost_critic_target = self.make_critic(features_extractor=None)
        self.cost_critic_target.load_state_dict(self.cost_critic.state_dict())
        self.cost_critic_target.set_training_mode(False)
        self.cost_critic.optimizer = self.optimizer_class(  # type: ignore[call-arg]
            self.cost_critic.parameters(), lr=lr_schedule(1), **self.optimizer_kwargs
        )

    def set_training_mode(self, mode: bool) -> None:
        """Put actor, reward and cost critics in training (or evaluation) mode."""
        super().set_training_mode(mode)
        self.cost_critic.set_training_mode(mode)
