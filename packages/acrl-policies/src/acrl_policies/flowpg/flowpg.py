"""FlowPG (Brahmanage et al., NeurIPS 2023, arXiv:2402.05149) as SB3 DDPG/TD3 through a flow.

The actor's tanh output ``â`` goes through a frozen flow trained on the constraint's
feasible set, ``a = g(â, y(s))``; the critic is ``Q(s, a)`` on executed actions and the
actor's gradient flows through the flow. Exploration adds Gaussian noise (σ 0.1) to the
actor's output before the flow (``noise_space="latent"``, the default), so noisy actions
stay on the flow's image; ``noise_space="action"`` adds it to the final action as
FlowPG's released code does, where a policy on the feasible set's boundary leaves the set
with about half its noisy actions. Either way an action still infeasible is projected and
the replay buffer stores the executed action.

Defaults are the reference's DDPG settings (one critic, no policy delay or target noise,
learning rate 1e-3, batch 100, episode-wise training); TD3's are a keyword away
(``policy_delay=2, target_policy_noise=0.2, policy_kwargs={"n_critics": 2}``).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from stable_baselines3 import TD3
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy

from acrl_policies.common.flow_algorithm import FlowAlgorithm, FlowSource
from acrl_policies.common.noise import default_action_noise
from acrl_policies.errors import FlowError
from acrl_policies.flowpg.policies import FlowPGPolicy, MlpPolicy

__all__ = ["NOISE_SPACES", "FlowPG"]

NOISE_SPACES = ("latent", "action")
"""Where FlowPG's exploration noise can be added (:class:`FlowPG`'s ``noise_space``)."""


class FlowPG(FlowAlgorithm, TD3):
    """DDPG/TD3 whose actions are the image of the actor's output under a frozen flow.

    Args:
        policy: ``"MlpPolicy"`` or a :class:`FlowPGPolicy` subclass.
        env: the env (ideally carrying its constraint through an acrl wrapper).
        flow: a flow checkpoint (path or :class:`~acrl_policies.flows.FlowCheckpoint`)
            trained for the env's constraint; ``None`` trains one first (FlowPG's
            maximum likelihood on rejection samples) for the constraint found on the env.
        flow_kwargs: :class:`~acrl_policies.flows.FlowTrainingConfig` settings used when
            ``flow`` is ``None``.
        exploration_noise: σ of the Gaussian noise added while training (ignored when
            ``action_noise`` is given; 0 for none).
        noise_space: where the noise is added: ``"latent"`` (the actor's tanh output,
            clipped to ``[-1, 1]``, before the flow) or ``"action"`` (the final action,
            FlowPG's reference code).
        learning_rate: as in SB3 TD3 (FlowPG: 1e-3).
        batch_size: as in SB3 TD3 (FlowPG: 100).
        train_freq: as in SB3 TD3 (FlowPG: one episode).
        gradient_steps: as in SB3 TD3 (FlowPG: -1, as many as env steps).
        policy_delay: as in SB3 TD3 (DDPG: 1).
        target_policy_noise: as in SB3 TD3 (DDPG: 0).
        target_noise_clip: as in SB3 TD3 (DDPG: 0).
        action_noise: an SB3 action noise, overriding ``exploration_noise``.
        policy_kwargs: as in SB3; ``n_critics`` defaults to 1 (DDPG).
        _init_setup_model: as in SB3.
        **kwargs: any other SB3 ``TD3`` argument.

    Raises:
        FlowError, FlowCheckpointError: no flow and no constraint on the env, or a flow
            for another constraint, action size or observation layout.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()  # registers the ACRL/ tasks
        >>> env = gym.make("ACRL/ReacherL2-v0", enforce="project")
        >>> flow_kwargs = dict(epochs=1, steps_per_epoch=50, n_layers=2, hidden=32,
        ...                    n_samples=2000, eval_samples=500)
        >>> model = FlowPG("MlpPolicy", env, flow_kwargs=flow_kwargs, learning_starts=50,
        ...                policy_kwargs={"net_arch": [32, 32]}, seed=0)
        >>> _ = model.learn(100)
        >>> obs, _ = env.reset(seed=1)
        >>> action, _ = model.predict(obs, deterministic=True)
        >>> bool(acrl.find_constraint(env).contains(action))
        True
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    flow_method = "flowpg"
    policy: FlowPGPolicy

    def __init__(
        self,
        policy: str | type[FlowPGPolicy],
        env: Any,
        flow: FlowSource = None,
        flow_kwargs: dict[str, Any] | None = None,
        exploration_noise: float = 0.1,
        noise_space: str = "latent",
        learning_rate: float = 1e-3,
        batch_size: int = 100,
        train_freq: int | tuple[int, str] = (1, "episode"),
        gradient_steps: int = -1,
        policy_delay: int = 1,
        target_policy_noise: float = 0.0,
        target_noise_clip: float = 0.0,
        action_noise: ActionNoise | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        if noise_space not in NOISE_SPACES:
            raise FlowError(f"`noise_space` must be one of {NOISE_SPACES}, got {noise_space!r}")
        self.noise_space = noise_space
        self._init_flow_options(flow, flow_kwargs)
        policy_kwargs = dict(policy_kwargs or {})
        policy_kwargs.setdefault("n_critics", 1)
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            batch_size=batch_size,
            train_freq=train_freq,
            gradient_steps=gradient_steps,
            policy_delay=policy_delay,
            target_policy_noise=target_policy_noise,
            target_noise_clip=target_noise_clip,
            action_noise=action_noise,
            policy_kwargs=policy_kwargs,
            _init_setup_model=False,
            **kwargs,
        )
        self.action_noise = default_action_noise(action_noise, self.action_space, exploration_noise)
        if _init_setup_model:
            self._setup_model()

    def _load_flow_weights(self, weights: dict[str, Any]) -> None:
        self.policy.actor.flow_head.flow.load_state_dict(weights)
        self.policy.actor_target.flow_head.flow.load_state_dict(weights)

    @property
    def flow_head(self) -> Any:
        """The actor's flow head."""
        return self.policy.actor.flow_head

    def _sample_action(
        self, learning_starts: int, action_noise: ActionNoise | None = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Actor (or, in warm-up, a uniform latent) → flow → clip → projection.

        The exploration noise goes in before the flow or after it (:attr:`noise_space`).
        """
        obs = self._last_obs
        assert isinstance(obs, np.ndarray)
        obs_t = self.policy.obs_to_tensor(obs)[0]
        latent_noise = action_noise is not None and self.noise_space == "latent"
        with torch.no_grad():
            if self.num_timesteps < learning_starts:
                latent = torch.rand(n_envs, self.flow_head.flow.dim, device=obs_t.device)
                latent = latent * 2.0 - 1.0
            else:
                latent = self.policy.actor.latent(obs_t)
            if latent_noise and action_noise is not None:
                noise = torch.as_tensor(action_noise(), dtype=latent.dtype, device=latent.device)
                latent = (latent + noise).clamp(-1.0, 1.0)
            scaled = self.flow_head(latent, obs_t)
        scaled_np = scaled.cpu().numpy()
        if action_noise is not None and not latent_noise:
            scaled_np = scaled_np + action_noise()
        action = self.policy.unscale_action(np.clip(scaled_np, -1.0, 1.0))
        action = self._enforce(action, obs)
        return action, self.policy.scale_action(action)
