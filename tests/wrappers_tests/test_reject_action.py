"""RejectAction: every on_reject mode, bounded self-loops, checked fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.errors import ConstraintError, ConstraintViolationError
from wrappers_tests.wrappers_helpers import probed

OUTSIDE = np.array([0.9, 0.9])  # a1^2 + a2^2 = 1.62 > 0.05


def test_self_loop_returns_the_same_observation_without_stepping():
    env, probe, _ = probed("Reacher-v5", "reject")
    obs, _ = env.reset(seed=0)
    same, reward, terminated, truncated, info = env.step(OUTSIDE)
    assert same is not obs and np.array_equal(same, obs)  # a copy, as Gymnasium requires
    assert reward == 0.0 and not terminated and not truncated
    assert info == {"cost": 1.0, "constraint": info["constraint"], "reward_vector": [0.0, -0.0]}
    assert info["constraint"]["enforcement"] == "rejected"
    assert probe.steps == 0


def test_self_loops_are_bounded_by_max_rejections_then_fall_back():
    env, probe, _c = probed("Reacher-v5", "reject", max_rejections=3)
    env.reset(seed=0)
    kinds = [env.step(OUTSIDE)[4]["constraint"]["enforcement"] for _ in range(8)]
    assert kinds == ["rejected"] * 3 + ["fallback"] + ["rejected"] * 3 + ["fallback"]
    assert probe.steps == 2 and probe.infeasible == 0


def test_fallback_modes_execute_feasible_actions():
    env, probe, c = probed("Reacher-v5", "reject", on_reject="fallback", fallback="safe")
    probe.keep = True
    env.reset(seed=0)
    _, _, _, _, info = env.step(OUTSIDE)
    assert info["constraint"]["enforcement"] == "fallback"
    np.testing.assert_array_equal(probe.actions[-1], c.safe_action())

    env, probe, c = probed(
        "Reacher-v5", "reject", on_reject="fallback", fallback=lambda action, obs: 0.1 * action
    )
    probe.keep = True
    env.reset(seed=0)
    env.step(OUTSIDE)
    np.testing.assert_allclose(probe.actions[-1], 0.1 * OUTSIDE)


def test_an_infeasible_fallback_is_refused():
    env, probe, _ = probed("Reacher-v5", "reject", on_reject="fallback", fallback=lambda a, o: a)
    env.reset(seed=0)
    with pytest.raises(ConstraintViolationError, match="fallback callable returned an infeasible"):
        env.step(OUTSIDE)
    assert probe.steps == 0


def test_terminate_ends_the_episode_with_a_penalty():
    env, probe, _ = probed("Reacher-v5", "reject", on_reject="terminate")
    env.reset(seed=0)
    _, reward, terminated, truncated, info = env.step(OUTSIDE)
    assert terminated and not truncated and reward == -1.0
    assert info["reward_vector"] == [0.0, -1.0] and probe.steps == 0


def test_raise_refuses_for_deployment():
    env, probe, _ = probed("Reacher-v5", "reject", on_reject="raise")
    env.reset(seed=0)
    with pytest.raises(ConstraintViolationError, match=r"violates the constraint by 1\.57"):
        env.step(OUTSIDE)
    assert probe.steps == 0
    env.step(np.array([0.1, 0.1]))
    assert probe.steps == 1


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"on_reject": "skip"}, "on_reject"),
        ({"max_rejections": 0}, "max_rejections"),
        ({"fallback": "nearest"}, "fallback"),
        ({"penalty": -1.0}, "penalty"),
    ],
)
def test_invalid_options_are_rejected(options, match):
    with pytest.raises(ConstraintError, match=match):
        probed("Reacher-v5", "reject", **options)


def test_wrong_constraint_for_the_env_is_a_clear_error():
    import gymnasium as gym

    with pytest.raises(ConstraintError, match="6-D actions but the env's actions are 2-D"):
        acrl.RejectAction(gym.make("Reacher-v5"), {"name": "ball", "bound": 1.0, "dim": 6})
    with pytest.raises(
        ConstraintError, match="reads observation index 16 but observations have 10"
    ):
        acrl.RejectAction(
            gym.make("Reacher-v5"), {"name": "power", "bound": 1.0, "weight_index": [1, 16]}
        )
    with pytest.raises(ConstraintError, match="reaches outside the action space"):
        acrl.RejectAction(
            gym.make("Reacher-v5"), {"name": "ball", "bound": 1.0, "dim": 2, "high": 3.0}
        )
