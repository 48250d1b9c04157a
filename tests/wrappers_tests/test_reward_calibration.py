"""Reward calibration of augmented MDPs: an executed step scores above a self-loop."""

from __future__ import annotations

import math
import re
import warnings

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import acrl_wrappers as acrl
from acrl_wrappers.errors import ConstraintError, PluginError
from acrl_wrappers.registration import register_function
from acrl_wrappers.reward_calibration import (
    RewardCalibration,
    RewardInversionWarning,
    RewardTransform,
    calibration_for,
    find_reward_transform,
)

REWARDS = {
    "negative": st.floats(-1e4, -1e-3),
    "positive": st.floats(1e-3, 1e4),
    "mixed": st.floats(-1e4, 1e4),
}


@pytest.mark.parametrize("sign", sorted(REWARDS))
@settings(max_examples=60, deadline=None)
@given(data=st.data(), kappa=st.floats(0.0, 5.0), scale=st.floats(1e-3, 10.0))
def test_auto_offset_keeps_every_executed_step_above_a_self_loop(data, kappa, scale, sign):
    rewards = data.draw(st.lists(REWARDS[sign], min_size=1, max_size=50))
    calibration = RewardCalibration(scale, "auto", kappa=kappa)
    for chunk in np.array_split(np.asarray(rewards), 3):
        calibration.observe(chunk)
    executed = calibration.apply(np.asarray(rewards))
    for w_task in (1e-3, 0.1, 0.5, 0.9, 1.0):
        w_penalty = 1.0 - w_task
        assert np.all(w_task * executed > -w_penalty * kappa)
    assert np.all(executed >= calibration.margin - 1e-9 * max(1.0, abs(executed).max()))
    assert calibration.transform.offset >= 0.0


def test_auto_offset_leaves_rewards_that_already_pay_alone():
    calibration = RewardCalibration(offset="auto", kappa=0.2)
    calibration.observe(np.array([0.5, 3.0, 0.2]))
    assert calibration.transform.offset == 0.0
    assert calibration.apply(1.5) == 1.5


def test_auto_offset_only_moves_when_a_lower_reward_is_seen():
    calibration = RewardCalibration(offset="auto", kappa=0.2)
    calibration.observe(-3.0)
    assert calibration.transform.offset == pytest.approx(3.2)
    calibration.observe(np.array([-1.0, 10.0]))
    assert calibration.transform.offset == pytest.approx(3.2)
    calibration.observe(-5.0)
    assert calibration.transform.offset == pytest.approx(5.2)


def inversion_warnings(calibration: RewardCalibration, rewards: np.ndarray) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for r in rewards:
            calibration.observe(float(r))
    return [str(w.message) for w in caught if issubclass(w.category, RewardInversionWarning)]


def test_a_fixed_offset_that_lets_rejection_win_warns_with_the_offset_that_fixes_it():
    rewards = np.random.default_rng(0).uniform(-60.0, -40.0, 300)
    calibration = RewardCalibration(offset=0.0, kappa=0.2, window=100)
    messages = inversion_warnings(calibration, rewards)
    assert len(messages) == 1  # once, not once per window
    fix = -rewards[:100].min() + 0.2  # the lowest reward seen when the first window ends
    assert f"reward_offset={fix:.4g}" in messages[0] and "'auto'" in messages[0]
    fixed = RewardCalibration(offset=float(f"{fix:.4g}"), kappa=0.2, window=100)
    assert inversion_warnings(fixed, rewards) == []


def test_no_warning_when_acting_pays_on_average():
    rewards = np.random.default_rng(0).uniform(-0.05, 1.0, 300)
    assert inversion_warnings(RewardCalibration(offset=0.0, window=100), rewards) == []


def test_the_check_uses_the_configured_preference():
    rewards = np.full(100, -0.5)  # a self-loop scores -w_penalty * 0.2
    calibration = RewardCalibration(offset=0.0, kappa=0.2, preference=(0.1, 0.9), window=100)
    assert inversion_warnings(calibration, rewards) == []  # -0.05 >= -0.18
    calibration = RewardCalibration(offset=0.0, kappa=0.2, preference=(0.9, 0.1), window=100)
    assert len(inversion_warnings(calibration, rewards)) == 1  # -0.45 < -0.02


@pytest.mark.parametrize(
    "spec",
    [
        {"scale": math.nan},
        {"offset": math.inf},
        {"scale": 0.0},
        {"scale": -1.0},
        {"scale": "big"},
        {"shift": 1.0},
        (0.01, 2.0),
    ],
)
def test_a_bad_transform_is_refused_with_the_fix(spec):
    with pytest.raises(ConstraintError, match=r"reward transform|scale|offset"):
        RewardTransform.from_spec(spec)


