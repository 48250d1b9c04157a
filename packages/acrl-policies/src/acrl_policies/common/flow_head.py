"""``FlowHead``: a frozen flow inside an SB3 policy, from latent actions to actions.

SB3 policies work in *scaled* action units (``[-1, 1]`` per dimension); a flow works in
the constraint's units, which are the env's. The head takes a latent action in
``[-1, 1]^n`` (a tanh output) and the observation batch, conditions the flow on the
observation entries it was trained for, and returns the action in SB3's scaled units,
differentiably (FlowPG's actor gradient flows through it). The latent is first scaled
by :data:`LATENT_SCALE`: a box-onto-box flow (the spline default) maps the box's faces
onto the action box's faces, so a saturated tanh output of exactly ±1 would land on a face
the feasible set rarely reaches; flows are trained feasible on the outer shell just
inside the faces instead (``face_fraction``). Its weights are part of the
policy's ``state_dict``, so ``model.save()`` stores them and ``Model.load()`` restores
them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from gymnasium import spaces
from torch import nn

from acrl_policies.errors import FlowError
from acrl_policies.flows.checkpoint import FlowCheckpoint

__all__ = ["LATENT_SCALE", "FlowConfigured", "FlowHead"]

LATENT_SCALE = 0.995
"""Latent actions are scaled by this before the flow (see the module docstring)."""


class FlowHead(nn.Module):
    """A frozen flow mapping latent actions in ``[-1, 1]^n`` to scaled env actions.

    Args:
        flow_config: :meth:`FlowCheckpoint.config` of the flow (weights are loaded
            separately, or come with the policy's ``state_dict``).
        observation_space: the env's observation space (a 1-D ``Box``).
        action_space: the env's action space (a 1-D ``Box`` of the flow's dimension).

    Raises:
        FlowError: the flow does not fit the spaces, or has a Gaussian base (a tanh
            output covers only part of it).

    Example:
        >>> import acrl_wrappers as acrl
        >>> from acrl_policies.flows import ConditionalRealNVP
        >>> ckpt = FlowCheckpoint(ConditionalRealNVP(2, n_layers=2, hidden=8),
        ...                       acrl.make_constraint("reacher-l2"), [])
        >>> head = FlowHead(ckpt.config(), spaces.Box(-1, 1, (10,)), spaces.Box(-1, 1, (2,)))
        >>> head(torch.zeros(3, 2), torch.zeros(3, 10)).shape
        torch.Size([3, 2])
    """

    def __init__(
        self,
        flow_config: Mapping[str, Any],
        observation_space: spaces.Space,
        action_space: spaces.Space,
    ) -> None:
        super().__init__()
        ckpt = FlowCheckpoint.from_config(flow_config)
        _check_spaces(ckpt, observation_space, action_space)
        self.flow = ckpt.flow.requires_grad_(False).eval()
        self.constraint = ckpt.constraint
        self.condition_indices = list(ckpt.condition_indices)
        self.register_buffer("index", torch.as_tensor(self.condition_indices, dtype=torch.long))
        assert isinstance(action_space, spaces.Box)
        self.register_buffer("low", torch.as_tensor(action_space.low, dtype=torch.float64))
        self.register_buffer("high", torch.as_tensor(action_space.high, dtype=torch.float64))
        self.dtype = ckpt.dtype

    def forward(self, latent: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Scaled actions ``(N, n)`` for latent actions ``(N, n)`` and observations ``(N, k)``."""
        y = obs[:, self.index].to(self.dtype) if self.condition_indices else None
        z = latent.to(self.dtype) * LATENT_SCALE
        a = self.flow.actions(z, y) if hasattr(self.flow, "actions") else self.flow(z, y)[0]
        scaled = 2.0 * (a - self.low) / (self.high - self.low) - 1.0
        return scaled.to(latent.dtype)


class FlowConfigured:
    """Policy mixin: takes ``flow_config`` and hands it to SB3's save/load machinery.

    List it before the SB3 policy class; ``flow_config`` is stored before the policy's own
    ``__init__`` runs, so ``make_actor`` and friends can use it.
    """

    def __init__(self, *args: Any, flow_config: Mapping[str, Any], **kwargs: Any) -> None:
        self.flow_config = dict(flow_config)
        super().__init__(*args, **kwargs)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data: dict[str, Any] = super()._get_constructor_parameters()  # type: ignore[misc]
        data["flow_config"] = self.flow_config
        return data


def _check_spaces(
    ckpt: FlowCheckpoint, obs_space: spaces.Space, action_space: spaces.Space
) -> None:
    if not isinstance(action_space, spaces.Box) or len(action_space.shape) != 1:
        raise FlowError(f"flow policies need a 1-D Box action space, got {action_space}")
    if action_space.shape[0] != ckpt.constraint.dim:
        raise FlowError(
            f"the flow acts in {ckpt.constraint.dim} dimensions but the env's actions have "
            f"{action_space.shape[0]}; use a flow trained for this env's constraint"
        )
    if ckpt.base != "uniform":
        raise FlowError(
            f"flow policies need a flow with the uniform base (the actor's tanh output covers "
            f"[-1, 1]^n), this one has a {ckpt.base!r} base; train with base='uniform'"
        )
    if ckpt.condition_indices:
        if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
            raise FlowError(
                f"a conditional flow needs a 1-D Box observation space, got {obs_space}"
            )
        ckpt.conditioning.check_observation_size(obs_space.shape[0])
