"""``TRPOLagrangian``: TRPO on the Lagrangian of a CMDP (the TRPO-Lag baseline)."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from sb3_contrib import TRPO
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback

from acrl_policies.lagrangian.lagrangian import LagrangianOnPolicyAlgorithm
from acrl_policies.lagrangian.policies import MlpPolicy

__all__ = ["TRPOLagrangian"]

SelfTRPOLagrangian = TypeVar("SelfTRPOLagrangian", bound="TRPOLagrangian")


class TRPOLagrangian(LagrangianOnPolicyAlgorithm, TRPO):
    """TRPO-Lagrangian: sb3-contrib's TRPO on the advantage of the Lagrangian.

    Paper: Ray, Achiam, Amodei, "Benchmarking Safe Exploration in Deep Reinforcement
    Learning" (2019), the TRPO-Lagrangian baseline; the C-TRPO paper
    (https://arxiv.org/abs/2411.02957) compares against it.
    Code: the naive Lagrangian of OmniSafe's/SafePO's ``TRPOLag`` (PKU-Alignment) on
    sb3-contrib's ``TRPO``, which runs unchanged on the combined advantage
    (:class:`~acrl_policies.lagrangian.LagrangianOnPolicyAlgorithm`).

    The per-step cost is ``info["cost"]``: the velocity cost of the
    ``ACRL/Safe*Velocity-v1`` tasks, or on action-constrained tasks the enforcement
    wrapper's violation cost (1 per infeasible proposed action). TRPO's defaults
    (δ = 0.01, 15 CG steps, damping 0.1, critic Adam 1e-3, 10 epochs of 128) are those of
    OmniSafe's TRPOLag; for parity with the C-TRPO reference also use 10 envs ×
    ``n_steps=2000`` and ``VecNormalize(env, norm_reward=False)``.

    Args:
        policy: ``"MlpPolicy"`` (a :class:`~acrl_policies.costs.CostActorCriticPolicy`).
        env: the environment to learn from; its ``info`` must carry ``"cost"``.
        cost_limit: limit b on the expected undiscounted episode cost (> 0).
        lagrangian_multiplier_init: λ at the start.
        lagrangian_multiplier_lr: Adam learning rate of λ.
        cost_gamma: discount factor of the costs (``None``: ``gamma``).
        cost_gae_lambda: GAE's λ for the costs (``None``: ``gae_lambda``).
        cost_window_size: finished episodes averaged into J_c.
        _init_setup_model: whether to build the networks now.
        **kwargs: any other argument of sb3-contrib's ``TRPO``, with its default.

    Raises:
        InvalidCostLimitError: ``cost_limit`` ≤ 0 or non-finite.
        MissingCostError: at the first rollout step, if the env reports no ``info["cost"]``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/HopperM10-v0", enforce="project")
        >>> model = TRPOLagrangian("MlpPolicy", env, n_steps=128, batch_size=64, seed=0)
        >>> model.learn(128).lagrangian_multiplier < 0.001  # cost below the limit: λ falls
        True

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    critic_epochs_attribute = "n_critic_updates"

    def __init__(
        self,
        policy: str | type[MlpPolicy],
        env: Any,
        cost_limit: float = 25.0,
        lagrangian_multiplier_init: float = 0.001,
        lagrangian_multiplier_lr: float = 0.035,
        cost_gamma: float | None = None,
        cost_gae_lambda: float | None = None,
        cost_window_size: int = 50,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            policy,
            env,
            lagrangian_multiplier_init=lagrangian_multiplier_init,
            lagrangian_multiplier_lr=lagrangian_multiplier_lr,
            cost_limit=cost_limit,
            cost_gamma=cost_gamma,
            cost_gae_lambda=cost_gae_lambda,
            cost_window_size=cost_window_size,
            _init_setup_model=False,
            **kwargs,
        )
        if _init_setup_model:
            self._setup_model()

    def learn(
        self: SelfTRPOLagrangian,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "TRPOLagrangian",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfTRPOLagrangian:
        """Train for ``total_timesteps`` env steps (SB3's ``learn``)."""
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
