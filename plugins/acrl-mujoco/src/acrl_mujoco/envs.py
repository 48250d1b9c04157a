"""Task envs built on Gymnasium's MuJoCo envs: a changed reward, or a quieter model build.

Gymnasium's ``half_cheetah.xml`` sets the compiler attribute ``settotalmass``, which
MuJoCo 3.x+ deprecates: compiling it prints ``WARNING: compiler attribute 'settotalmass'
is deprecated ...`` and appends the same line to ``MUJOCO_LOG.TXT`` in the current
directory. :class:`HalfCheetahV5Env` and :class:`HalfCheetahV4Env` compile the same file
without the attribute and then apply it the way MuJoCo's message asks
(``mj_setTotalmass`` and ``mj_setConst`` on the compiled model): the model and every
trajectory are bit-identical to Gymnasium's, and nothing is printed or written.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import mujoco
from gymnasium.envs.mujoco import half_cheetah_v4, half_cheetah_v5
from gymnasium.envs.mujoco.hopper_v5 import HopperEnv
from gymnasium.envs.mujoco.mujoco_env import MujocoEnv

from acrl_wrappers import PreviousAction

__all__ = [
    "HalfCheetahV4Env",
    "HalfCheetahV5Env",
    "HopperVelEnv",
    "compile_model",
    "make_half_cheetah_slew",
]


def compile_model(path: str) -> mujoco.MjModel:
    """Compile the MJCF file at ``path``; ``settotalmass`` is applied after compiling.

    The result equals ``mujoco.MjModel.from_xml_path(path)``, without the deprecation
    warning (and its ``MUJOCO_LOG.TXT``) that a ``settotalmass`` attribute causes.
    On a MuJoCo without ``MjSpec`` the file is compiled as it is.

    Example:
        >>> import os
        >>> from gymnasium.envs.mujoco import half_cheetah_v5
        >>> assets = os.path.join(os.path.dirname(half_cheetah_v5.__file__), "assets")
        >>> model = compile_model(os.path.join(assets, "half_cheetah.xml"))
        >>> round(float(model.body_subtreemass[0]), 6)
        14.0
    """
    spec_type = getattr(mujoco, "MjSpec", None)
    if spec_type is None:  # pragma: no cover - MuJoCo < 3.2
        return mujoco.MjModel.from_xml_path(path)
    spec = spec_type.from_file(path)
    total_mass = float(getattr(spec.compiler, "settotalmass", -1.0))
    if total_mass <= 0:
        return spec.compile()
    spec.compiler.settotalmass = -1.0
    model = spec.compile()
    mujoco.mj_setTotalmass(model, total_mass)
    mujoco.mj_setConst(model, mujoco.MjData(model))
    return model


class _CompiledQuietly(MujocoEnv):
    """Builds the simulation with :func:`compile_model` (otherwise as Gymnasium does)."""

    def _initialize_simulation(self) -> tuple[mujoco.MjModel, mujoco.MjData]:
        model = compile_model(self.fullpath)
        # as MujocoEnv: grow the offscreen framebuffer to the render size, never shrink it
        model.vis.global_.offwidth = max(model.vis.global_.offwidth, self.width)
        model.vis.global_.offheight = max(model.vis.global_.offheight, self.height)
        return model, mujoco.MjData(model)


class HalfCheetahV5Env(_CompiledQuietly, half_cheetah_v5.HalfCheetahEnv):
    """Gymnasium's HalfCheetah-v5, compiled without MuJoCo's ``settotalmass`` warning.

    Same arguments, model, observations and rewards as
    ``gymnasium.make("HalfCheetah-v5")``.

    Example:
        >>> env = HalfCheetahV5Env()
        >>> obs, _ = env.reset(seed=0)
        >>> obs.shape, env.action_space.shape
        ((17,), (6,))
    """


class HalfCheetahV4Env(_CompiledQuietly, half_cheetah_v4.HalfCheetahEnv):
    """Gymnasium's HalfCheetah-v4, compiled without MuJoCo's ``settotalmass`` warning.

    Same arguments, model, observations and rewards as ``gymnasium.make("HalfCheetah-v4")``;
    the base of ``ACRL/SafeHalfCheetahVelocity-v1``.

    Example:
        >>> env = HalfCheetahV4Env()
        >>> obs, _ = env.reset(seed=0)
        >>> obs.shape, env.action_space.shape
        ((17,), (6,))
    """


def make_half_cheetah_slew(**kwargs: Any) -> gym.Env[Any, Any]:
    """HalfCheetah-v5 whose observation ends with the previous executed action.

    The env of ``ACRL/HalfCheetahSlew-v0``: :class:`HalfCheetahV5Env` under
    :class:`acrl_wrappers.PreviousAction`, so ``obs[17:23]`` is ``a_{t-1}`` (zeros after a
    reset) and the slew limit ``|a_t - a_{t-1}| <= 0.2`` is a state-dependent constraint
    (``halfcheetah-slew02``) the agent can see.

    Args:
        **kwargs: HalfCheetah-v5's keyword arguments.

    Example:
        >>> env = make_half_cheetah_slew()
        >>> obs, _ = env.reset(seed=0)
        >>> obs.shape, env.action_index, obs[17:].tolist()
        ((23,), '17:23', [0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    """
    return PreviousAction(HalfCheetahV5Env(**kwargs))


class HopperVelEnv(HopperEnv):
    """Hopper-v5 rewarded for running at a target speed (ARAM's ``HopperVel``).

    Reward = ``1 - |v_x - target_velocity|`` + healthy reward (1) - ``1e-3 ||a||^2``,
    termination and observation as Hopper-v5. Reference: ARAM (arXiv:2503.12932), its
    released code's ``hopper_v3_M_10_goal_vel3.py`` (target 3). The published env also freezes the
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
