"""ARAM (Hung et al., ICLR 2025, arXiv 2503.12932) as an SB3 algorithm.

ARAM = acceptance-rejection (ARM) acting + the augmented MDP (AUTO-MDP) + multi-objective
SAC (MOSAC, the Q-Pensieve backbone). Reference code: ``NYCU-RL-Bandits-Lab/ARAM``
(``agent.py``); behaviour as described in the paper (ARAM, arXiv:2503.12932).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import torch
from stable_baselines3 import SAC
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.utils import polyak_update

from acrl_policies.aram.buffers import AugmentedReplayBuffer
from acrl_policies.aram.mosac import MOSACLosses
from acrl_policies.aram.policies import ARAMPolicy, MlpPolicy, VectorCritic
from acrl_policies.arm import (
    check_max_proposals,
    first_feasible,
    project_rows,
    resolve_constraint,
    squashed_gaussian_proposals,
)
from acrl_policies.common.callbacks import with_constraint_metrics
from acrl_policies.common.optimizers import fused_adam
from acrl_policies.common.safety_net import SafetyNetCounts
from acrl_policies.errors import PolicyError, PreferenceError
from acrl_wrappers import Constraint, make_projector
from acrl_wrappers.projection.base import Projector
from acrl_wrappers.reward_calibration import RewardCalibration, calibration_for

__all__ = ["ARAM", "FEASIBLE_ENTROPY", "check_preference"]

FEASIBLE_ENTROPY = "feasible"
"""``target_entropy="feasible"``: SB3's ``-|A|`` plus the log of the feasible share of the box."""


def check_preference(preference: Sequence[float], name: str = "preference") -> np.ndarray:
    """``preference`` as a float64 ``(2,)`` point of the simplex, or a :class:`PreferenceError`.

    Example:
        >>> check_preference((0.9, 0.1)).tolist()
        [0.9, 0.1]
    """
    try:
        w = np.asarray(preference, dtype=np.float64)
    except (TypeError, ValueError):
        w = np.full(1, np.nan)
    if w.shape != (2,) or not np.all(np.isfinite(w)) or np.any(w < 0) or abs(w.sum() - 1) > 1e-6:
        raise PreferenceError(
            f"`{name}` must be two non-negative weights (task, penalty) summing to 1 (a point "
            f"of the 2-simplex), got {preference!r}; e.g. (0.5, 0.5), or (0.9, 0.1) to weigh "
            "the task reward more"
        )
    return w


