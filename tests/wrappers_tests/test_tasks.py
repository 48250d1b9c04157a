"""Registered tasks take enforce= and wrapper options in gym.make."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import acrl_wrappers as acrl
import acrl_wrappers.wrappers
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


def test_a_task_without_enforce_projects_every_executed_action():
    env = gym.make("ACRL/TestReacherBall-v0")
    c = acrl.find_constraint(env)
    executed = []
    simulator_step = env.unwrapped.step
    env.unwrapped.step = lambda a: (executed.append(np.array(a)), simulator_step(a))[1]
    env.reset(seed=0)
    for _ in range(20):
        _, _, _, _, info = env.step(np.array([0.9, -0.9]))  # far outside the disc
        assert info["constraint"]["enforcement"] == "projected"
    assert len(executed) == 20 and bool(np.all(c.contains(np.array(executed))))
    with pytest.raises(ConstraintError, match="belongs to enforce='automdp'"):
        gym.make("ACRL/TestReacherBall-v0", kappa=0.5)


def test_only_an_explicit_none_gives_the_raw_task_which_still_carries_its_constraint():
    raw = gym.make("ACRL/TestReacherBall-v0", enforce="none")
    assert not any(isinstance(w, acrl.wrappers.ConstraintWrapper) for w in _layers(raw))
    assert acrl.find_constraint(raw).family == "ball"
    with pytest.raises(ConstraintError, match="no acrl constraint"):
        acrl.find_constraint(raw, wrapper_only=True)
    with pytest.raises(ConstraintError, match="need enforce="):
        gym.make("ACRL/TestReacherBall-v0", enforce="none", kappa=0.5)
    with pytest.raises(ConstraintError, match="enforce='none' for the raw env"):
        gym.make("ACRL/TestReacherBall-v0", enforce=None)


def _layers(env):
    out = [env]
    while hasattr(out[-1], "env"):
        out.append(out[-1].env)
    return out


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