def test_a_task_with_a_non_finite_transform_fails_at_gym_make():
    acrl.load_plugins()
    with pytest.raises(ConstraintError, match="must be finite"):
        gym.make("ACRL/BSS5z-v0", reward_transform={"scale": 0.01, "offset": math.nan})


def test_a_plugin_registering_a_non_finite_transform_is_refused():
    register = register_function("env", "demo", [])
    with pytest.raises(PluginError, match=r"reward_transform of env 'ACRL/Demo-v0'.*finite"):
        register("ACRL/Demo-v0", "demo:Env", reward_transform={"scale": math.inf})


@pytest.mark.parametrize("enforce", ["project", "automdp", "monitor", "none"])
def test_tasks_carry_their_declared_transform_under_every_enforcement(enforce):
    acrl.load_plugins()
    transform = find_reward_transform(gym.make("ACRL/BSS5z-v0", enforce=enforce))
    assert (transform.scale, transform.offset) == (0.01, 2.0)
    assert find_reward_transform(gym.make("ACRL/ReacherO03-v0", enforce=enforce)) is None


def test_arguments_replace_the_declared_transform():
    acrl.load_plugins()
    env = gym.make("ACRL/BSS5z-v0", enforce="none")
    assert calibration_for(env).transform.offset == 2.0
    mine = calibration_for(env, offset=5.0)
    assert (mine.transform.scale, mine.transform.offset, mine.auto) == (1.0, 5.0, False)
    assert calibration_for(env, scale=0.5).auto
    assert calibration_for(gym.make("Pendulum-v1")).auto


def test_automdp_on_a_task_applies_its_papers_transform():
    acrl.load_plugins()
    env = gym.make("ACRL/BSS5z-v0", enforce="automdp")
    env.reset(seed=0)
    feasible = np.full(5, 0.5)  # sum 2.5: inside the band
    _, reward, _, _, info = env.step(feasible)
    raw = (info["reward_vector"][0] - 2.0) / 0.01
    assert raw < 0 and reward == pytest.approx(info["reward_vector"][0]) and reward > 0


def test_automdp_without_a_declaration_calibrates_a_negative_reward_env():
    box = {"name": "box", "dim": 1, "low": -0.5, "high": 0.5}
    env = acrl.wrap(gym.make("Pendulum-v1"), box, "automdp", kappa=0.2)
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    executed, rejected = [], []
    for _ in range(300):
        _, reward, _, _, info = env.step(rng.uniform(-1.0, 1.0, 1))
        (rejected if info["constraint"]["enforcement"] == "rejected" else executed).append(reward)
    assert executed and rejected
    assert min(executed) >= 0.2 - 1e-9  # Pendulum's rewards are all <= 0
    assert max(rejected) == pytest.approx(-0.2)


def test_automdp_with_an_inverting_offset_warns():
    box = {"name": "box", "dim": 1, "low": -0.5, "high": 0.5}
    env = acrl.wrap(gym.make("Pendulum-v1"), box, "automdp", reward_offset=0.0)
    env.reset(seed=0)
    messages = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(1000):
            env.step(np.zeros(1))
        messages = [str(w.message) for w in caught if w.category is RewardInversionWarning]
    assert len(messages) == 1 and re.search(r"AutoMDP: .*Fix: reward_offset=\d", messages[0])


def test_a_declared_offset_is_kept_where_it_pays_and_raised_where_it_would_invert():
    acrl.load_plugins()
    bss = calibration_for(gym.make("ACRL/BSS5z-v0", enforce="none"), kappa=0.2)
    bss.observe(np.array([-108.0, -50.0, -7.0]))  # BSS5z's range under random actions
    assert bss.transform.offset == 2.0  # the paper's +2 already pays: -1.08 + 2 > 0.2
    cheetah = calibration_for(gym.make("ACRL/HalfCheetahO20-v0", enforce="none"), kappa=0.2)
    cheetah.observe(np.array([-2.4, 0.5]))  # running backwards: the paper's offset 0 inverts
    assert cheetah.transform.offset == pytest.approx(2.6)
    assert "arXiv:2503.12932" in cheetah.transform.source


def test_a_task_without_a_constraint_keeps_its_declared_transform():
    from acrl_wrappers.tasks import make_task

    pendulum = "gymnasium.envs.classic_control.pendulum:PendulumEnv"
    env = make_task(pendulum, None, reward_transform={"scale": 0.5, "offset": 3.0})
    box = {"name": "box", "dim": 1, "high": 0.5}
    wrapped = acrl.wrap(env, box, "automdp")  # the constraint comes later: the transform stays
    assert wrapped.calibration.transform.scale == 0.5
    assert wrapped.calibration.transform.offset == 3.0
