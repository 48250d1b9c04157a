"""Velocity-cost tasks: the CMDP benchmark of Safety-Gymnasium's ``Safety*Velocity-v1``.

Safety-Gymnasium (github.com/PKU-Alignment/safety-gymnasium) cannot be installed beside
Gymnasium 1.x, so the tasks are rebuilt here exactly as its ``safe_velocity`` tasks define
them: the Gymnasium **v4** MuJoCo env
with its own observation and reward, plus a per-step cost ``1.0 if v > threshold else
0.0``, where ``v`` is the signed x-velocity (Hopper, HalfCheetah, Walker2d, Swimmer) or the
planar speed ``sqrt(vx^2 + vy^2)`` (Ant, Humanoid), 1000 steps per episode. The usual
limit on the episode cost is **25**. On mujoco 2.3.3 this construction reproduces
Safety-Gymnasium bit for bit; on this stack's MuJoCo, trajectories drift
from those of older versions, so compare published numbers statistically.
"""

from __future__ import annotations

import math
import warnings
from typing import Any, SupportsFloat, cast

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator

from acrl_wrappers import ConstraintError
from acrl_wrappers._arrays import float_scalar

__all__ = [
    "COST_LIMIT",
    "VELOCITY_ACTION_DIMS",
    "VELOCITY_THRESHOLDS",
    "VelocityCost",
    "make_velocity_env",
]

COST_LIMIT = 25.0
"""The usual limit on the summed cost of an episode (1000 steps)."""

VELOCITY_THRESHOLDS: dict[str, tuple[str, float, bool]] = {
    # task: (v4 env entry point, v1 threshold, planar speed?)
    "Hopper": ("gymnasium.envs.mujoco.hopper_v4:HopperEnv", 0.7402, False),
    # HalfCheetah-v4 as Gymnasium's, compiled without MuJoCo's settotalmass warning
    "HalfCheetah": ("acrl_mujoco.envs:HalfCheetahV4Env", 3.2096, False),
    "Walker2d": ("gymnasium.envs.mujoco.walker2d_v4:Walker2dEnv", 2.3415, False),
    "Ant": ("gymnasium.envs.mujoco.ant_v4:AntEnv", 2.6222, True),
    "Swimmer": ("gymnasium.envs.mujoco.swimmer_v4:SwimmerEnv", 0.2282, False),
    "Humanoid": ("gymnasium.envs.mujoco.humanoid_v4:HumanoidEnv", 1.4149, True),
}
"""Safety-Gymnasium's v1 thresholds (its ``safe_velocity`` task classes)."""

VELOCITY_ACTION_DIMS = {
    "Hopper": 3,
    "HalfCheetah": 6,
    "Walker2d": 6,
    "Ant": 8,
    "Swimmer": 2,
    "Humanoid": 17,
}
"""Action dimension of each velocity task's env (listed by ``acrl envs`` without a build)."""


class VelocityCost(gym.Wrapper[Any, Any, Any, Any], gym.utils.RecordConstructorArgs):
    """Adds ``info["cost"] = 1.0`` on steps whose velocity exceeds a threshold.

    Works on any env whose ``info`` has ``x_velocity`` (and ``y_velocity`` when
    ``planar``), as every Gymnasium MuJoCo locomotion env does. Also writes
    ``info["velocity"]``, the value compared. Actions and rewards are unchanged.

    Args:
        env: the env.
        threshold: velocity above which a step costs 1.
        planar: compare ``sqrt(vx^2 + vy^2)`` instead of the signed ``vx``.

    Raises:
        ConstraintError: at the first step, if ``info`` lacks the velocity.

    Example:
        >>> env = VelocityCost(gym.make("Hopper-v5"), threshold=0.0)
        >>> _ = env.reset(seed=0)
        >>> _, _, _, _, info = env.step(env.action_space.sample())
        >>> info["cost"] == float(info["x_velocity"] > 0.0)
        True

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(self, env: gym.Env[Any, Any], threshold: float, planar: bool = False) -> None:
        threshold = float_scalar(threshold, "threshold")
        gym.utils.RecordConstructorArgs.__init__(self, threshold=threshold, planar=planar)
        gym.Wrapper.__init__(self, env)
        self.threshold = threshold
        self.planar = bool(planar)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step and add the cost of the step."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        try:
            vx = info["x_velocity"]
            velocity = math.hypot(vx, info["y_velocity"]) if self.planar else vx
        except KeyError as exc:
            name = self.env.spec.id if self.env.spec else type(self.env.unwrapped).__name__
            raise ConstraintError(
                f"VelocityCost needs info[{exc.args[0]!r}], which {name} does not report; "
                "use it on Gymnasium MuJoCo locomotion envs"
            ) from exc
        info["velocity"] = float(velocity)
        info["cost"] = float(velocity > self.threshold)
        return obs, reward, terminated, truncated, info


def make_velocity_env(task: str, **env_kwargs: Any) -> VelocityCost:
    """The v4 env of ``task`` (``"Hopper"``, ``"Ant"``, ...) with its velocity cost.

    Gymnasium's deprecation warning for the v4 envs is silenced: v4 is chosen on purpose,
    for comparability with published Safety-Gymnasium numbers.

    Example:
        >>> env = make_velocity_env("Hopper")
        >>> env.threshold, env.planar
        (0.7402, False)
    """
    if task not in VELOCITY_THRESHOLDS:
        raise ConstraintError(
            f"unknown velocity task {task!r}; choose one of {sorted(VELOCITY_THRESHOLDS)}"
        )
    entry_point, threshold, planar = VELOCITY_THRESHOLDS[task]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*is out of date.*")
        env = cast("gym.Env[Any, Any]", load_env_creator(entry_point)(**env_kwargs))
    return VelocityCost(env, threshold, planar)
