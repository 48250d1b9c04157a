"""Gymnasium's and SB3's env checkers accept every wrapper on three MuJoCo envs."""

from __future__ import annotations

import warnings

import gymnasium as gym
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import acrl_wrappers as acrl
from wrappers_tests.wrappers_helpers import MUJOCO_CONSTRAINTS, WRAPPERS


@pytest.mark.parametrize("enforce", sorted(WRAPPERS))
@pytest.mark.parametrize("env_id", sorted(MUJOCO_CONSTRAINTS))
def test_env_checkers_pass(env_id, enforce):
    env = acrl.wrap(gym.make(env_id), MUJOCO_CONSTRAINTS[env_id], enforce)
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=".*wrapped.*"
        )  # we check the wrapped env on purpose
        gym_check_env(env, skip_render_check=True)
    sb3_check_env(env, warn=False)
    env.close()
