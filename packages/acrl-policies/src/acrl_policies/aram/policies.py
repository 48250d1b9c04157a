"""ARAM's policy: SAC's networks conditioned on a preference, with vector-valued critics.

MOSAC (Q-Pensieve's backbone, as in ARAM, arXiv:2503.12932) feeds the preference ω on the
2-simplex (weights of the objectives ``[task reward, penalty]``) to every network:

- :class:`PreferenceActor` — SB3's SAC actor on ``[features(s), ω]``: tanh-squashed
  Gaussian with log-std clamped to [−20, 2] and the 1e-6 tanh correction (SB3's
  ``SquashedDiagGaussianDistribution``, which is what the reference computes);
- :class:`VectorCritic` — twin critics ``Q(s, a, ω)`` with one output per objective;
- :class:`ARAMPolicy` (``MlpPolicy``) — ``SACPolicy`` built from the two.

When no preference is passed, the actor acts at its ``preference`` buffer (the
evaluation preference, saved with the weights).
"""

from __future__ import annotations

from typing import Any

import torch
from gymnasium import spaces
from stable_baselines3.common.policies import BaseModel
from stable_baselines3.common.preprocessing import get_action_dim
from stable_baselines3.common.torch_layers import (
    BaseFeaturesExtractor,
    FlattenExtractor,
    create_mlp,
)
from stable_baselines3.sac.policies import LOG_STD_MAX, LOG_STD_MIN, Actor, SACPolicy
from torch import nn

from acrl_policies.common.optimizers import fused_adam_kwargs

__all__ = ["ARAMPolicy", "MlpPolicy", "PreferenceActor", "VectorCritic"]


def _expand(preference: torch.Tensor, rows: int) -> torch.Tensor:
    """A ``(rows, n_objectives)`` preference from one ``(n,)`` / ``(1, n)`` or per-row weights."""
    if preference.dim() == 1:
        preference = preference.unsqueeze(0)
    return preference.expand(rows, -1) if preference.shape[0] == 1 else preference


class PreferenceActor(Actor):
    """SB3's SAC actor whose MLP reads ``[features(s), ω]``.

    Args:
        *args: SB3 ``Actor`` arguments; ``features_dim`` must already include the
            ``n_objectives`` preference inputs (:class:`ARAMPolicy` arranges it).
        n_objectives: length of ω.
        **kwargs: SB3 ``Actor`` keyword arguments.

    Example:
        >>> import torch
        >>> from gymnasium import spaces
        >>> box = spaces.Box(-1.0, 1.0, (3,))
        >>> policy = ARAMPolicy(box, spaces.Box(-1.0, 1.0, (2,)), lambda _: 1e-3, net_arch=[8])
        >>> obs = torch.zeros(4, 3)
        >>> tuple(policy.actor(obs, preference=torch.tensor([0.2, 0.8])).shape)
        (4, 2)
    """

    def __init__(self, *args: Any, n_objectives: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.n_objectives = n_objectives
        self.register_buffer("preference", torch.full((n_objectives,), 1.0 / n_objectives))

    def get_action_dist_params(  # type: ignore[override]
        self, obs: torch.Tensor, preference: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor]]:
        """Mean and clamped log-std of the Gaussian before tanh, at ``preference`` (ω)."""
        features = self.extract_features(obs, self.features_extractor)
        weights = self.preference if preference is None else preference
        latent_pi = self.latent_pi(torch.cat([features, _expand(weights, len(features))], dim=1))
        mean_actions = self.mu(latent_pi)
        log_std = torch.clamp(self.log_std(latent_pi), LOG_STD_MIN, LOG_STD_MAX)  # type: ignore[operator]
        return mean_actions, log_std, {}

    def forward(  # type: ignore[override]
        self, obs: torch.Tensor, deterministic: bool = False, preference: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Scaled actions in ``[-1, 1]``; ``deterministic`` gives ``tanh(mean)``."""
        mean_actions, log_std, _ = self.get_action_dist_params(obs, preference)
        return self.action_dist.actions_from_params(
            mean_actions, log_std, deterministic=deterministic
        )

    def action_log_prob(  # type: ignore[override]
        self, obs: torch.Tensor, preference: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised sample and its log-probability (with the tanh correction)."""
        mean_actions, log_std, _ = self.get_action_dist_params(obs, preference)
        return self.action_dist.log_prob_from_params(mean_actions, log_std)


class VectorCritic(BaseModel):
    """Twin critics ``Q(s, a, ω)`` returning one value per objective, ``(N, n_objectives)``.

    SB3's ``ContinuousCritic`` with the preference as an extra input and a vector output
    (the reference's ``TwinnedQNetwork``).

    Args:
        observation_space: the observation space.
        action_space: the action space.
        net_arch: hidden layer sizes.
        features_extractor: the features extractor.
        features_dim: features size plus ``n_objectives``.
        activation_fn: activation between layers.
        normalize_images: as in SB3.
        n_critics: number of critics (2: twin).
        share_features_extractor: whether the actor's extractor is shared.
        n_objectives: number of objectives (outputs per critic).

    Example:
        >>> import torch
        >>> from gymnasium import spaces
        >>> box = spaces.Box(-1.0, 1.0, (3,))
        >>> policy = ARAMPolicy(box, spaces.Box(-1.0, 1.0, (2,)), lambda _: 1e-3, net_arch=[8])
        >>> q1, q2 = policy.critic(torch.zeros(4, 3), torch.zeros(4, 2), torch.tensor([0.5, 0.5]))
        >>> tuple(q1.shape)
        (4, 2)
    """

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        net_arch: list[int],
        features_extractor: BaseFeaturesExtractor,
        features_dim: int,
        activation_fn: type[nn.Module] = nn.ReLU,
        normalize_images: bool = True,
        n_critics: int = 2,
        share_features_extractor: bool = True,
        n_objectives: int = 2,
    ) -> None:
        super().__init__(
            observation_space,
            action_space,
            features_extractor=features_extractor,
            normalize_images=normalize_images,
        )
        action_dim = get_action_dim(self.action_space)
        self.share_features_extractor = share_features_extractor
        self.n_critics = n_critics
        self.n_objectives = n_objectives
        self.q_networks: list[nn.Module] = []
        for idx in range(n_critics):
            q_net = nn.Sequential(
                *create_mlp(features_dim + action_dim, n_objectives, net_arch, activation_fn)
            )
            self.add_module(f"qf{idx}", q_net)
            self.q_networks.append(q_net)

    def forward(
        self, obs: torch.Tensor, actions: torch.Tensor, preference: torch.Tensor
    ) -> tuple[torch.Tensor, ...]:
        """One ``(N, n_objectives)`` tensor per critic."""
        with torch.set_grad_enabled(not self.share_features_extractor):
            features = self.extract_features(obs, self.features_extractor)
        q_input = torch.cat([features, _expand(preference, len(features)), actions], dim=1)
        return tuple(q_net(q_input) for q_net in self.q_networks)


