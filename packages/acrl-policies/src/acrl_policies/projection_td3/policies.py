"""Policies of the projection baselines: SB3's ``TD3Policy``, and OptLayer's for DOpt.

- ``MlpPolicy`` — SB3's ``TD3Policy`` (DPre, DPro, NFWPO).
- ``OptLayerPolicy`` — ``TD3Policy`` whose actor (and target actor) end in the
  :class:`~acrl_policies.constraints.DifferentiableProjection` of the env's constraint
  (DOpt: Pham et al., ICRA 2018, "OptLayer"; Kasaura et al., arXiv:2304.08743,
  ``nn/opt_layer``): the tanh output is taken to env units, projected, and scaled back.
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.td3.policies import Actor, TD3Policy

from acrl_policies.constraints import DifferentiableProjection

__all__ = ["MlpPolicy", "OptLayerActor", "OptLayerPolicy"]

MlpPolicy = TD3Policy


class OptLayerActor(Actor):
    """SB3's TD3 actor with the constraint's differentiable projection as its last layer.

    Args:
        constraint_spec: the constraint's spec (JSON-able, so ``save``/``load`` rebuild it).
        **kwargs: SB3 ``Actor`` arguments.
    """

    def __init__(self, *args: Any, constraint_spec: dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.projection = DifferentiableProjection(constraint_spec)
        assert isinstance(self.action_space, spaces.Box)
        low = torch.as_tensor(self.action_space.low, dtype=torch.float32)
        high = torch.as_tensor(self.action_space.high, dtype=torch.float32)
        self.register_buffer("_mid", (high + low) / 2.0, persistent=False)
        self.register_buffer("_half", (high - low) / 2.0, persistent=False)

    def forward_before_projection(self, obs: torch.Tensor) -> torch.Tensor:
        """The tanh output in ``[-1, 1]`` (scaled units), before the projection."""
        return super().forward(obs)

    def project_scaled(self, scaled: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Project scaled actions: to env units, onto the constraint, and back."""
        env_units = self._mid + self._half * scaled.double()
        projected = self.projection(env_units, obs.double())
        return ((projected - self._mid) / self._half).to(scaled.dtype)

    def forward(self, obs: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        """Feasible scaled actions: the projection of the tanh output."""
        return self.project_scaled(self.forward_before_projection(obs), obs)


class OptLayerPolicy(TD3Policy):
    """``TD3Policy`` with :class:`OptLayerActor` actors.

    Args:
        *args: ``TD3Policy`` arguments.
        constraint_spec: the constraint's spec (set by :class:`~acrl_policies.DOpt`).
        **kwargs: ``TD3Policy`` keyword arguments.
    """

    def __init__(self, *args: Any, constraint_spec: dict[str, Any], **kwargs: Any) -> None:
        self.constraint_spec = dict(constraint_spec)
        super().__init__(*args, **kwargs)

    def make_actor(self, features_extractor: Any = None) -> OptLayerActor:
        """An actor ending in the projection layer."""
        actor_kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        actor = OptLayerActor(**actor_kwargs, constraint_spec=self.constraint_spec)
        return actor.to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        return {**super()._get_constructor_parameters(), "constraint_spec": self.constraint_spec}
