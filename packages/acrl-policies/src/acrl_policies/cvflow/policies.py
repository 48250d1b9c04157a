"""CV-Flow's SAC policy: SAC in the flow's latent space, actions through the frozen flow.

``MlpPolicy`` is :class:`CVFlowSACPolicy`: SB3's ``SACPolicy`` plus a
:class:`~acrl_policies.common.flow_head.FlowHead`. The actor and critics work on latent
actions (what the replay buffer stores); ``predict`` returns the flow's image of the
latent action, the action the env receives (CV-Flow, arXiv:2502.10431).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from stable_baselines3.sac.policies import SACPolicy

from acrl_policies.common.flow_head import FlowConfigured, FlowHead

__all__ = ["CVFlowSACPolicy", "MlpPolicy"]


class CVFlowSACPolicy(FlowConfigured, SACPolicy):
    """``SACPolicy`` whose predictions go through a frozen flow.

    Args:
        *args: ``SACPolicy`` arguments (observation space, action space, schedule, ...).
        flow_config: the flow's configuration (set by :class:`~acrl_policies.CVFlowSAC`).
        **kwargs: ``SACPolicy`` keyword arguments.
    """

    def __init__(self, *args: Any, flow_config: Mapping[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, flow_config=flow_config, **kwargs)
        self.flow_head = FlowHead(self.flow_config, self.observation_space, self.action_space)

    def _predict(self, observation: Any, deterministic: bool = False) -> torch.Tensor:
        """Scaled env actions: the flow applied to the actor's latent action."""
        latent = self.actor(observation, deterministic)
        return self.flow_head(latent, observation)


MlpPolicy = CVFlowSACPolicy
