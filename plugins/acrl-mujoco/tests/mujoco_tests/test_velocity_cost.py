"""Velocity-cost tasks: cost 1 exactly when the velocity exceeds the v1 threshold."""

from __future__ import annotations

import math
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import acrl_wrappers as acrl
from acrl_mujoco import VELOCITY_THRESHOLDS, VelocityCost

acrl.load_plugins()


@pytest.mark.parametrize("task", sorted(VELOCITY_THRESHOLDS))
def test_cost_is_one_exactly_above_the_threshold(task):
    _, threshold, planar = VELOCITY_THRESHOLDS[task]
    env = gym.make(f"ACRL/Safe{task}Velocity-v1")
    assert env.spec.max_episode_steps == 1000
    env.action_space.seed(0)
    env.reset(seed=0)
    costs = []
    for _ in range(300):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        v = math.hypot(info["x_velocity"], info["y_velocity"]) if planar else info["x_velocity"]
        assert info["cost"] == float(v > threshold)
        costs.append(info["cost"])
        if terminated or truncated:
            env.reset()
    assert set(costs) <= {0.0, 1.0}


@pytest.mark.parametrize("task", sorted(VELOCITY_THRESHOLDS))
def test_velocity_tasks_pass_check_env(task):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_env(gym.make(f"ACRL/Safe{task}Velocity-v1"), skip_render_check=True)


def test_both_sides_of_the_threshold_occur():
    env = VelocityCost(gym.make("HalfCheetah-v5"), threshold=0.0)
    env.reset(seed=0)
    costs = {env.step(np.full(6, s))[4]["cost"] for s in (1.0, -1.0) * 20}
    assert costs == {0.0, 1.0}


def test_env_without_velocity_is_a_clear_error():
    env = VelocityCost(gym.make("Pendulum-v1"), threshold=1.0)
    env.reset(seed=0)
    with pytest.raises(acrl.ConstraintError, match="x_velocity"):
        env.step(np.zeros(1))
