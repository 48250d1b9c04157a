"""``CVPO``: Constrained Variational Policy Optimization as an SB3 off-policy algorithm."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, ClassVar, NamedTuple, TypeVar

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.policies import BasePolicy, ContinuousCritic
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import polyak_update, update_learning_rate
from stable_baselines3.sac.policies import Actor

from acrl_policies.costs import (
    CostOffPolicyAlgorithm,
    CostReplayBufferSamples,
    combine_twins,
    twin_td_loss,
)
from acrl_policies.cvpo.estep import cost_threshold, estep_dual, variational_weights
from acrl_policies.cvpo.mstep import decoupled_gaussian_kl, weighted_log_likelihood
from acrl_policies.cvpo.policies import CVPOPolicy, MlpPolicy
from acrl_policies.errors import InvalidSampleCountError, PolicyError

__all__ = ["CVPO"]

SelfCVPO = TypeVar("SelfCVPO", bound="CVPO")

DEFAULT_EPISODE_STEPS = 1000


class EStep(NamedTuple):
    """Outcome of one E-step: the samples, the old policy at the states, the weights."""

    samples: th.Tensor  # (K, batch, d) pre-squash actions drawn from π_old
    mean_old: th.Tensor  # (batch, d)
    std_old: th.Tensor  # (batch, d)
    weights: th.Tensor  # (K, batch), columns sum to 1
    q_costs: th.Tensor  # (K, batch)
    dual_loss: float


def _positive(value: float, name: str) -> float:
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise PolicyError(f"{name} must be a finite number > 0, got {value!r}")
    return value


class CVPO(CostOffPolicyAlgorithm):
    """Constrained Variational Policy Optimization (CVPO).

    Paper: Liu, Cen, Isenbaev, Liu, Wu, Li, Zhao, "Constrained Variational Policy
    Optimization for Safe Reinforcement Learning", ICML 2022, https://arxiv.org/abs/2201.11927.
    Code: after FSRL's ``fsrl/policy/cvpo.py`` (https://github.com/liuzuxin/FSRL, the
    authors' maintained version), on SB3's ``OffPolicyAlgorithm`` with the
    cost plumbing of :class:`~acrl_policies.costs.CostOffPolicyAlgorithm`. It subclasses
    ``OffPolicyAlgorithm`` rather than ``SAC``: CVPO has no entropy coefficient and no
    SAC actor loss, so SAC would contribute only state to switch off.

    Each gradient step of an update round (one ``train`` call):

    1. **Critics.** Twin Q_r and twin Q_c by one-step TD, targets
       ``r + γ(1 − d)·min Q_r'(s', a')`` and ``c + γ(1 − d)·max Q_c'(s', a')`` with a'
       sampled from the current actor; Polyak averaging with τ after every step. The
       twin cost critics are combined by their maximum, the pessimistic estimate of a
       cost; FSRL takes the minimum of both pairs, which underestimates Q_c
       (``pessimistic_cost_critic=False`` restores it; see
       :class:`~acrl_policies.costs.CostOffPolicyAlgorithm`).
    2. **E-step.** K actions per state from ``actor_old`` in one batched forward pass, Q_r
       and Q_c of all K·B pairs in one pass each (current critics, combined as in the
       targets). One Adam step (lr ``estep_dual_lr``) on the convex dual
       L(η, λ) (:func:`~acrl_policies.cvpo.estep_dual`) and a clip of (η, λ) to
       [1e-6, ``estep_dual_max``]; η starts at 1 and λ at 0 and are carried across steps.
       This is FSRL's solver, chosen over an exact solve (the original code's SLSQP) for
       three reasons: it costs one tiny backward pass per step instead of a scipy call
       with a host round trip; warm-starting makes λ behave like an integral controller
       on the cost constraint, which FSRL's published results rely on; and an exact
       solve on a noisy 256-state batch whipsaws λ between batches. The non-parametric
       weights are softmax((Q_r − λ·Q_c)/η) over the K samples of each state
       (:func:`~acrl_policies.cvpo.variational_weights`).
    3. **M-step.** Weighted maximum likelihood of the samples with MPO's decoupled
       Gaussians, N(μ_θ, σ_old) and N(μ_old, σ_θ)
       (:func:`~acrl_policies.cvpo.weighted_log_likelihood`), plus α_μ·(KL_μ − ε_μ) +
       α_σ·(KL_σ − ε_σ) (:func:`~acrl_policies.cvpo.decoupled_gaussian_kl`). The
       multipliers α take one Adam step (lr ``mstep_dual_lr``) per gradient step and are
       projected to [0, ``mstep_dual_max``]; they are re-initialised to 0 at the start of
       every update round (FSRL's ``pre_update_fn``). After the round ``actor_old`` is
       synced with the actor (``post_update_fn``).

    The per-state cost bound is ξ = c·(1 − γ^T)/((1 − γ)·T)
    (:func:`~acrl_policies.cvpo.cost_threshold`), T the env's ``max_episode_steps``
    (1000 if the env has no time limit; pass ``max_episode_steps`` to override).

    Defaults are FSRL's ``Mujoco5MCfg`` (HalfCheetah/Hopper/Swimmer velocity tasks):
    γ = 0.98, K = 16, ε = 0.02, ε_μ = 0.005, ε_σ = 0.0005, hidden (128, 128), actor lr
    5e-4, critic lr 1e-3, batch 256, buffer 40k, τ = 0.05, cost limit 25, and
    ``update_per_step`` 0.2, here 20 gradient steps per round of 100 env steps.
    Deviations: the maximum of the twin cost critics (FSRL: the minimum); one-step TD
    (FSRL: n-step 3); a tanh-squashed actor (FSRL: "bounded",
    tanh mean and clipped samples; see :class:`~acrl_policies.cvpo.CVPOPolicy`); the
    M-step multipliers are projected after their Adam step (FSRL clips only where it
    uses them); and the update round is SB3's ``train_freq``, 100 env steps, where FSRL's
    is 10 collected episodes (10,000 steps, 2,000 gradient steps). The trust regions
    bound the change per round (ε_σ = 0.0005 lets the log-std move about √(ε_σ/d), 0.013
    for d = 3 action dimensions), so FSRL's 500 rounds over 5M steps become 500 rounds in
    50k steps here; with 1,000-step rounds a 50k-step run could at most halve σ from 1.

    Args:
        policy: ``"MlpPolicy"`` (a :class:`~acrl_policies.cvpo.CVPOPolicy`).
        env: the environment to learn from; its ``info`` must carry ``"cost"``.
        learning_rate: actor learning rate (a float or a schedule).
        critic_learning_rate: learning rate of the reward and cost critics.
        buffer_size: replay buffer capacity.
        learning_starts: env steps of uniformly random actions before training.
        batch_size: states per gradient step.
        tau: Polyak coefficient of the critic targets.
        gamma: discount factor (rewards and costs).
        train_freq: env steps (or ``(n, "episode")``) per update round.
        gradient_steps: gradient steps per round.
        cost_limit: limit c on the expected undiscounted episode cost (> 0).
        sample_action_num: K, actions sampled per state in the E-step (≥ 2).
        estep_kl: ε, the E-step KL bound.
        estep_dual_lr: Adam learning rate of (η, λ).
        estep_dual_max: upper clip of η and λ.
        mstep_kl_mean: ε_μ, the bound on the mean part of the M-step KL.
        mstep_kl_std: ε_σ, the bound on the covariance part.
        mstep_dual_lr: Adam learning rate of the M-step multipliers.
        mstep_dual_max: upper clip of the M-step multipliers.
        max_episode_steps: T in ξ (``None``: the env's time limit).
        cost_window_size: finished episodes averaged into J_c (logged, not used by CVPO).
        pessimistic_cost_critic: Q_c is the maximum of the twin cost critics (``False``:
            the minimum, as FSRL).
        replay_buffer_class: a :class:`~acrl_policies.costs.CostReplayBuffer` subclass.
        replay_buffer_kwargs: its keyword arguments.
        optimize_memory_usage: SB3's memory-saving replay layout.
        policy_kwargs: keyword arguments of the policy (``net_arch``, ...).
        stats_window_size: episodes in SB3's rollout statistics.
        tensorboard_log: tensorboard log folder.
        verbose: SB3 verbosity.
        seed: random seed.
        device: torch device.
        _init_setup_model: whether to build the networks now.

    Raises:
        InvalidSampleCountError: ``sample_action_num`` < 2.
        InvalidCostLimitError: ``cost_limit`` ≤ 0 or non-finite.
        PolicyError: a non-positive KL bound, learning rate or clip.
        MissingCostError: at the first step, if the env reports no ``info["cost"]``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/SafeHopperVelocity-v1")
        >>> model = CVPO("MlpPolicy", env, learning_starts=64, train_freq=32, gradient_steps=2,
        ...              batch_size=32, seed=0).learn(128)
        >>> round(model.cost_threshold, 2), model.eta > 0, model.lagrange_multiplier >= 0
        (1.25, True, True)

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    policy: CVPOPolicy
    actor: Actor
    critic: ContinuousCritic
    critic_target: ContinuousCritic

    def __init__(
        self,
        policy: str | type[CVPOPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 5e-4,
        critic_learning_rate: float = 1e-3,
        buffer_size: int = 40_000,
        learning_starts: int = 1000,
        batch_size: int = 256,
        tau: float = 0.05,
        gamma: float = 0.98,
        train_freq: int | tuple[int, str] = 100,
        gradient_steps: int = 20,
        cost_limit: float = 25.0,
        sample_action_num: int = 16,
        estep_kl: float = 0.02,
        estep_dual_lr: float = 0.02,
        estep_dual_max: float = 20.0,
        mstep_kl_mean: float = 0.005,
        mstep_kl_std: float = 0.0005,
        mstep_dual_lr: float = 0.1,
        mstep_dual_max: float = 0.5,
        max_episode_steps: int | None = None,
        cost_window_size: int = 50,
        pessimistic_cost_critic: bool = True,
        replay_buffer_class: type[ReplayBuffer] | None = None,
        replay_buffer_kwargs: dict[str, Any] | None = None,
        optimize_memory_usage: bool = False,
        policy_kwargs: dict[str, Any] | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        _init_setup_model: bool = True,
    ) -> None:
        if isinstance(sample_action_num, bool) or int(sample_action_num) != sample_action_num:
            raise InvalidSampleCountError(
                f"sample_action_num must be an integer, got {sample_action_num!r}"
            )
        if sample_action_num < 2:
            raise InvalidSampleCountError(
                f"sample_action_num (K, actions sampled per state in the E-step) must be >= 2 "
                f"for the softmax over samples to weigh anything, got {sample_action_num}; "
                "use the default 16 (FSRL; 32 or 64 for larger action spaces)"
            )
        self.sample_action_num = int(sample_action_num)
        self.critic_learning_rate = _positive(critic_learning_rate, "critic_learning_rate")
        self.estep_kl = _positive(estep_kl, "estep_kl")
        self.estep_dual_lr = _positive(estep_dual_lr, "estep_dual_lr")
        self.estep_dual_max = _positive(estep_dual_max, "estep_dual_max")
        self.mstep_kl_mean = _positive(mstep_kl_mean, "mstep_kl_mean")
        self.mstep_kl_std = _positive(mstep_kl_std, "mstep_kl_std")
        self.mstep_dual_lr = _positive(mstep_dual_lr, "mstep_dual_lr")
        self.mstep_dual_max = _positive(mstep_dual_max, "mstep_dual_max")
        if max_episode_steps is not None and int(max_episode_steps) < 1:
            raise PolicyError(f"max_episode_steps must be >= 1 or None, got {max_episode_steps!r}")
        self.max_episode_steps = max_episode_steps
        self.cost_threshold = math.nan
        super().__init__(
            policy,
            env,
            learning_rate,
            buffer_size,
            learning_starts,
            batch_size,
            tau,
            gamma,
            train_freq,
            gradient_steps,
            action_noise=None,
            replay_buffer_class=replay_buffer_class,
            replay_buffer_kwargs=replay_buffer_kwargs,
            optimize_memory_usage=optimize_memory_usage,
            policy_kwargs=policy_kwargs,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            verbose=verbose,
            device=device,
            seed=seed,
            sde_support=False,
            support_multi_env=True,
            supported_action_spaces=(spaces.Box,),
            cost_limit=cost_limit,
            cost_window_size=cost_window_size,
            pessimistic_cost_critic=pessimistic_cost_critic,
        )
        if _init_setup_model:
            self._setup_model()

    @property
    def eta(self) -> float:
        """The E-step temperature η."""
        return float(self.estep_dual[0].item())

    @property
    def lagrange_multiplier(self) -> float:
        """The E-step cost multiplier λ."""
        return float(self.estep_dual[1].item())

    def _setup_model(self) -> None:
        super()._setup_model()
        self.actor = self.policy.actor
        self.critic = self.policy.critic
        self.critic_target = self.policy.critic_target
        if self.max_episode_steps is None:
            self.max_episode_steps = self._env_episode_steps()
        self.cost_threshold = cost_threshold(self.cost_limit, self.gamma, self.max_episode_steps)
        # (η, λ): η starts at 1 and λ at 0, as FSRL
        self.estep_dual = th.tensor([1.0, 0.0], device=self.device, requires_grad=True)
        self.estep_optimizer = th.optim.Adam([self.estep_dual], lr=self.estep_dual_lr)

    def _env_episode_steps(self) -> int:
        """The env's time limit T (``DEFAULT_EPISODE_STEPS`` if it has none)."""
        if self.env is not None:
            try:
                spec = self.env.get_attr("spec", [0])[0]
            except AttributeError:
                spec = None
            steps = getattr(spec, "max_episode_steps", None)
            if steps:
                return int(steps)
        return DEFAULT_EPISODE_STEPS

    def train(self, gradient_steps: int, batch_size: int = 256) -> None:
        """One update round: ``gradient_steps`` × (critics, E-step, M-step), then sync π_old."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.actor.optimizer)
        for optimizer in (self.critic.optimizer, self.policy.cost_critic.optimizer):
            update_learning_rate(optimizer, self.critic_learning_rate)
        # M-step multipliers (α_μ, α_σ) start from 0 in every round (FSRL's pre_update_fn)
        mstep_duals = th.zeros(2, device=self.device, requires_grad=True)
        mstep_optimizer = th.optim.Adam([mstep_duals], lr=self.mstep_dual_lr)
        logs: dict[str, list[float]] = defaultdict(list)
        for _ in range(gradient_steps):
            data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            with th.no_grad():
                next_actions, _ = self.actor.action_log_prob(data.next_observations)
            logs["critic_loss"].append(self._fit_reward_critic(data, next_actions))
            logs["cost_critic_loss"].append(self._fit_cost_critic(data, next_actions))
            estep = self._estep(data.observations)
            logs["estep_dual_loss"].append(estep.dual_loss)
            logs["q_cost"].append((estep.weights * estep.q_costs).sum(0).mean().item())
            for key, value in self._mstep(data.observations, estep, mstep_duals, mstep_optimizer):
                logs[key].append(value)
            polyak_update(self.critic.parameters(), self.critic_target.parameters(), self.tau)
            self._update_cost_target()
        self.policy.sync_old_actor()  # FSRL's post_update_fn
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/eta", self.eta)
        self.logger.record("train/lambda", self.lagrange_multiplier)
        self.logger.record("train/cost_threshold", self.cost_threshold)
        self.logger.record("train/ep_cost", self.episode_cost_mean)
        for key, values in logs.items():
            self.logger.record(f"train/{key}", float(np.mean(values)))

    def _fit_reward_critic(self, data: CostReplayBufferSamples, next_actions: th.Tensor) -> float:
        """One TD step of the twin reward critic (no entropy term); returns its loss."""
        with th.no_grad():
            next_q = combine_twins(self.critic_target(data.next_observations, next_actions))
            target = data.rewards + (1 - data.dones) * self.gamma * next_q
        loss = twin_td_loss(self.critic, data.observations, data.actions, target)
        self.critic.optimizer.zero_grad()
        loss.backward()
        self.critic.optimizer.step()
        return loss.item()

    def _estep(self, observations: th.Tensor) -> EStep:
        """Sample K actions per state from π_old, step the dual (η, λ), weigh the samples."""
        n_samples, batch = self.sample_action_num, observations.shape[0]
        with th.no_grad():
            mean_old, log_std_old, _ = self.policy.actor_old.get_action_dist_params(observations)
            std_old = log_std_old.exp()
            noise = th.randn((n_samples, *mean_old.shape), device=self.device)
            samples = mean_old + std_old * noise  # (K, B, d), pre-squash
            flat_obs = observations.unsqueeze(0).expand(n_samples, *observations.shape)
            flat_obs = flat_obs.reshape(n_samples * batch, -1)
            flat_actions = th.tanh(samples).reshape(n_samples * batch, -1)
            q_rewards = combine_twins(self.critic(flat_obs, flat_actions)).reshape(n_samples, batch)
            q_costs = self.cost_q(flat_obs, flat_actions).reshape(n_samples, batch)
        eta, lam = self.estep_dual[0], self.estep_dual[1]
        loss = estep_dual(eta, lam, q_rewards, q_costs, self.estep_kl, self.cost_threshold)
        self.estep_optimizer.zero_grad()
        loss.backward()
        self.estep_optimizer.step()
        with th.no_grad():
            self.estep_dual.clamp_(1e-6, self.estep_dual_max)
        eta_value, lam_value = self.estep_dual.tolist()
        weights = variational_weights(q_rewards, q_costs, eta_value, lam_value)
        return EStep(samples, mean_old, std_old, weights, q_costs, loss.item())

    def _mstep(
        self,
        observations: th.Tensor,
        estep: EStep,
        duals: th.Tensor,
        dual_optimizer: th.optim.Optimizer,
    ) -> list[tuple[str, float]]:
        """Weighted maximum likelihood under decoupled KL trust regions; returns logs."""
        mean, log_std, _ = self.actor.get_action_dist_params(observations)
        std = log_std.exp()
        log_likelihood = weighted_log_likelihood(
            estep.weights, estep.samples, estep.mean_old, estep.std_old, mean, std
        )
        kls = th.stack(decoupled_gaussian_kl(estep.mean_old, estep.std_old, mean, std))
        bounds = th.tensor([self.mstep_kl_mean, self.mstep_kl_std], device=self.device)
        # the multipliers descend α·(ε − KL): they grow while a KL exceeds its bound
        dual_loss = (duals * (bounds - kls.detach())).sum()
        dual_optimizer.zero_grad()
        dual_loss.backward()
        dual_optimizer.step()
        with th.no_grad():
            duals.clamp_(0.0, self.mstep_dual_max)
        alphas = duals.detach()
        actor_loss = -log_likelihood + (alphas * (kls - bounds)).sum()
        self.actor.optimizer.zero_grad()
        actor_loss.backward()
        self.actor.optimizer.step()
        kl_mean, kl_std = kls.tolist()
        alpha_mean, alpha_std = alphas.tolist()
        return [
            ("actor_loss", actor_loss.item()),
            ("kl_mean", kl_mean),
            ("kl_std", kl_std),
            ("mstep_dual_mean", alpha_mean),
            ("mstep_dual_std", alpha_std),
            ("std", std.mean().item()),
        ]

    def learn(
        self: SelfCVPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 4,
        tb_log_name: str = "CVPO",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfCVPO:
        """Train for ``total_timesteps`` env steps (SB3's ``learn``)."""
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "actor", "critic", "critic_target"]

    def _get_torch_save_params(self) -> tuple[list[str], list[str]]:
        state_dicts, tensors = super()._get_torch_save_params()
        return (
            [*state_dicts, "actor.optimizer", "critic.optimizer", "estep_optimizer"],
            [*tensors, "estep_dual"],
        )
