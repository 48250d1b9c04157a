"""Registered tasks take enforce= and wrapper options in gym.make."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from acrl_wrappers import hookimpl
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.plugins import PluginHost
from acrl_wrappers.testing import ActionProbe


class ReacherTask:
    @hookimpl
    def register_envs(self, register):
        register(
            "ACRL/TestReacherBall-v0",
            "gymnasium.envs.mujoco.reacher_v5:ReacherEnv",
            constraint={"name": "ball", "bound": 0.05, "dim": 2},
            max_episode_steps=50,
        )


@pytest.fixture(scope="module", autouse=True)
def registered():
    host = PluginHost(entry_points=False, environ={})
    host.load()
    assert host.add_plugin(ReacherTask(), "reacher-task")


def test_enforce_and_options_in_gym_make():
    env = gym.make("ACRL/TestReacherBall-v0", enforce="automdp", kappa=0.5)
    assert env.get_wrapper_attr("kappa") == 0.5
    assert env.get_wrapper_attr("constraint").spec["bound"] == 0.05
    env.reset(seed=0)
    _, reward, *_ = env.step(np.array([0.9, 0.9]))
    assert reward == -0.5


def test_time_limit_sits_inside_the_wrapper():
    env = gym.make("ACRL/TestReacherBall-v0", enforce="reject", max_rejections=3)
    stack = []
    inner = env
    while hasattr(inner, "env"):
        stack.append(type(inner).__name__)
        inner = inner.env
    assert stack.index("RejectAction") < stack.index("TimeLimit")
    assert env.spec.max_episode_steps == 50


def test_plain_task_without_enforce():
    env = gym.make("ACRL/TestReacherBall-v0")
    assert not hasattr(env.unwrapped, "constraint")
    with pytest.raises(ConstraintError, match="need enforce="):
        gym.make("ACRL/TestReacherBall-v0", kappa=0.5)


def test_spec_of_a_task_rebuilds_it():
    env = gym.make("ACRL/TestReacherBall-v0", enforce="project", penalty=0.1)
    again = gym.make(env.spec)
    assert again.get_wrapper_attr("penalty") == 0.1


def test_self_loops_in_a_task_do_not_consume_its_time_limit():
    env = gym.make("ACRL/TestReacherBall-v0", enforce="automdp", max_rejections=2)
    env.reset(seed=0)
    calls, truncated = 0, False
    while not truncated:
        *_, truncated, _ = env.step(np.array([0.9, 0.9]))
        calls += 1
    assert calls == 150  # two self-loops per executed (projected) step
    assert isinstance(ActionProbe, type)


def test_sb3_make_vec_env_builds_a_task_with_render_mode():
    from stable_baselines3.common.env_util import make_vec_env

    vec_env = make_vec_env(
        "ACRL/TestReacherBall-v0", n_envs=2, seed=0, env_kwargs={"enforce": "project"}
    )
    assert vec_env.reset().shape == (2, 10)
    assert vec_env.env_method("get_wrapper_attr", "penalty") == [0.0, 0.0]
    env = gym.make("ACRL/TestReacherBall-v0", render_mode="rgb_array")
    assert env.unwrapped.render_mode == "rgb_array"
