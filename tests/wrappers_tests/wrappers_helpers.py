"""Envs and constraints the wrapper tests share (the benchmark tasks' constraints on v5 envs)."""

from __future__ import annotations

import gymnasium as gym

import acrl_wrappers as acrl
from acrl_wrappers.testing import ActionProbe

MUJOCO_CONSTRAINTS = {
    "Reacher-v5": {"name": "ball", "bound": 0.05, "dim": 2},  # a1^2 + a2^2 <= 0.05
    "HalfCheetah-v5": {"name": "power", "bound": 20.0, "weight_index": "11:17"},
    "Hopper-v5": {"name": "positive-power", "bound": 10.0, "weight_index": "8:11"},
}
WRAPPERS = {
    "project": acrl.ProjectAction,
    "reject": acrl.RejectAction,
    "automdp": acrl.AutoMDP,
    "monitor": acrl.ConstraintMonitor,
}


def probed(env_id: str, enforce: str, constraint=None, **options):
    """``(wrapped_env, probe, constraint)`` with the probe between wrapper and simulator.

    The probe measures executed actions against the env's benchmark constraint (or the
    given one, when it is well-formed enough to measure with).
    """
    constraint = constraint or acrl.make_constraint(MUJOCO_CONSTRAINTS[env_id])
    reference = acrl.make_constraint(MUJOCO_CONSTRAINTS[env_id])
    probe = ActionProbe(gym.make(env_id), reference, keep=False)
    return acrl.wrap(probe, constraint, enforce, **options), probe, constraint
