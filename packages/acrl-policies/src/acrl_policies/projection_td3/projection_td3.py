"""The projection baselines of ACRL papers, one TD3 configured three ways: DPre, DPro, DOpt.

Kasaura et al., "Benchmarking Actor-Critic Deep Reinforcement Learning Algorithms for
Robotics Control with Action Constraints", RA-L 2023, arXiv:2304.08743 (code:
github.com/omron-sinicx/action-constrained-RL-benchmark, ``td3/td3_output_penalty.py``,
``td3/projection_td3.py``, ``nn/opt_layer``):

- ``projection="pre"`` (DPre) — the executed action is the projection of the proposed
  one (actor + noise); the replay buffer stores the *proposed* action, so the critic
  learns ``Q(s, a)`` of what the actor proposes.
- ``projection="pro"`` (DPro) — exploration is projected and the buffer stores the
  *executed* (projected) action.
- ``projection="opt"`` (DOpt, OptLayer) — the actor's last layer is the differentiable
  projection, so the critic's gradient flows through it; noise is added before that
  layer and the buffer stores the executed action.

Each takes ``penalty=c``, the "+" variants' actor-loss term ``c * mean violation(actor(s))``
(c = 1 in the reference): on the actor's output for DPre and DPro, on the output before
the projection layer for DOpt (the reference's DOpt+ docstring says so; its code applies
it after the layer, where the violation is zero, which this does not copy).

Every executed action is feasible whatever the env's enforcement (``enforce="monitor"``
included): what reaches the env is projected by the constraint's exact projector when it
is infeasible, in training and in :meth:`predict`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3 import TD3
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import polyak_update
from torch.nn import functional as F

from acrl_policies.arm import resolve_constraint
from acrl_policies.common.callbacks import with_constraint_metrics
from acrl_policies.common.noise import default_action_noise
from acrl_policies.common.safety_net import SafetyNetCounts
from acrl_policies.constraints import DifferentiableProjection, has_torch_violation, torch_violation
from acrl_policies.errors import NoTorchViolationError, PolicyError
from acrl_policies.projection_td3.policies import MlpPolicy, OptLayerPolicy
from acrl_wrappers import Constraint, make_projector
from acrl_wrappers.projection.base import Projector

__all__ = ["DOpt", "DPre", "DPro", "ProjectionTD3"]

PROJECTIONS = ("pre", "pro", "opt")


class ProjectionTD3(TD3):
    """TD3 with the constraint's projection before the env, in exploration, or in the actor.

    See the module docstring for the three settings of ``projection`` and the penalty.

    Args:
        policy: ``"MlpPolicy"`` (``"opt"`` uses :class:`OptLayerPolicy` for it) or a class.
        env: the env; its acrl wrapper (or task) supplies the constraint.
        projection: ``"pre"`` (DPre), ``"pro"`` (DPro) or ``"opt"`` (DOpt).
        penalty: ``c`` of the "+" variants' actor-loss term (0: none).
        constraint: the constraint (object, name or spec) when the env carries none.
        exploration_noise: σ of the Gaussian exploration noise (Kasaura: 0.1), ignored
            when ``action_noise`` is given.
        learning_rate: as in SB3 TD3 (Kasaura: 1e-3).
        action_noise: an SB3 action noise, overriding ``exploration_noise``.
        _init_setup_model: as in SB3.
        **kwargs: any other SB3 ``TD3`` argument.

    Raises:
        MissingConstraintError: no constraint on the env and none given.
        NoTorchViolationError: ``penalty > 0`` for a family without a torch violation.
        NoDifferentiablePathError: ``projection="opt"`` for a set without a
            differentiable projection (names the alternatives).

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/ReacherL2-v0", enforce="monitor")
        >>> model = DPre("MlpPolicy", env, penalty=1.0, learning_starts=50,
        ...              policy_kwargs={"net_arch": [32, 32]}, seed=0).learn(100)
        >>> obs, _ = env.reset(seed=1)
        >>> bool(acrl.find_constraint(env).contains(model.predict(obs)[0]))
        True

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    default_projection = "pre"

    def __init__(
        self,
        policy: str | type[BasePolicy],
        env: Any,
        projection: str | None = None,
        penalty: float = 0.0,
        constraint: Any = None,
        exploration_noise: float = 0.1,
        learning_rate: float = 1e-3,
        action_noise: ActionNoise | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        projection = self.default_projection if projection is None else projection
        if projection not in PROJECTIONS:
            raise PolicyError(f"`projection` must be one of {PROJECTIONS}, got {projection!r}")
        if not penalty >= 0.0:
            raise PolicyError(f"`penalty` must be >= 0, got {penalty!r}")
        self.projection = projection
        self.penalty = float(penalty)
        self._constraint_arg = constraint
        self.constraint_spec: dict[str, Any] | None = None
        self.safety_net = SafetyNetCounts()
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            action_noise=action_noise,
            _init_setup_model=False,
            **kwargs,
        )
        self.action_noise = default_action_noise(action_noise, self.action_space, exploration_noise)
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ setup
    def _setup_model(self) -> None:
        spec = self.constraint_spec if self._constraint_arg is None else None
        name = type(self).__name__
        self.constraint: Constraint = resolve_constraint(
            self._constraint_arg if spec is None else spec, self.env, name
        )
        if not isinstance(self.action_space, spaces.Box):
            raise PolicyError(f"{name} needs a Box action space, got {self.action_space}")
        if self.constraint.dim != self.action_space.shape[0]:
            raise PolicyError(
                f"the constraint acts on {self.constraint.dim} action dims, the env has "
                f"{self.action_space.shape[0]}"
            )
        self.constraint_spec = dict(self.constraint.spec)
        if self.penalty > 0 and not has_torch_violation(self.constraint):
            raise NoTorchViolationError(
                f"{name}(penalty={self.penalty}) needs the violation's gradient, and "
                f"{type(self.constraint).__name__} has no torch violation: use penalty=0, "
                "or register one (acrl_policies.constraints.register_torch_rows)"
            )
        if self.projection == "opt":
            DifferentiableProjection(self.constraint)  # refuses a set without one, now
            if self.policy_class is MlpPolicy:
                self.policy_class = OptLayerPolicy
            self.policy_kwargs = {**self.policy_kwargs, "constraint_spec": self.constraint_spec}
        self._projector: Projector | None = None
        super()._setup_model()
        low, high = self.action_space.low, self.action_space.high
        self._mid = torch.as_tensor((high + low) / 2.0, device=self.device)
        self._half = torch.as_tensor((high - low) / 2.0, device=self.device)

    @property
    def projector(self) -> Projector:
        """The constraint's exact projector (numpy; built on first use)."""
        if self._projector is None:
            self._projector = make_projector(self.constraint)
        return self._projector

    def _env_units(self, scaled: torch.Tensor) -> torch.Tensor:
        return self._mid + self._half * scaled.double()

    def _scaled(self, env_units: torch.Tensor) -> torch.Tensor:
        return (env_units - self._mid) / self._half

    # ------------------------------------------------------------------ acting
    def _enforce(self, actions: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
        """Clip ``(N, n)`` env-unit actions to the box and project the infeasible rows."""
        assert isinstance(self.action_space, spaces.Box)
        c = self.constraint
        out = np.clip(
            np.asarray(actions, np.float64), self.action_space.low, self.action_space.high
        )
        o = (
            None
            if c.obs_dim == 0 or obs is None
            else np.asarray(obs, np.float64).reshape(len(out), -1)
        )
        violation = c._violation(out, o)
        bad = np.flatnonzero(violation > c.tol)
        for i in bad:
            out[i], _ = self.projector.project_checked(
                out[i], None if o is None else o[i], float(violation[i])
            )
        self.safety_net.add(proposals=out.shape[0], infeasible=bad.size, projections=bad.size)
        return out

    def _sample_action(
        self, learning_starts: int, action_noise: ActionNoise | None = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """Propose (actor + noise, or uniform in warm-up), project, and choose what to store."""
        obs = self._last_obs
        assert isinstance(obs, np.ndarray)
        if self.num_timesteps < learning_starts:
            scaled = np.array([self.action_space.sample() for _ in range(n_envs)])
            scaled = self.policy.scale_action(scaled)
        else:
            obs_t = self.policy.obs_to_tensor(obs)[0]
            with torch.no_grad():
                if self.projection == "opt":  # noise before the projection layer
                    raw = self.actor.forward_before_projection(obs_t).cpu().numpy()
                    noisy = raw if action_noise is None else raw + action_noise()
                    noisy_t = torch.as_tensor(np.clip(noisy, -1, 1), device=self.device)
                    scaled = self.actor.project_scaled(noisy_t, obs_t).cpu().numpy()
                else:
                    scaled = self.actor(obs_t).cpu().numpy()
                    scaled = scaled if action_noise is None else scaled + action_noise()
        scaled = np.clip(scaled, -1.0, 1.0)
        proposed = self.policy.unscale_action(scaled)
        executed = self._enforce(proposed, obs)
        if self.projection == "pre":  # DPre: the critic learns from what the actor proposed
            return executed, scaled
        return executed, self.policy.scale_action(executed)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        """SB3's ``predict``, then the projection: the returned actions are feasible."""
        actions, state = super().predict(observation, state, episode_start, deterministic)
        single = actions.ndim == 1
        batch = actions.reshape(1, -1) if single else actions
        safe = self._enforce(batch, np.asarray(observation, np.float64).reshape(len(batch), -1))
        safe = safe.astype(actions.dtype)
        return (safe[0] if single else safe), state

    # ------------------------------------------------------------------ training
    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        """SB3 TD3's update; the actor's loss comes from :meth:`_actor_loss`."""
        self.policy.set_training_mode(True)
        self._update_learning_rate([self.actor.optimizer, self.critic.optimizer])
        actor_losses, critic_losses = [], []
        for _ in range(gradient_steps):
            self._n_updates += 1
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)  # type: ignore[union-attr]
            discounts = data.discounts if data.discounts is not None else self.gamma
            with torch.no_grad():
                noise = data.actions.clone().data.normal_(0, self.target_policy_noise)
                noise = noise.clamp(-self.target_noise_clip, self.target_noise_clip)
                next_actions = (self.actor_target(data.next_observations) + noise).clamp(-1, 1)
                next_q = torch.cat(self.critic_target(data.next_observations, next_actions), dim=1)
                next_q, _ = torch.min(next_q, dim=1, keepdim=True)
                target_q = data.rewards + (1 - data.dones) * discounts * next_q
            current_q = self.critic(data.observations, data.actions)
            critic_loss = sum(F.mse_loss(q, target_q) for q in current_q)
            assert isinstance(critic_loss, torch.Tensor)
            critic_losses.append(critic_loss.item())
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()
            if self._n_updates % self.policy_delay == 0:
                actor_loss = self._actor_loss(data.observations)
                actor_losses.append(actor_loss.item())
                self.actor.optimizer.zero_grad()
                actor_loss.backward()
                self.actor.optimizer.step()
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
                polyak_update(self.actor.parameters(), self.actor_target.parameters(), self.tau)
                polyak_update(
                    self.critic_batch_norm_stats, self.critic_batch_norm_stats_target, 1.0
                )
                polyak_update(self.actor_batch_norm_stats, self.actor_batch_norm_stats_target, 1.0)
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        if actor_losses:
            self.logger.record("train/actor_loss", np.mean(actor_losses))
        self.logger.record("train/critic_loss", np.mean(critic_losses))

    def _actor_loss(self, obs: torch.Tensor) -> torch.Tensor:
        """``-Q(s, actor(s))``, plus ``penalty * mean violation`` for the "+" variants."""
        actions = self.actor(obs)
        loss = -self.critic.q1_forward(obs, actions).mean()
        if self.penalty > 0:
            penalised = (
                self.actor.forward_before_projection(obs) if self.projection == "opt" else actions
            )
            violation = torch_violation(self.constraint, self._env_units(penalised), obs.double())
            self.logger.record("train/actor_violation", violation.mean().item())
            loss = loss + self.penalty * violation.mean().to(loss.dtype)
        return loss

    # ------------------------------------------------------------------ bookkeeping
    def dump_logs(self, *args: Any) -> None:
        """SB3's log dump, plus ``constraint/policy_projection_rate``."""
        counts = self.safety_net
        if counts.proposals:
            self.logger.record("constraint/policy_projection_rate", 1.0 - counts.valid_rate)
            self.logger.record("constraint/policy_projections", counts.projections)
        super().dump_logs(*args)

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> Any:
        """SB3's ``learn``, plus a ``ConstraintMetricsCallback`` if the env has an acrl wrapper."""
        return super().learn(total_timesteps, with_constraint_metrics(self.env, callback), **kwargs)

    def _excluded_save_params(self) -> list[str]:
        return [
            *super()._excluded_save_params(),
            "constraint",
            "_constraint_arg",
            "_projector",
            "_mid",
            "_half",
        ]


class DPre(ProjectionTD3):
    """DPre: TD3, the proposed action projected before the env, the proposal stored.

    :class:`ProjectionTD3` with ``projection="pre"``; DPre+ is ``DPre(..., penalty=1.0)``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> DPre("MlpPolicy", gym.make("ACRL/ReacherL2-v0")).projection
        'pre'

    Change logs:
        - v0.1.0 - Initially added.
    """

    default_projection = "pre"


class DPro(ProjectionTD3):
    """DPro: TD3 with projected exploration, the executed (projected) action stored.

    :class:`ProjectionTD3` with ``projection="pro"``; DPro+ is ``DPro(..., penalty=1.0)``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> DPro("MlpPolicy", gym.make("ACRL/ReacherL2-v0")).projection
        'pro'

    Change logs:
        - v0.1.0 - Initially added.
    """

    default_projection = "pro"


class DOpt(ProjectionTD3):
    """DOpt (OptLayer): TD3 whose actor ends in the constraint's differentiable projection.

    :class:`ProjectionTD3` with ``projection="opt"``; DOpt+ is ``DOpt(..., penalty=1.0)``
    (the penalty on the output before the layer).

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> model = DOpt("MlpPolicy", gym.make("ACRL/HalfCheetahO20-v0"))
        >>> model.projection, model.actor.projection.method
        ('opt', 'closed-form')

    Change logs:
        - v0.1.0 - Initially added.
    """

    default_projection = "opt"
