"""``PPOLagrangian``: PPO on the Lagrangian of a CMDP (the PPO-Lag baseline)."""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar

from stable_baselines3 import PPO
from stable_baselines3.common.policies import BasePolicy
from stable_baselines3.common.type_aliases import MaybeCallback

from acrl_policies.lagrangian.lagrangian import LagrangianOnPolicyAlgorithm
from acrl_policies.lagrangian.policies import MlpPolicy

__all__ = ["PPOLagrangian"]

SelfPPOLagrangian = TypeVar("SelfPPOLagrangian", bound="PPOLagrangian")


class PPOLagrangian(LagrangianOnPolicyAlgorithm, PPO):
    """PPO-Lagrangian: SB3's PPO on the advantage of the Lagrangian.

    Paper: Ray, Achiam, Amodei, "Benchmarking Safe Exploration in Deep Reinforcement
    Learning" (2019), the PPO-Lagrangian baseline; the C-TRPO paper
    (https://arxiv.org/abs/2411.02957) compares against it.
    Code: the naive Lagrangian of OmniSafe's/SafePO's ``PPOLag`` (PKU-Alignment) on SB3's
    ``PPO``, which runs unchanged on the combined advantage
    (:class:`~acrl_policies.lagrangian.LagrangianOnPolicyAlgorithm`); the cost critic is
    fitted for ``n_epochs`` epochs of ``batch_size`` after each update.

    The per-step cost is ``info["cost"]``: the velocity cost of the
    ``ACRL/Safe*Velocity-v1`` tasks, or on action-constrained tasks the enforcement
    wrapper's violation cost (1 per infeasible proposed action). PPO keeps SB3's defaults;
    OmniSafe's PPOLag uses 40 epochs of 64, ``target_kl=0.02`` and lr 3e-4.

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
        **kwargs: any other argument of SB3's ``PPO``, with its default.

    Raises:
        InvalidCostLimitError: ``cost_limit`` ≤ 0 or non-finite.
        MissingCostError: at the first rollout step, if the env reports no ``info["cost"]``.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/SafeHopperVelocity-v1")
        >>> model = PPOLagrangian("MlpPolicy", env, n_steps=128, batch_size=64, seed=0)
        >>> model.learn(128).lagrangian_multiplier < 0.001  # cost below the limit: λ falls
        True

    Change logs:
        - v0.1.0 - Initially added.
    """

    policy_aliases: ClassVar[dict[str, type[BasePolicy]]] = {"MlpPolicy": MlpPolicy}
    critic_epochs_attribute = "n_epochs"

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
        self: SelfPPOLagrangian,
        total_timesteps: int,
        callback: MaybeCallback = None,
        log_interval: int = 1,
        tb_log_name: str = "PPOLagrangian",
        reset_num_timesteps: bool = True,
        progress_bar: bool = False,
    ) -> SelfPPOLagrangian:
        """Train for ``total_timesteps`` env steps (SB3's ``learn``)."""
        return super().learn(
            total_timesteps=total_timesteps,
            callback=callback,
            log_interval=log_interval,
            tb_log_name=tb_log_name,
            reset_num_timesteps=reset_num_timesteps,
            progress_bar=progress_bar,
        )
