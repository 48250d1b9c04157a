"""``CostActorCriticPolicy``: SB3's actor-critic policy plus a cost critic.

- :class:`CostActorCriticPolicy` — adds ``cost_value_net`` (V_c) and its own optimizer.
- ``MlpPolicy`` — its alias, used by ``CTRPO``, ``TRPOLagrangian`` and ``PPOLagrangian``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch as th
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy
from stable_baselines3.common.torch_layers import create_mlp
from stable_baselines3.common.type_aliases import PyTorchObs, Schedule
from torch import nn

__all__ = ["CostActorCriticPolicy", "MlpPolicy"]


class CostActorCriticPolicy(ActorCriticPolicy):
    """An ``ActorCriticPolicy`` with a separate cost value network V_c(s).

    The cost critic is an MLP with the reward critic's ``net_arch`` (``vf``) and
    activation, on the critic's features, orthogonally initialised like SB3's critic.
    It is called ``cost_value_net``: sb3-contrib's ``TRPO._compute_actor_grad`` skips
    every parameter whose name contains ``"value"``, and the cost critic takes no part in
    the policy's divergence, so it stays out of the trust-region step. It has its own
    optimizer, :attr:`cost_optimizer` (same class, learning rate and kwargs as
    ``optimizer``), so PPO's combined loss and TRPO's critic loop leave it alone; the
    cost-aware algorithms fit it on the cost returns. C-TRPO's reference uses separate
    reward and cost critics, MLP [64, 64] tanh, Adam 1e-3 (safe-rl §1.4) — SB3's defaults
    for this policy.

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
