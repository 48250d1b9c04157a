"""CV-Flow's SAC policy: SAC in the flow's latent space, actions through the frozen flow.

``MlpPolicy`` is :class:`CVFlowSACPolicy`: SB3's ``SACPolicy`` plus a
:class:`~acrl_policies.common.flow_head.FlowHead`. The actor and critics work on latent
actions (what the replay buffer stores); ``predict`` returns the flow's image of the
latent action, the action the env receives (``acrl-methods.md`` §4.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.sac.policies import SACPolicy

from acrl_policies.common.flow_head import FlowHead

__all__ = ["CVFlowSACPolicy", "MlpPolicy"]


class CVFlowSACPolicy(SACPolicy):
    """``SACPolicy`` whose predictions go through a frozen flow.

    Args:
        observation_space: the env's observation space.
        action_space: the env's action space.
        lr_schedule: learning-rate schedule.
        flow_config: the flow's configuration (set by :class:`~acrl_policies.CVFlowSAC`).
        **kwargs: ``SACPolicy`` arguments.
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Any,
        *args: Any,
        flow_config: Mapping[str, Any],
        **kwargs: Any,
    ) -> None:
        self.flow_config = dict(flow_config)
        super().__init__(observation_space, action_space, lr_schedule, *args, **kwargs)
        self.flow_head = FlowHead(self.flow_config, observation_space, action_space)

    def _predict(self, observation: Any, deterministic: bool = False) -> torch.Tensor:
        """Scaled env actions: the flow applied to the actor's latent action."""
        latent = self.actor(observation, deterministic)
        return self.flow_head(latent, observation)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["flow_config"] = self.flow_config
        return data


MlpPolicy = CVFlowSACPolicy
