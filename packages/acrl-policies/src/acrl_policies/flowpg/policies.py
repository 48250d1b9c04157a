"""FlowPG's policy: a TD3/DDPG actor whose tanh output goes through a frozen flow.

``MlpPolicy`` is :class:`FlowPGPolicy`: SB3's ``TD3Policy`` whose actor (and target
actor) end in a :class:`~acrl_policies.common.flow_head.FlowHead`, so the actor's output
is ``g(tanh(mu(s)), y(s))`` and the critic's gradient flows through the frozen flow into
the actor (FlowPG, arXiv:2402.05149).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from stable_baselines3.td3.policies import Actor, TD3Policy

from acrl_policies.common.flow_head import FlowConfigured, FlowHead

__all__ = ["FlowActor", "FlowPGPolicy", "MlpPolicy"]


class FlowActor(Actor):
    """SB3's TD3 actor followed by a frozen flow.

    Args:
        flow_config: the flow's :meth:`~acrl_policies.flows.FlowCheckpoint.config`.
        **kwargs: SB3 ``Actor`` arguments.
    """

    def __init__(self, *args: Any, flow_config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.flow_head = FlowHead(flow_config, self.observation_space, self.action_space)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Scaled actions: the flow applied to the tanh output, conditioned on ``obs``."""
        latent = super().forward(obs)
        return self.flow_head(latent, obs)

    def latent(self, obs: torch.Tensor) -> torch.Tensor:
        """The tanh output before the flow."""
        return super().forward(obs)


class FlowPGPolicy(FlowConfigured, TD3Policy):
    """``TD3Policy`` with :class:`FlowActor` actors (the flow frozen, its weights saved).

    Args:
        *args: ``TD3Policy`` arguments (``net_arch`` defaults to FlowPG's [400, 300]).
        flow_config: the flow's configuration (set by :class:`~acrl_policies.FlowPG`).
        **kwargs: ``TD3Policy`` keyword arguments.
    """

    def make_actor(self, features_extractor: Any = None) -> FlowActor:
        """An actor ending in the flow."""
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        return FlowActor(**actor_kwargs, flow_config=self.flow_config).to(self.device)


MlpPolicy = FlowPGPolicy
