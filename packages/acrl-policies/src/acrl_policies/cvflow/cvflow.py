"""CV-Flow (AAAI 2025, arXiv:2502.10431) with SAC: the agent acts in a flow's latent space.

SAC's squashed Gaussian action ``â ∈ [-1, 1]^n`` is stored in the replay buffer as is and
both the actor and the critics learn on it; the env receives ``f(â, y(s))``, the frozen
flow's image, which lands in the feasible set with the flow's accuracy (the authors'
``flow_sac.py``, github.com/rlr-smu/cv-flow). The published code executes that image
unchecked; here the safety net clips and projects it when it is infeasible, so nothing
infeasible reaches the env, and ``constraint/policy_projection_rate`` shows how often that
was needed.

Only the uniform-base variant is provided: SAC's tanh output covers ``[-1, 1]^n``, the
uniform base's support (the Gaussian-base variant needs an unsquashed actor).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy

from acrl_policies.common.flow_algorithm import FlowAlgorithm, FlowSource
from acrl_policies.cvflow.policies import CVFlowSACPolicy, MlpPolicy

__all__ = ["CVFlowSAC"]


class CVFlowSAC(FlowAlgorithm, SAC):
    """SAC acting in the latent space of a frozen flow.

    Args:
        policy: ``"MlpPolicy"`` or a :class:`CVFlowSACPolicy` subclass.
        env: the env (ideally carrying its constraint through an acrl wrapper).
        flow: a flow checkpoint (path or :class:`~acrl_policies.flows.FlowCheckpoint`)
            for the env's constraint; ``None`` trains one first with CV-Flow's objective
            for the constraint found on the env.
        flow_kwargs: :class:`~acrl_policies.flows.FlowTrainingConfig` settings used when
            ``flow`` is ``None``.
        _init_setup_model: as in SB3.
        **kwargs: any SB3 ``SAC`` argument.

    Raises:
        FlowError, FlowCheckpointError: no flow and no constraint on the env, or a flow
            for another constraint, action size or observation layout.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()  # registers the ACRL/ tasks
        >>> env = gym.make("ACRL/ReacherL2-v0", enforce="project")
        >>> flow_kwargs = dict(epochs=1, steps_per_epoch=50, n_layers=2, hidden=32,
        ...                    eval_samples=500)
        >>> model = CVFlowSAC("MlpPolicy", env, flow_kwargs=flow_kwargs, learning_starts=50,
        ...                   policy_kwargs={"net_arch": [32, 32]}, seed=0)
        >>> _ = model.learn(100)
        >>> obs, _ = env.reset(seed=1)
        >>> action, _ = model.predict(obs, deterministic=True)
        >>> bool(acrl.find_constraint(env).contains(action))
        True
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    flow_method = "cvflow"
    policy: CVFlowSACPolicy

    def __init__(
        self,
        policy: str | type[CVFlowSACPolicy],
        env: Any,
        flow: FlowSource = None,
        flow_kwargs: dict[str, Any] | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        self._init_flow_options(flow, flow_kwargs)
        super().__init__(policy, env, _init_setup_model=False, **kwargs)
        if _init_setup_model:
            self._setup_model()

    def _load_flow_weights(self, weights: dict[str, Any]) -> None:
        self.policy.flow_head.flow.load_state_dict(weights)

    @property
    def flow_head(self) -> Any:
        """The policy's flow head."""
        return self.policy.flow_head

    def _sample_action(
        self, learning_starts: int, action_noise: ActionNoise | None = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """A latent action for the buffer and its image under the flow for the env.

        The latent action is the actor's sample (uniform in warm-up); its image is clipped
        to the box and projected if still infeasible.
        """
        obs = self._last_obs
        assert isinstance(obs, np.ndarray)
        obs_t = self.policy.obs_to_tensor(obs)[0]
        with torch.no_grad():
            if self.num_timesteps < learning_starts:
                latent = torch.rand(n_envs, self.flow_head.flow.dim, device=obs_t.device)
                latent = latent * 2.0 - 1.0
            else:
                latent = self.policy.actor(obs_t, deterministic=False)
            latent_np = latent.cpu().numpy()
            if action_noise is not None:
                latent_np = np.clip(latent_np + action_noise(), -1.0, 1.0)
            latent_t = torch.as_tensor(latent_np, device=obs_t.device)
            scaled = self.flow_head(latent_t, obs_t).cpu().numpy()
        action = self._enforce(self.policy.unscale_action(scaled), obs)
        return action, latent_np
