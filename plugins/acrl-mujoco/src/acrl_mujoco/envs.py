"""Task envs that change a Gymnasium MuJoCo env's reward."""

from __future__ import annotations

from typing import Any

from gymnasium.envs.mujoco.hopper_v5 import HopperEnv

__all__ = ["HopperVelEnv"]


class HopperVelEnv(HopperEnv):
    """Hopper-v5 rewarded for running at a target speed (ARAM's ``HopperVel``).

    Reward = ``1 - |v_x - target_velocity|`` + healthy reward (1) - ``1e-3 ||a||^2``,
    termination and observation as Hopper-v5. Reference: acrl-methods §1.6 (notes:
    ``hopper_v3_M_10_goal_vel3.py``, target 3). The published env also freezes the
    simulator when it receives an infeasible action; here feasibility is the enforcement
    wrapper's job, so the env itself is unconstrained.

    Args:
        target_velocity: the x-velocity to hold.
        **kwargs: Hopper-v5's keyword arguments.

    Example:
        >>> import numpy as np
        >>> env = HopperVelEnv()
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step(np.zeros(3))
        >>> bool(np.isclose(info["reward_forward"], 1 - abs(info["x_velocity"] - 3.0)))
        True
    """

    def __init__(self, target_velocity: float = 3.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target_velocity = float(target_velocity)

    def _get_rew(self, x_velocity: float, action: Any) -> tuple[float, dict[str, float]]:
        forward_reward = 1.0 - abs(x_velocity - self.target_velocity)
        ctrl_cost = self.control_cost(action)
        reward = forward_reward + self.healthy_reward - ctrl_cost
        return reward, {
            "reward_forward": forward_reward,
            "reward_ctrl": -ctrl_cost,
            "reward_survive": self.healthy_reward,
        }
