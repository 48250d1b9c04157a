"""Every task id: check_env, and 1,000 random steps per enforce mode, none infeasible executed.

What was executed is read from the simulator's own control input (``data.ctrl``).
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import acrl_wrappers as acrl
from acrl_mujoco.plugin import CONSTRAINED_TASKS

acrl.load_plugins()


@pytest.mark.parametrize("task", sorted(CONSTRAINED_TASKS))
def test_check_env_plain_and_enforced(task):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kwargs in ({}, {"enforce": "automdp"}):
            check_env(gym.make(task, **kwargs), skip_render_check=True)


@pytest.mark.parametrize("enforce", ["project", "reject", "automdp", "monitor"])
@pytest.mark.parametrize("task", sorted(CONSTRAINED_TASKS))
def test_random_policy_executes_only_feasible_actions(task, enforce):
    env = gym.make(task, enforce=enforce)
    constraint = acrl.find_constraint(env)
    sim = env.unwrapped
    env.action_space.seed(0)
    obs, _ = env.reset(seed=0)
    executed_infeasible = proposed_infeasible = executed = 0
    for _ in range(1000):
        before = obs
        obs, _, terminated, truncated, info = env.step(env.action_space.sample())
        proposed_infeasible += not info["constraint"]["feasible"]
        if info["constraint"]["enforcement"] != "rejected":  # the simulator was stepped
            executed += 1
            executed_infeasible += not constraint.contains(sim.data.ctrl.copy(), before)
        if terminated or truncated:
            obs, _ = env.reset()
    assert executed > 0
    if enforce == "monitor":
        assert executed_infeasible == proposed_infeasible  # measured, never hidden
    else:
        assert executed_infeasible == 0


def test_hopper_vel_reward_targets_three():
    env = gym.make("ACRL/HopperVelM10-v0")
    env.reset(seed=0)
    for _ in range(20):
        action = np.full(3, 0.1)
        _, reward, terminated, _, info = env.step(action)
        expected = 1.0 - abs(info["x_velocity"] - 3.0) + 1.0 - 1e-3 * float(action @ action)
        assert reward == pytest.approx(expected)
        if terminated:
            break


def test_wrapper_options_of_another_wrapper_are_an_error():
    with pytest.raises(acrl.ConstraintError, match="belongs to enforce='automdp'"):
        gym.make("ACRL/HalfCheetahO20-v0", kappa=0.3)  # the default wrapper projects
    with pytest.raises(acrl.ConstraintError, match="need enforce="):
        gym.make("ACRL/HalfCheetahO20-v0", enforce="none", kappa=0.3)


def test_unknown_task_suggests_close_matches():
    with pytest.raises(gym.error.NameNotFound, match="HalfCheetahO20"):
        gym.make("ACRL/HalfCheetahO2-v0")


def test_plugin_is_loaded_from_its_installed_entry_point():
    plugins = {p["name"]: p for p in acrl.list_plugins()}
    assert plugins["mujoco"]["distribution"] == "acrl-mujoco"
    assert plugins["mujoco"]["status"] == "loaded"
    assert set(plugins["mujoco"]["hooks"]) == {"register_constraints", "register_envs"}
