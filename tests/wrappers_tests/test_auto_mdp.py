"""AutoMDP: ARAM's self-loop semantics (arXiv:2503.12932, as its released code)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.errors import ConstraintError
from wrappers_tests.wrappers_helpers import probed

OUTSIDE = np.array([0.9, 0.9])


def simulator_state(env):
    data = env.unwrapped.data
    return data.qpos.copy(), data.qvel.copy(), float(data.time)


def test_self_loop_leaves_the_mujoco_state_untouched():
    env, probe, _ = probed("HalfCheetah-v5", "automdp", kappa=0.3)
    obs, _ = env.reset(seed=0)
    for _ in range(5):
        obs, *_ = env.step(np.zeros(6))
    qpos, qvel, time = simulator_state(env)
    steps_before = probe.steps
    c = env.constraint
    infeasible = np.full(6, 1.0)
    rng = np.random.default_rng(0)
    while c.contains(infeasible, obs):
        obs, *_ = env.step(rng.uniform(-0.3, 0.3, size=6))
        qpos, qvel, time = simulator_state(env)
        steps_before = probe.steps
    same, reward, terminated, truncated, info = env.step(infeasible)
    np.testing.assert_array_equal(same, obs)
    after = simulator_state(env)
    np.testing.assert_array_equal(after[0], qpos)
    np.testing.assert_array_equal(after[1], qvel)
    assert after[2] == time and probe.steps == steps_before
    assert reward == pytest.approx(-0.3) and info["reward_vector"] == [0.0, -0.3]
    assert not terminated and not truncated


def test_feasible_steps_carry_the_task_reward():
    env, _, _ = probed("Reacher-v5", "automdp")
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([0.1, 0.1]))
    assert info["reward_vector"] == [reward, 0.0] and info["constraint"]["enforcement"] == "none"


def test_projection_after_max_rejections_keeps_the_penalty():
    env, probe, _ = probed("Reacher-v5", "automdp", kappa=0.2, max_rejections=2)
    env.reset(seed=0)
    infos = [env.step(OUTSIDE) for _ in range(3)]
    assert [i[4]["constraint"]["enforcement"] for i in infos] == [
        "rejected",
        "rejected",
        "fallback",
    ]
    _, reward, _, _, info = infos[2]
    assert info["reward_vector"][1] == -0.2
    assert reward == pytest.approx(info["reward_vector"][0] - 0.2)
    assert probe.steps == 1 and probe.infeasible == 0


def test_self_loops_do_not_consume_the_time_limit():
    env, probe, _ = probed("Reacher-v5", "automdp", max_rejections=5)  # Reacher: 50 steps
    env.reset(seed=0)
    calls, truncated = 0, False
    while not truncated:
        action = OUTSIDE if calls % 3 else np.array([0.05, 0.05])
        *_, truncated, _ = env.step(action)
        calls += 1
    assert probe.steps == 50 and calls > 50


def test_preference_scalarises_the_reward_vector():
    env, _, _ = probed("Reacher-v5", "automdp", kappa=0.2, preference=(0.5, 0.5))
    env.reset(seed=0)
    _, reward, *_ = env.step(OUTSIDE)
    assert reward == pytest.approx(-0.1)
    _, reward, _, _, info = env.step(np.array([0.1, 0.1]))
    assert reward == pytest.approx(0.5 * info["reward_vector"][0])


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"kappa": -0.1}, "kappa"),
        ({"max_rejections": 0}, "max_rejections"),
        ({"preference": (1.0, -1.0)}, "preference"),
        ({"preference": (1.0,)}, "preference"),
    ],
)
def test_invalid_options_are_rejected(options, match):
    with pytest.raises(ConstraintError, match=match):
        probed("Reacher-v5", "automdp", **options)


def test_same_seeds_give_identical_trajectories_and_infos():
    def rollout():
        env, _, _ = probed("Hopper-v5", "automdp")
        env.action_space.seed(3)
        obs, _ = env.reset(seed=3)
        trace = []
        for _ in range(200):
            obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
            trace.append((obs.tolist(), reward, terminated, truncated, repr(info)))
            if terminated or truncated:
                obs, _ = env.reset()
        return trace

    assert rollout() == rollout()


def test_unknown_enforcement_lists_the_choices():
    with pytest.raises(
        ConstraintError, match=r"choose one of \['automdp', 'monitor', 'project', 'reject'\]"
    ):
        acrl.wrap(gym.make("Reacher-v5"), {"name": "ball", "bound": 0.05, "dim": 2}, "clip")


def test_reward_offset_rescales_the_task_reward_of_executed_steps():
    env, _, _ = probed("Reacher-v5", "automdp", reward_scale=0.5, reward_offset=1.0)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([0.1, 0.1]))
    raw = info["reward_vector"][0]
    assert reward == pytest.approx(raw) and raw > 0.0  # 0.5 * r + 1 with r in (-1, 0)
    _, reward, _, _, info = env.step(OUTSIDE)
    assert info["reward_vector"] == [0.0, -0.2]  # self-loops are not shifted


def test_options_of_another_enforcement_are_an_error_not_ignored():
    with pytest.raises(
        ConstraintError,
        match=r"\['kappa'\] do not apply to enforce='project'.*belongs to enforce='automdp'",
    ):
        acrl.wrap(
            gym.make("Reacher-v5"), {"name": "ball", "bound": 0.05, "dim": 2}, "project", kappa=0.3
        )