class ARAMPolicy(SACPolicy):
    """``SACPolicy`` with a :class:`PreferenceActor` and :class:`VectorCritic` critics.

    Args:
        observation_space: the env's observation space.
        action_space: the env's action space (a ``Box``).
        lr_schedule: learning-rate schedule.
        *args: ``SACPolicy`` arguments (``net_arch`` defaults to [256, 256], the reference's).
        n_objectives: length of the preference and of the critics' output (2 for ARAM).
        **kwargs: ``SACPolicy`` keyword arguments; gSDE is not supported. Adam runs on
            torch's fused kernel unless ``optimizer_kwargs`` picks an implementation
            (:func:`~acrl_policies.common.optimizers.fused_adam_kwargs`).

    Example:
        >>> from gymnasium import spaces
        >>> box = spaces.Box(-1.0, 1.0, (3,))
        >>> policy = ARAMPolicy(box, spaces.Box(-1.0, 1.0, (2,)), lambda _: 1e-3)
        >>> policy.actor.preference.tolist(), policy.critic.n_objectives
        ([0.5, 0.5], 2)
    """

    actor: PreferenceActor
    critic: VectorCritic  # type: ignore[assignment]
    critic_target: VectorCritic  # type: ignore[assignment]

    def __init__(
        self,
        observation_space: spaces.Space,
        action_space: spaces.Box,
        lr_schedule: Any,
        *args: Any,
        n_objectives: int = 2,
        **kwargs: Any,
    ) -> None:
        if kwargs.get("use_sde"):
            raise ValueError("ARAMPolicy does not support gSDE: use use_sde=False")
        self.n_objectives = n_objectives
        self._mode_free: bool | None = None  # no module depends on train / eval mode
        if not args:  # SB3 passes policy_kwargs by keyword
            kwargs["optimizer_kwargs"] = fused_adam_kwargs(
                kwargs.get("optimizer_class", torch.optim.Adam), kwargs.get("optimizer_kwargs")
            )
        super().__init__(observation_space, action_space, lr_schedule, *args, **kwargs)

    def make_actor(
        self, features_extractor: BaseFeaturesExtractor | None = None
    ) -> PreferenceActor:
        """An actor reading the features and the preference."""
        kwargs = self._update_features_extractor(self.actor_kwargs, features_extractor)
        kwargs["features_dim"] += self.n_objectives
        return PreferenceActor(**kwargs, n_objectives=self.n_objectives).to(self.device)

    def make_critic(self, features_extractor: BaseFeaturesExtractor | None = None) -> VectorCritic:  # type: ignore[override]
        """Twin vector critics reading the features, the preference and the action."""
        kwargs = self._update_features_extractor(self.critic_kwargs, features_extractor)
        kwargs["features_dim"] += self.n_objectives
        return VectorCritic(**kwargs, n_objectives=self.n_objectives).to(self.device)

    def _get_constructor_parameters(self) -> dict[str, Any]:
        data = super()._get_constructor_parameters()
        data["n_objectives"] = self.n_objectives
        return data

    def set_training_mode(self, mode: bool) -> None:
        """SB3's mode switch, skipped where no module behaves differently in training.

        SB3 switches twice per env step (acting, update), and each switch walks every
        submodule (``nn.Module.train``): about a tenth of a small ARAM's CPU time. Linear
        layers and activations behave the same in both modes, so a policy made only of
        them (the default MLPs) skips the walk; one with dropout, batch norm or any other
        module switches as SB3 does.
        """
        if self._mode_free is None:
            self._mode_free = all(_same_in_both_modes(m) for m in self.modules())
        if not self._mode_free:
            super().set_training_mode(mode)


def _same_in_both_modes(module: nn.Module) -> bool:
    """Whether ``module`` computes the same in train and eval mode (known layer types only)."""
    if type(module).__module__ == nn.ReLU.__module__:  # torch.nn.modules.activation
        return True
    known = (nn.Linear, nn.Sequential, nn.ModuleList, nn.Flatten, nn.Identity)
    return type(module) in (*known, FlattenExtractor, PreferenceActor, VectorCritic, ARAMPolicy)


MlpPolicy = ARAMPolicy