class ARAM(MOSACLosses, SAC):
    """ARAM: SAC on ARAM's augmented MDP, acting by acceptance-rejection.

    Paper: "Efficient Action-Constrained Reinforcement Learning via Acceptance-Rejection
    Method and Augmented MDPs" (Hung et al., ICLR 2025, https://arxiv.org/abs/2503.12932).
    Reference code: https://github.com/NYCU-RL-Bandits-Lab/ARAM (``agent.py``), MOSAC from
    https://github.com/NYCU-RL-Bandits-Lab/Q-Pensieve.

    What reaches the simulator (the paper's acceptance-rejection): at each step ``max_proposals``
    (M) actions are drawn from ``pi(.|s, w)`` in one batched forward pass (uniformly in the
    box during warm-up) and checked with one batched ``violation`` call. The first feasible
    one is executed; each proposal rejected before it becomes a self-loop transition
    ``(s, a, [0, -kappa], s, done=False)`` in the self-loop buffer without stepping the env
    (``num_timesteps`` counts simulator steps only). If all M are infeasible the last one is
    projected and executed, and the real transition stores the pre-projection action with
    reward vector ``[r', -kappa]``. Executed steps store ``[r', 0]`` with ``r' = r *
    reward_scale + reward_offset``.

    Reward calibration (why: a self-loop scores ``-w_penalty * kappa``, so a task whose
    rewards are negative makes rejection out-score acting): by default
    ``reward_offset="auto"``, the offset that keeps every executed step seen at least
    ``max(kappa, 0.01)`` above zero, starting from the transform the task declares
    (``env.task_reward_transform``, set by ``gym.make("ACRL/...")``: the reference's
    constants), raised only where those would let a self-loop out-score acting. A fixed
    ``reward_offset`` is applied as given; if a self-loop out-scores acting on average at
    ``eval_preference`` over 1,000 executed steps, a ``RewardInversionWarning`` names the
    offset that fixes it. The buffers keep the raw task reward and the transform is applied
    when a batch is sampled, so an automatic offset applies to old and new transitions
    alike (:mod:`acrl_wrappers.reward_calibration`).

    Learning: MOSAC with a preference-conditioned actor and twin vector critics
    (:class:`~acrl_policies.aram.ARAMPolicy`). Acting preferences ``w ~ Dirichlet(1, 1)``
    per episode and env; per update one ``w`` for the critic and a set ``W`` of
    ``n_preferences`` (``w`` and fresh draws) for the actor. Critic target: the twin with
    the smaller ``w . Q`` per sample, the entropy bonus added to both components; loss
    ``sum_k w_k (Q_k - y_k)^2``. Actor loss: for each critic in {current} + Q-snapshots and
    each ``w'`` in ``W``, ``min_twin w . Q(s, a, w')``; the best of them per sample minus
    ``alpha log pi``. Q-snapshots (Q-Pensieve): a copy of the critic every
    ``q_snapshot_every`` updates after ``q_snapshot_start``, the newest ``q_snapshots`` kept.
    ``preference=(w_task, w_penalty)`` fixes ``w`` everywhere: the paper's single-objective
    SOSAC ablation (no snapshots by default).

    :meth:`predict` at the evaluation preference ``eval_preference`` (default (0.5, 0.5),
    the middle of the reference's three): ``deterministic=True`` gives ``tanh(mean)``
    projected if infeasible; ``deterministic=False`` acts by acceptance-rejection
    with projection fallback. Either way the returned action is feasible.

    Deviations from the reference (each on purpose):

    - capacity: the reference passes ``memory_size=100`` and never trains; both
      buffers hold ``buffer_size`` (SB3 default 1e6) transitions;
    - the reference draws (and discards) one extra policy sample before the M proposals
      and draws them one at a time; here the M are drawn at once (same distribution);
    - ``policy_action_samples`` defaults to 1, not 100: the minimum over (critic, ``w'``)
      is taken per sampled action, so the loss has the same expectation, at 1/100 of the
      critic evaluations (~2M rows per update at 100, GPU-scale);
    - evaluation projects only infeasible actions (the reference solves a QP for every
      evaluation step; the projection of a feasible action is itself).
    - with a tuned ``ent_coef`` the entropy target defaults to ``-|A| + log p``
      (``target_entropy="feasible"``, ``p`` the feasible share of the action box); the
      reference fixes ``alpha = 0.2``;
    - the reward offset is automatic by default: the reference's constants where they
      keep executed steps above self-loops, raised where they do not (HalfCheetah,
      HopperVel, Ant, NSFnet and BSS3z, whose early rewards are negative; the reference
      sets the constants by hand per problem);
    - the actor loss differentiates only each sample's best (critic, ``w'``) pair (the
      same loss and gradient, less work; see :meth:`_actor_loss`).

    Args:
        policy: ``"MlpPolicy"`` or an :class:`~acrl_policies.aram.ARAMPolicy` subclass.
        env: the env; its acrl wrapper (any ``enforce``) provides the constraint.
        constraint: the constraint (object, spec dict or name) if the env has none.
        max_proposals: M, proposals per env step before the projection fallback (>= 1).
        kappa: penalty of a rejected proposal (reward vector ``[0, -kappa]``).
        reward_scale: multiplies the task reward of executed steps (reference ``1/offset1``);
            ``None``: the task's declared scale, else 1.
        reward_offset: added after scaling (reference ``offset2``: Reacher 1, MuJoCo 0): a
            number, or ``"auto"`` / ``None`` (see Reward calibration).
        preference: ``None`` for MOSAC (Dirichlet preferences); a simplex point for SOSAC.
        eval_preference: preference of :meth:`predict` (default: ``preference`` or (0.5, 0.5)).
        n_preferences: size of the actor's preference set ``W`` (reference 4).
        q_snapshots: Q-snapshots kept (reference 4; default 0 with a fixed ``preference``).
        q_snapshot_every: learning steps between snapshots (reference 1000).
        q_snapshot_start: learning steps before the first snapshot (reference 20000).
        policy_action_samples: actions sampled per state in the actor loss (reference 100).
        learning_rate: as in SB3 SAC (reference 3e-4).
        buffer_size: capacity of each of the two buffers.
        learning_starts: warm-up steps with uniform proposals (reference ``start_steps``
            10000).
        batch_size: real plus self-loop transitions per update (reference 1024).
        ent_coef: as in SB3 SAC; the reference fixes alpha = 0.2 (``"auto"`` tunes it).
        target_entropy: with a tuned ``ent_coef``: ``"feasible"`` (default) is SB3's
            ``-|A|`` plus ``log p``, ``p`` the share of uniform actions in the box that
            are feasible at stored states (measured once, at the first update); ``"auto"``
            is SB3's ``-|A|``; or a number. Why: a policy has to fit inside the feasible
            set, whose volume is ``p`` times the box's; with ``-|A|`` a thin set (BSS5z's
            band holds ~1 % of the box) cannot take most of the policy's mass.
        replay_buffer_class: an :class:`AugmentedReplayBuffer` subclass (default itself).
        replay_buffer_kwargs: its mixing settings (``self_loop_ratio`` 0.2, ``ratio_decay``
            0.99, ``decay_every`` 10000: the reference's).
        policy_kwargs: as in SB3 SAC.
        _init_setup_model: as in SB3.
        **kwargs: any other SB3 ``SAC`` argument (``gamma``, ``tau``, ``train_freq``, ...).

    Raises:
        MissingConstraintError: the env carries no acrl wrapper and no ``constraint`` given.
        PreferenceError: a preference not on the 2-simplex.
        AcceptanceRejectionError: ``max_proposals < 1``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/ReacherL2-v0", enforce="project")
        >>> model = ARAM("MlpPolicy", env, learning_starts=50, batch_size=32,
        ...              policy_kwargs={"net_arch": [32, 32]}, seed=0)
        >>> _ = model.learn(100)
        >>> model.replay_buffer.size(), model.replay_buffer.self_loops.size() > 100
        (100, True)
        >>> obs, _ = env.reset(seed=1)
        >>> action, _ = model.predict(obs)
        >>> bool(acrl.find_constraint(env).contains(action))
        True

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    policy: ARAMPolicy
    critic: VectorCritic  # type: ignore[assignment]
    replay_buffer: AugmentedReplayBuffer  # type: ignore[assignment]

    def __init__(
        self,
        policy: str | type[ARAMPolicy],
        env: Any,
        constraint: Any = None,
        max_proposals: int = 100,
        kappa: float = 0.2,
        reward_scale: float | None = None,
        reward_offset: float | str | None = None,
        preference: Sequence[float] | None = None,
        eval_preference: Sequence[float] | None = None,
        n_preferences: int = 4,
        q_snapshots: int | None = None,
        q_snapshot_every: int = 1000,
        q_snapshot_start: int = 20_000,
        policy_action_samples: int = 1,
        learning_rate: float = 3e-4,
        buffer_size: int = 1_000_000,
        learning_starts: int = 10_000,
        batch_size: int = 1024,
        ent_coef: str | float = 0.2,
        target_entropy: str | float = FEASIBLE_ENTROPY,
        replay_buffer_class: type[AugmentedReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        self.max_proposals = check_max_proposals(max_proposals)
        if not kappa >= 0:
            raise PolicyError(f"kappa must be >= 0, got {kappa!r}")
        for name, value in (
            ("n_preferences", n_preferences),
            ("q_snapshot_every", q_snapshot_every),
            ("policy_action_samples", policy_action_samples),
        ):
            if int(value) < 1:
                raise PolicyError(f"{name} must be >= 1, got {value!r}")
        self.kappa = float(kappa)
        self.reward_scale = None if reward_scale is None else float(reward_scale)
        self.reward_offset = reward_offset
        self.reward_calibration: RewardCalibration | None = None  # built with the model
        self.preference = None if preference is None else check_preference(preference)
        default_eval = (0.5, 0.5) if self.preference is None else self.preference
        self.eval_preference = check_preference(
            default_eval if eval_preference is None else eval_preference, "eval_preference"
        )
        self.n_preferences = 1 if self.preference is not None else int(n_preferences)
        if q_snapshots is None:
            q_snapshots = 0 if self.preference is not None else 4
        if q_snapshots < 0:
            raise PolicyError(f"q_snapshots must be >= 0, got {q_snapshots!r}")
        self.q_snapshots = int(q_snapshots)
        self.q_snapshot_every = int(q_snapshot_every)
        self.q_snapshot_start = int(q_snapshot_start)
        self.policy_action_samples = int(policy_action_samples)
        self._constraint_arg = constraint
        self.constraint_spec: dict[str, Any] | None = None
        self._feasible_entropy_pending = target_entropy == FEASIBLE_ENTROPY
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            buffer_size=buffer_size,
            learning_starts=learning_starts,
            batch_size=batch_size,
            ent_coef=ent_coef,
            target_entropy="auto" if self._feasible_entropy_pending else target_entropy,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            policy_kwargs=policy_kwargs,
            _init_setup_model=False,
            **kwargs,
        )
        self.safety_net = SafetyNetCounts()  # ARM's proposals, rejections, fallback projections
        if _init_setup_model:
            self._setup_model()

    # ------------------------------------------------------------------ setup
    def _setup_model(self) -> None:
        if self.replay_buffer_class is None:
            self.replay_buffer_class = AugmentedReplayBuffer
        elif not issubclass(self.replay_buffer_class, AugmentedReplayBuffer):
            raise PolicyError(
                "ARAM stores self-loops in a second buffer: replay_buffer_class must be "
                f"AugmentedReplayBuffer or a subclass, got {self.replay_buffer_class.__name__}"
            )
        if self.use_sde:
            raise PolicyError("ARAM does not support gSDE: use use_sde=False")
        spec = self.constraint_spec if self._constraint_arg is None else None
        self.constraint: Constraint = resolve_constraint(
            self._constraint_arg if spec is None else spec, self.env, "ARAM"
        )
        if self.constraint.dim != self.action_space.shape[0]:
            raise PolicyError(
                f"the constraint acts on {self.constraint.dim} action dims, the env has "
                f"{self.action_space.shape[0]}"
            )
        self.constraint_spec = dict(self.constraint.spec)
        if self.reward_calibration is None:  # a loaded model keeps its own
            self.reward_calibration = calibration_for(
                self.env,
                self.reward_scale,
                self.reward_offset,
                kappa=self.kappa,
                preference=tuple(self.eval_preference),
                owner="ARAM",
            )
        super()._setup_model()
        if self.ent_coef_optimizer is not None:  # SB3's, on the fused kernel like the policy's
            self.ent_coef_optimizer = fused_adam([self.log_ent_coef], self.lr_schedule(1))
        preference = self.policy.actor.preference
        preference.copy_(torch.as_tensor(self.eval_preference, device=preference.device))
        self._projector: Projector | None = None
        self._rng = np.random.default_rng(self.seed)
        self._acting_preferences = self._sample_preferences_np(self.n_envs)
        self._snapshots: deque[VectorCritic] = deque(maxlen=max(self.q_snapshots, 1))
        self._learning_steps = 0
        self.arm_steps = self.arm_proposals = self.arm_accepted = 0  # since the last log dump
        self._fallback = np.zeros(self.n_envs, dtype=bool)

    @property
    def projector(self) -> Projector:
        """The projector of the constraint (built on first use)."""
        if self._projector is None:
            self._projector = make_projector(self.constraint)
        return self._projector

    def _sample_preferences_np(self, n: int) -> np.ndarray:
        if self.preference is not None:
            return np.tile(self.preference, (n, 1))
        return self._rng.dirichlet((1.0, 1.0), size=n)

    def _sample_preferences(self, n: int) -> torch.Tensor:
        """``n`` training preferences ``(n, 2)``: Dirichlet(1, 1), or the fixed one (SOSAC)."""
        if self.preference is not None:
            fixed = torch.as_tensor(self.preference, dtype=torch.float32, device=self.device)
            return fixed.expand(n, 2)
        # Dirichlet(1, 1) on the 2-simplex is uniform on the first weight
        w = torch.rand(n, 1, device=self.device)
        return torch.cat([w, 1 - w], dim=1)

    # ------------------------------------------------------------------ acting
    def _raw_obs(self, obs: np.ndarray) -> np.ndarray:
        """Observations in the env's units, which the constraint reads."""
        if self._vec_normalize_env is not None:
            return self._vec_normalize_env.unnormalize_obs(obs)
        return obs

    def propose(
        self, observation: np.ndarray, n: int, preference: np.ndarray | None = None
    ) -> np.ndarray:
        """``n`` scaled proposals per observation from one forward pass: ``(N, n, dim)``.

        Args:
            observation: ``(N, k)`` observations (as the policy sees them).
            n: proposals per observation.
            preference: ``(N, 2)`` or ``(2,)`` preferences (default: ``eval_preference``).

        Example:
            >>> import gymnasium as gym, acrl_wrappers as acrl
            >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1})
            >>> model = ARAM("MlpPolicy", env, policy_kwargs={"net_arch": [8]}, seed=0)
            >>> model.propose(np.zeros((3, 3), dtype=np.float32), 5).shape
            (3, 5, 1)
        """
        obs_t, _ = self.policy.obs_to_tensor(observation)
        weights = (
            None
            if preference is None
            else torch.as_tensor(preference, dtype=torch.float32, device=obs_t.device)
        )
        with torch.no_grad():
            mean, log_std, _ = self.actor.get_action_dist_params(obs_t, weights)
            return squashed_gaussian_proposals(mean, log_std, n).cpu().numpy()

    def _sample_action(
        self, learning_starts: int, action_noise: ActionNoise | None = None, n_envs: int = 1
    ) -> tuple[np.ndarray, np.ndarray]:
        """ARM: M proposals → first feasible, self-loops for the rejected, projection after M."""
        obs = self._last_obs
        assert isinstance(obs, np.ndarray)
        m, dim = self.max_proposals, self.action_space.shape[0]
        if self.num_timesteps < learning_starts:
            scaled = self._rng.uniform(-1.0, 1.0, (n_envs, m, dim)).astype(np.float32)
        else:
            self.policy.set_training_mode(False)
            scaled = self.propose(obs, m, self._acting_preferences)
        if action_noise is not None:
            noise = np.asarray(action_noise()).reshape(-1, 1, dim)
            scaled = np.clip(scaled + noise, -1.0, 1.0)
        raw = self._raw_obs(obs)
        proposals = self.policy.unscale_action(scaled.reshape(-1, dim)).reshape(n_envs, m, dim)
        index, violation = first_feasible(self.constraint, proposals, raw)
        self._fallback = index < 0
        chosen = np.where(self._fallback, m - 1, index)
        rejected = np.arange(m)[None, :] < np.where(self._fallback, m, index)[:, None]
        self._store_self_loops(raw, scaled, rejected)
        rows = np.arange(n_envs)
        executed = project_rows(
            self.projector,
            proposals[rows, chosen],
            raw,
            violation[rows, chosen],
            np.flatnonzero(self._fallback),
        )
        proposed = int(np.where(self._fallback, m, index + 1).sum())
        accepted = int(n_envs - self._fallback.sum())
        self.arm_steps += n_envs
        self.arm_proposals += proposed
        self.arm_accepted += accepted
        self.safety_net.add(
            proposals=proposed, infeasible=proposed - accepted, projections=n_envs - accepted
        )
        return executed.astype(np.float32), scaled[rows, chosen]

    def _store_self_loops(self, raw: np.ndarray, scaled: np.ndarray, rejected: np.ndarray) -> None:
        """Every rejected proposal → ``(s, a, [0, -kappa], s)`` in the self-loop buffer."""
        env_of, proposal = np.nonzero(rejected)
        if env_of.size:
            original = self._last_original_obs if self._vec_normalize_env is not None else raw
            assert isinstance(original, np.ndarray)
            self.replay_buffer.add_self_loops(
                original[env_of], scaled[env_of, proposal], self.kappa
            )
            self.safety_net.self_loops += env_of.size

    def _store_transition(
        self,
        replay_buffer: Any,
        buffer_action: np.ndarray,
        new_obs: Any,
        reward: np.ndarray,
        dones: np.ndarray,
        infos: list[dict[str, Any]],
    ) -> None:
        """Store the real step with its raw task reward; new preferences for ended episodes.

        The reward transform is applied when a batch is sampled (:meth:`_reward_vectors`).
        """
        if self._vec_normalize_env is not None:
            reward = self._vec_normalize_env.get_original_reward()
        vectors, tasks = [], []
        for i, info in enumerate(infos):
            task = float(info["reward_vector"][0]) if "reward_vector" in info else float(reward[i])
            tasks.append(task)
            vectors.append(
                {**info, "reward_vector": [task, -self.kappa if self._fallback[i] else 0.0]}
            )
        assert self.reward_calibration is not None
        self.reward_calibration.observe(np.asarray(tasks))
        super()._store_transition(replay_buffer, buffer_action, new_obs, reward, dones, vectors)
        ended = np.flatnonzero(dones)
        if ended.size:
            self._acting_preferences[ended] = self._sample_preferences_np(ended.size)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        """Feasible actions at ``eval_preference``: ARM (stochastic) or projected ``tanh(mean)``.

        Example:
            >>> import gymnasium as gym, acrl_wrappers as acrl
            >>> box = {"name": "box", "dim": 1, "low": -0.1, "high": 0.1}
            >>> env = acrl.wrap(gym.make("Pendulum-v1"), box)
            >>> model = ARAM("MlpPolicy", env, policy_kwargs={"net_arch": [8]}, seed=0)
            >>> action, _ = model.predict(np.zeros(3, dtype=np.float32), deterministic=True)
            >>> bool(abs(action[0]) <= 0.1)
            True
        """
        self.policy.set_training_mode(False)
        obs_t, vectorized = self.policy.obs_to_tensor(observation)
        batch = obs_t.cpu().numpy().reshape(obs_t.shape[0], -1)
        m = 1 if deterministic else self.max_proposals
        if deterministic:
            with torch.no_grad():
                scaled = self.actor(obs_t, deterministic=True).cpu().numpy()[:, None, :]
        else:
            scaled = self.propose(batch, m)
        dim = self.action_space.shape[0]
        proposals = self.policy.unscale_action(scaled.reshape(-1, dim)).reshape(-1, m, dim)
        raw = self._raw_obs(batch)
        index, violation = first_feasible(self.constraint, proposals, raw)
        rows = np.arange(len(index))
        fallback = index < 0
        chosen = np.where(fallback, m - 1, index)
        proposed = int(np.where(fallback, m, index + 1).sum())
        self.safety_net.add(
            proposals=proposed,
            infeasible=proposed - int((~fallback).sum()),
            projections=int(fallback.sum()),
        )
        actions = project_rows(
            self.projector,
            proposals[rows, chosen],
            raw,
            violation[rows, chosen],
            np.flatnonzero(index < 0),
        ).astype(np.float32)
        return (actions if vectorized else actions[0]), state

    # ------------------------------------------------------------------ learning
    def train(self, gradient_steps: int, batch_size: int = 64) -> None:
        """MOSAC updates on mixed real and self-loop batches (ARAM, arXiv:2503.12932)."""
        self.policy.set_training_mode(True)
        optimizers = [self.actor.optimizer, self.critic.optimizer]
        if self.ent_coef_optimizer is not None:
            optimizers.append(self.ent_coef_optimizer)
        self._update_learning_rate(optimizers)
        if self._feasible_entropy_pending and self.ent_coef_optimizer is not None:
            self.target_entropy = self.feasible_target_entropy()
            self._feasible_entropy_pending = False
        losses: dict[str, list[float]] = {"actor": [], "critic": [], "ent_coef": []}
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            prefs = self._sample_preferences(self.n_preferences)  # W; prefs[0] is w
            alpha = self._alpha()
            critic_loss = self._critic_loss(data, prefs[0], alpha)
            self.critic.optimizer.zero_grad()
            critic_loss.backward()
            self.critic.optimizer.step()
            actor_loss, log_prob = self._actor_loss(data.observations, prefs, alpha)
            self.actor.optimizer.zero_grad()
            actor_loss.backward(inputs=self.actor_parameters())
            self.actor.optimizer.step()
            if self.ent_coef_optimizer is not None:
                assert isinstance(self.target_entropy, float)
                ent_loss = -(self.log_ent_coef * (log_prob + self.target_entropy).detach()).mean()
                self.ent_coef_optimizer.zero_grad()
                ent_loss.backward()
                self.ent_coef_optimizer.step()
            losses["actor"].append(actor_loss.item())
            losses["critic"].append(critic_loss.item())
            losses["ent_coef"].append(float(alpha))
            self._learning_steps += 1
            if self._learning_steps % self.target_update_interval == 0:
                polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
            self._maybe_snapshot()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/ent_coef", np.mean(losses["ent_coef"]))
        self.logger.record("train/actor_loss", np.mean(losses["actor"]))
        self.logger.record("train/critic_loss", np.mean(losses["critic"]))
        self.logger.record("train/q_snapshots", len(self._snapshots) if self.q_snapshots else 0)
        self.logger.record("train/self_loop_ratio", self.replay_buffer.self_loop_ratio)
        assert self.reward_calibration is not None
        self.logger.record("train/reward_offset", self.reward_calibration.transform.offset)
        if self.ent_coef_optimizer is not None:
            self.logger.record("train/target_entropy", self.target_entropy)

    # ------------------------------------------------------------------ logging
    def dump_logs(self) -> None:
        """SB3's log dump plus ``constraint/acceptance_rate`` and the ARM counts."""
        if self.arm_steps:
            self.logger.record("constraint/acceptance_rate", self.arm_accepted / self.arm_proposals)
            self.logger.record("constraint/proposals_per_step", self.arm_proposals / self.arm_steps)
            self.logger.record("constraint/fallback_rate", 1.0 - self.arm_accepted / self.arm_steps)
            self.arm_steps = self.arm_proposals = self.arm_accepted = 0
        self.logger.record("constraint/self_loops", self.safety_net.self_loops)
        self.logger.record("constraint/policy_projections", self.safety_net.projections)
        super().dump_logs()

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> ARAM:  # type: ignore[override]
        """SB3's ``learn``, plus a ``ConstraintMetricsCallback`` if the env has an acrl wrapper."""
        return super().learn(total_timesteps, with_constraint_metrics(self.env, callback), **kwargs)

    def _excluded_save_params(self) -> list[str]:
        return [
            *super()._excluded_save_params(),
            "constraint",
            "_constraint_arg",
            "_projector",
            "_rng",
            "_snapshots",
            "_acting_preferences",
            "_fallback",
        ]
