"""``CTRPO``: Constrained Trust Region Policy Optimization on sb3-contrib's ``TRPO``."""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar, NamedTuple, TypeVar

import torch as th
from gymnasium import spaces
from sb3_contrib import TRPO
from sb3_contrib.common.utils import conjugate_gradient_solver
from stable_baselines3.common.distributions import kl_divergence
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback
from stable_baselines3.common.utils import explained_variance
from torch import nn

from acrl_policies.costs import CostOnPolicyAlgorithm, CostRolloutBufferSamples
from acrl_policies.ctrpo.divergence import (
    MIRRORS,
    constrained_divergence,
    next_safe_mode,
    surrogate_cost_increase,
)
from acrl_policies.ctrpo.policies import MlpPolicy
from acrl_policies.errors import InvalidCostLimitError, PolicyError

__all__ = ["CTRPO"]

SelfCTRPO = TypeVar("SelfCTRPO", bound="CTRPO")


class PolicyStep(NamedTuple):
    """Outcome of one trust-region step (for the logs)."""

    accepted: bool
    objective: float
    divergence: float
    kl: float
    cost_increase: float
    actor_params: list[nn.Parameter]


class CTRPO(CostOnPolicyAlgorithm, TRPO):
    """Constrained Trust Region Policy Optimization (C-TRPO).

    Paper: Milosevic, Müller, Scherf, ICML 2025, https://arxiv.org/abs/2411.02957.
    Code: ported from the authors' reference ``algorithms/c-trpo.py`` in
    https://github.com/milosen/ctrpo, on top of sb3-contrib's ``TRPO``,
    whose Hessian-vector product and conjugate gradient it reuses.

    C-TRPO keeps the policy inside the safe set by shaping the trust region. With cost
    limit b, mean episode cost J_c and margin δ_b = b − J_c, **safe mode** maximises the
    surrogate reward mean(r_θ·Â_r) subject to the constrained divergence
    D̄_C = KL(π_k ‖ π_θ) + β·D̄_φ(α) ≤ δ, where α = 1/(1−γ_c)·mean((r_θ − 1)·Â_c) is the
    predicted cost increase and D̄_φ the Bregman divergence of φ(x) = x·log x, +inf once
    α ≥ δ_b (:mod:`acrl_policies.ctrpo.divergence`). Its Hessian at θ_k is the Fisher plus
    β·φ″(δ_b)·g_c·g_cᵀ, obtained by passing D̄_C instead of the KL to TRPO's
    Hessian-vector product. **Recovery mode** minimises the surrogate cost mean(r_θ·Â_c)
    inside the plain KL trust region. The mode switches with hysteresis: recovery until
    J_c < h·b, safe while J_c < b (:func:`~acrl_policies.ctrpo.divergence.next_safe_mode`);
    training starts in recovery mode. Conjugate gradient, step size
    sqrt(2δ / (xᵀHx + 1e-8)) and a backtracking line search that accepts a step when the
    surrogate did not get worse and the divergence of the mode is ≤ δ.

    The costs come from ``info["cost"]`` (:class:`~acrl_policies.costs.CostOnPolicyAlgorithm`):
    the velocity cost of the ``ACRL/Safe*Velocity-v1`` tasks, or, on action-constrained
    tasks, the enforcement wrapper's violation cost (1 per step whose proposed action was
    infeasible, so b bounds the expected number of infeasible proposals per episode).

    Defaults are the reference's: b = 25, β = 1, φ = x·log x, h = 0.8 (the paper's
    "C-TRPO (ours)"; the reference ``default_cfg`` and the per-task table use h = 1),
    δ = target_kl = 0.01 in both modes, 15 CG iterations, damping 0.1, 15 line-search
    steps × 0.8, critics Adam 1e-3 with 10 epochs of minibatches of 128, γ = γ_c = 0.99,
    λ = λ_c = 0.95, J_c over the last 50 episodes, reward advantages standardised and cost
    advantages only centred. For full parity also use 10 envs × ``n_steps=2000``,
    ``policy_kwargs=dict(net_arch=[64, 64], log_std_init=0)`` (the defaults) and
    ``VecNormalize(env, norm_reward=False)``.

    Deviations from the reference code: SB3's orthogonal initialisation (reference:
    kaiming-uniform); sb3-contrib's conjugate gradient starts from 1e-4·randn (reference:
    0); no L2 penalty or gradient clipping on the critics; ``adaptive_target_kl`` (off in
    the reference) is not offered. The reference asserts 0 < δ_b ≤ b in safe mode, which
    the mode rule guarantees for h ≤ 1, so h must lie in (0, 1].

    Args:
        policy: the policy model, ``"MlpPolicy"`` (a
            :class:`~acrl_policies.costs.CostActorCriticPolicy`).
        env: the environment to learn from; its ``info`` must carry ``"cost"``.
        cost_limit: limit b on the expected undiscounted episode cost (> 0).
        beta: weight β of the Bregman term of the constrained divergence (≥ 0; 0 gives
            TRPO on the reward in safe mode).
        hysteresis: h in (0, 1]; recovery mode lasts until J_c < h·b.
        mirror: mirror function φ, ``"entropy"`` (x·log x) or ``"barrier"`` (−log x).
        cost_gamma: discount factor of the costs (``None``: ``gamma``).
        cost_gae_lambda: GAE's λ for the costs (``None``: ``gae_lambda``).
        cost_window_size: finished episodes averaged into J_c.
        line_search_max_iter: maximum backtracking steps (reference: 15).
        _init_setup_model: whether to build the networks now.
        **kwargs: any other argument of sb3-contrib's ``TRPO`` (``learning_rate``,
            ``n_steps``, ``batch_size``, ``target_kl``, ``seed``, ...), with its default.

    Raises:
        InvalidCostLimitError: ``cost_limit`` ≤ 0 or non-finite, ``beta`` < 0, or
            ``hysteresis`` outside (0, 1].
        MissingCostError: at the first rollout step, if the env reports no ``info["cost"]``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> model = CTRPO("MlpPolicy", gym.make("ACRL/SafeHopperVelocity-v1"), n_steps=128,
        ...               batch_size=64, seed=0).learn(128)
        >>> model.cost_limit, model.safe_mode
        (25.0, True)

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}

    def __init__(
        self,
        policy: str | type[MlpPolicy],
        env: Any,
        cost_limit: float = 25.0,
        beta: float = 1.0,
        hysteresis: float = 0.8,
        mirror: str = "entropy",
        cost_gamma: float | None = None,
        cost_gae_lambda: float | None = None,
        cost_window_size: int = 50,
        line_search_max_iter: int = 15,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        if not (math.isfinite(beta) and beta >= 0):
            raise InvalidCostLimitError(f"beta must be a finite number >= 0, got {beta!r}")
        if not 0 < hysteresis <= 1:
            raise InvalidCostLimitError(
                f"hysteresis must lie in (0, 1] (recovery lasts until the episode cost is below "
                f"hysteresis * cost_limit; the paper uses 0.8), got {hysteresis!r}"
            )
        if mirror not in MIRRORS:
            raise PolicyError(f"unknown mirror {mirror!r}; choose one of {MIRRORS}")
        super().__init__(
            policy,
            env,
            cost_limit=cost_limit,
            cost_gamma=cost_gamma,
            cost_gae_lambda=cost_gae_lambda,
            cost_window_size=cost_window_size,
            line_search_max_iter=line_search_max_iter,
            _init_setup_model=False,
            **kwargs,
        )
        self.beta = float(beta)
        self.hysteresis = float(hysteresis)
        self.mirror = mirror
        self.safe_mode = False  # the reference starts in recovery mode
        if _init_setup_model:
            self._setup_model()

    def train(self) -> None:
        """One C-TRPO update: choose the mode, take the trust-region step, fit both critics."""
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        episode_cost = self.episode_cost_mean
        self.safe_mode = next_safe_mode(
            self.safe_mode, episode_cost, self.cost_limit, self.hysteresis
        )
        rollout_data = next(self.rollout_buffer.get(batch_size=None))
        if self.sub_sampling_factor > 1:
            rollout_data = CostRolloutBufferSamples(
                *(t[:: self.sub_sampling_factor] for t in rollout_data)
            )
        step = self._policy_step(rollout_data, margin=self.cost_limit - episode_cost)
        self._fit_critics(self.n_critic_updates, self.batch_size, step.actor_params)
        self._n_updates += 1

        buffer = self.rollout_buffer
        self.logger.record("train/safe_mode", int(self.safe_mode))
        self.logger.record("train/ep_cost", episode_cost)
        self.logger.record("train/policy_objective", step.objective)
        self.logger.record("train/constrained_divergence", step.divergence)
        self.logger.record("train/kl_divergence_loss", step.kl)
        self.logger.record("train/cost_increase", step.cost_increase)
        self.logger.record("train/is_line_search_success", float(step.accepted))
        self.logger.record(
            "train/explained_variance",
            explained_variance(buffer.values.flatten(), buffer.returns.flatten()),
        )
        if hasattr(self.policy, "log_std"):
            self.logger.record("train/std", th.exp(self.policy.log_std).mean().item())
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")

    def _policy_step(self, data: CostRolloutBufferSamples, margin: float) -> PolicyStep:
        """The trust-region step of the current mode (as ``main`` in the authors' code).

        Args:
            data: the whole rollout as one batch.
            margin: δ_b = b − J_c (> 0 whenever safe mode is on).

        Returns:
            Whether the line search accepted a step, the surrogate objective, the
            divergence, KL and predicted cost increase at the accepted parameters (those
            of θ_k if none was accepted), and the actor's parameters.
        """
        actions = data.actions
        if isinstance(self.action_space, spaces.Discrete):
            actions = actions.long().flatten()
        reward_adv = data.advantages
        if self.normalize_advantage:
            reward_adv = (reward_adv - reward_adv.mean()) / (reward_adv.std() + 1e-8)
        cost_adv = data.cost_advantages - data.cost_advantages.mean()  # centred, not scaled

        with th.no_grad():
            old_distribution = copy.copy(self.policy.get_distribution(data.observations))

        def evaluate() -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
            distribution = self.policy.get_distribution(data.observations)
            ratio = th.exp(distribution.log_prob(actions) - data.old_log_prob)
            kl = kl_divergence(old_distribution, distribution).mean()  # KL(old || new)
            if not self.safe_mode:  # recovery: decrease the cost inside the KL region
                return -(ratio * cost_adv).mean(), kl, kl, kl.new_zeros(())
            alpha = surrogate_cost_increase(ratio, cost_adv, self.rollout_buffer.cost_gamma)
            divergence = constrained_divergence(kl, alpha, margin, self.beta, self.mirror)
            return (ratio * reward_adv).mean(), divergence, kl, alpha

        objective, divergence, _, _ = evaluate()
        self.policy.optimizer.zero_grad()
        actor_params, objective_grad, divergence_grad, shapes = self._compute_actor_grad(
            divergence, objective
        )
        hvp = partial(self.hessian_vector_product, actor_params, divergence_grad)
        direction = conjugate_gradient_solver(hvp, objective_grad, max_iter=self.cg_max_steps)
        curvature = float(th.dot(direction, hvp(direction, retain_graph=False)))
        max_step = math.sqrt(2 * self.target_kl / (max(curvature, 0.0) + 1e-8))
        return self._line_search(
            actor_params, shapes, max_step * direction, objective.item(), evaluate
        )

    def _line_search(
        self,
        actor_params: list[nn.Parameter],
        shapes: list[tuple[int, ...]],
        full_step: th.Tensor,
        objective: float,
        evaluate: Callable[[], tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]],
    ) -> PolicyStep:
        """Backtrack from ``full_step`` until the step is acceptable (as the authors' code).

        A step is accepted if the surrogate objective did not decrease and the divergence
        of the mode (D̄_C in safe mode, KL in recovery) is ≤ ``target_kl``; the step is
        multiplied by ``line_search_shrinking_factor`` after each rejection, at most
        ``line_search_max_iter`` times. Without an accepted step the parameters are
        restored.

        Args:
            actor_params: the policy parameters the step applies to.
            shapes: their shapes.
            full_step: the flat, fully scaled step.
            objective: the surrogate objective at θ_k.
            evaluate: returns (objective, divergence, KL, α) at the current parameters.
        """
        originals = [param.detach().clone() for param in actor_params]
        coefficient = 1.0
        with th.no_grad():
            for _ in range(self.line_search_max_iter):
                start = 0
                for param, original, shape in zip(actor_params, originals, shapes, strict=True):
                    n_params = param.numel()
                    param.data = original + coefficient * full_step[start : start + n_params].view(
                        shape
                    )
                    start += n_params
                new_objective, divergence, kl, alpha = evaluate()
                if new_objective >= objective and divergence <= self.target_kl:
                    return PolicyStep(
                        True,
                        float(new_objective),
                        float(divergence),
                        float(kl),
                        float(alpha),
                        actor_params,
                    )
                coefficient *= self.line_search_shrinking_factor
            for param, original in zip(actor_params, originals, strict=True):
                param.data = original.clone()
        return PolicyStep(False, objective, 0.0, 0.0, 0.0, actor_params)

    def learn(
        self: SelfCTRPO,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "CTRPO",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfCTRPO:
        """Train for ``total_timesteps`` env steps (SB3's ``learn``)."""
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
