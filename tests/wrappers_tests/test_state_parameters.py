"""State-dependent parameters, the env hook, PreviousAction, and bad input that names the state."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.testing import ActionProbe


class Reach(gym.Wrapper):
    """Pendulum whose env supplies a radius it does not observe (ConstraintParameterSource)."""

    def __init__(self, env, value=0.5):
        super().__init__(env)
        self.value, self.calls = value, 0

    def constraint_parameters(self):
        self.calls += 1
        return {"reach": self.value}


HOOKED = {"name": "ball", "radius": {"index": 3, "hook": "reach"}, "dim": 1}


# ---------------------------------------------------------------------- StateParameter
def test_state_parameter_reads_index_scale_offset_and_round_trips():
    p = acrl.StateParameter(
        {"index": "1:3", "scale": [2.0, -1.0], "offset": 0.5}, name="center", size=2
    )
    assert p.batch(np.array([[9.0, 1.0, 2.0]])).tolist() == [[2.5, -1.5]]
    assert p.row(np.array([9.0, 1.0, 2.0])) == [2.5, -1.5]
    assert acrl.StateParameter(p.spec(), name="center") == p
    assert json.loads(json.dumps(p.spec())) == {
        "index": [1, 2],
        "scale": [2.0, -1.0],
        "offset": 0.5,
    }
    assert acrl.StateParameter([1.0, 2.0], name="center").constant.tolist() == [1.0, 2.0]


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"scale": 1.0}, 'needs "index"'),
        ({"index": "0:2", "bias": 1.0}, "unknown keys"),
        ({"index": "0:3"}, "disagree on the action dimension: dim=2, lower=3"),
        ({"index": [0, 1], "offset": [1.0, 2.0, 3.0]}, "`lower.offset`"),
        ({"index": [0, -1]}, "non-negative integer"),
    ],
)
def test_malformed_state_parameters_name_the_parameter(value, match):
    with pytest.raises(acrl.ConstraintError, match=match):
        acrl.make_constraint("box", dim=2, lower=value)


# ---------------------------------------------------------------------- bad states
def test_negative_state_dependent_radius_names_the_state_and_nothing_is_executed():
    c = acrl.make_constraint("ball", radius={"index": 0, "offset": -2.0}, dim=1)  # cos - 2 < 0
    with pytest.raises(acrl.StateParameterError, match=r"`radius` is -1\.\d+ < 0 .*obs\[0\]"):
        c.violation([0.0], np.array([0.5, 0.0, 0.0]))
    probe = ActionProbe(gym.make("Pendulum-v1"))
    env = acrl.wrap(probe, c, enforce="project")
    env.reset(seed=0)
    with pytest.raises(acrl.StateParameterError, match="radius"):
        env.step(np.array([0.0], dtype=np.float32))
    assert probe.steps == 0
    with pytest.raises(acrl.ConstraintError, match="`radius` must be >= 0"):
        acrl.make_constraint("ball", radius=-0.1, dim=1)


def test_crossed_state_dependent_bounds_name_the_state_in_single_and_vector_envs():
    c = acrl.make_constraint(
        "box", dim=1, lower={"index": 2, "offset": 0.5}, upper={"index": 2, "offset": -0.5}
    )
    with pytest.raises(
        acrl.StateParameterError, match=r"low\(s\) > high\(s\).*obs\[2\] = \[0\.0\]"
    ):
        c.violation([0.0], np.zeros(3))
    with pytest.raises(acrl.StateParameterError, match="low"):
        c.violation(np.zeros((4, 1)), np.zeros((4, 3)))
    probe = ActionProbe(gym.make("Pendulum-v1"))
    env = acrl.RejectAction(probe, c)
    env.reset(seed=0)
    with pytest.raises(acrl.StateParameterError):
        env.step(np.array([0.0], dtype=np.float32))
    envs = acrl.wrap(gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync"), c)
    envs.reset(seed=0)
    with pytest.raises(acrl.StateParameterError, match="obs"):
        envs.step(np.zeros((2, 1), dtype=np.float32))
    assert probe.steps == 0


def test_simplex_total_outside_the_reachable_range_is_refused():
    with pytest.raises(
        acrl.EmptyFeasibleSetError,
        match=r"`total`: total 4 lies outside \[sum low, sum high\] = \[0, 3\]",
    ):
        acrl.make_constraint("simplex", dim=3, total=4.0)
    with pytest.raises(acrl.EmptyFeasibleSetError, match=r"total 1\.5 lies outside"):
        acrl.make_constraint("capped-simplex", caps=[0.5, 0.5, 0.25], total=1.5)
    with pytest.raises(acrl.ConstraintError, match="`caps` must be >= 0"):
        acrl.make_constraint("capped-simplex", caps=[-0.5, 0.5], total=0.0)
    moving = acrl.make_constraint("simplex", dim=2, total={"index": 0}, low=0.0)
    with pytest.raises(
        acrl.StateParameterError, match=r"`total` makes the total 3 .*obs\[0\] = \[3\.0\]"
    ):
        moving.violation([0.5, 0.5], np.array([3.0]))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"dim": 5}, "5 entries is no square matrix"),
        ({"n": [2, 3]}, r"square n x n matrix, got shape \(2, 3\)"),
        ({"n": 2, "dim": 4}, "has 3 entries, but dim=4"),
        ({"dim": 5, "layout": "full"}, "layout 'full' needs n\\^2"),
        ({"n": 2, "eps": -0.1}, "`eps` must be >= 0"),
        ({"n": 2, "eps": 2.0}, "holds no matrix >= 2.0 I"),
    ],
)
def test_psd_bad_shapes_and_parameters_are_named(params, match):
    with pytest.raises(acrl.ConstraintError, match=match):
        acrl.make_constraint("psd", **params)


# ---------------------------------------------------------------------- the env hook
def test_the_hook_is_read_once_per_step_and_the_wrapper_is_inserted():
    source = Reach(gym.make("Pendulum-v1"), value=0.25)
    env = acrl.wrap(source, HOOKED, enforce="project")
    assert isinstance(env.env, acrl.ObserveParameters)
    assert isinstance(source, acrl.ConstraintParameterSource)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4,) and obs[3] == 0.25
    for _ in range(5):
        obs, *_, info = env.step(np.array([1.0], dtype=np.float32))
    assert source.calls == env.env.reads == 6  # one reset + five steps, never per check
    assert (
        info["constraint"]["enforcement"] == "projected" and info["constraint"]["distance"] == 0.75
    )
    source.value = 0.1
    obs, *_ = env.step(np.array([0.0], dtype=np.float32))
    assert obs[3] == pytest.approx(0.1)


def test_hook_errors_name_the_fix():
    with pytest.raises(acrl.ConstraintError, match=r"implement acrl\.ConstraintParameterSource"):
        acrl.wrap(gym.make("Pendulum-v1"), HOOKED)
    misplaced = {"name": "ball", "radius": {"index": 5, "hook": "reach"}, "dim": 1}
    with pytest.raises(acrl.ConstraintError, match="give it index 3"):
        acrl.wrap(Reach(gym.make("Pendulum-v1")), misplaced)
    with pytest.raises(acrl.ConstraintError, match=r"acrl\.ObserveParameters"):
        acrl.ProjectAction(Reach(gym.make("Pendulum-v1")), HOOKED)
    env = acrl.wrap(Reach(gym.make("Pendulum-v1"), value=[1.0, 2.0]), HOOKED)
    with pytest.raises(acrl.InvalidObservationError, match=r"\['reach'\] is \[1.0, 2.0\]"):
        env.reset(seed=0)


# ---------------------------------------------------------------------- PreviousAction
def test_previous_action_keeps_the_last_k_executed_actions_most_recent_first():
    env = acrl.PreviousAction(gym.make("Reacher-v5"), k=2, initial=5.0)
    obs, _ = env.reset(seed=0)
    assert env.action_index == "10:12" and env.history_index == "10:14"
    assert obs[10:].tolist() == [1.0, 1.0, 1.0, 1.0]  # initial, clipped into the box
    obs, *_ = env.step(np.array([0.1, 0.2]))
    obs, *_ = env.step(np.array([0.3, 0.4]))
    np.testing.assert_allclose(obs[10:], [0.3, 0.4, 0.1, 0.2])
    assert env.observation_space.contains(obs.astype(env.observation_space.dtype))
    assert set(env._saved_kwargs) == {"k", "initial"}
    with pytest.raises(acrl.ConstraintError, match="`k` must be an integer >= 1"):
        acrl.PreviousAction(gym.make("Reacher-v5"), k=0)


def test_previous_action_records_what_was_executed_and_self_loops_leave_it():
    slew = {"name": "slew-rate", "delta": 0.2, "prev_index": "10:12"}
    inner = acrl.PreviousAction(gym.make("Reacher-v5"))
    env = acrl.wrap(inner, slew, enforce="project")
    env.reset(seed=0)
    obs, *_ = env.step(np.array([0.9, -0.9], dtype=np.float32))
    np.testing.assert_allclose(obs[10:], [0.2, -0.2])  # the projection, not the proposal
    obs, *_ = env.step(np.array([0.9, -0.9], dtype=np.float32))
    np.testing.assert_allclose(obs[10:], [0.4, -0.4])
    looping = acrl.wrap(acrl.PreviousAction(gym.make("Reacher-v5")), slew, enforce="reject")
    looping.reset(seed=0)
    obs, *_, info = looping.step(np.array([0.9, 0.0], dtype=np.float32))
    assert info["constraint"]["enforcement"] == "rejected" and obs[10:].tolist() == [0.0, 0.0]


def test_slew_rate_composes_with_power_as_one_qp():
    c = acrl.make_constraint(
        "intersection",
        members=[
            {"name": "slew-rate", "delta": 0.2, "prev_index": "2:4"},
            {"name": "power", "bound": 0.5, "weight_index": "0:2"},
        ],
    )
    assert acrl.make_projector(c).name == "osqp"
    obs = np.array([2.0, 1.0, 0.1, 0.3])  # weights (2, 1), previous action (0.1, 0.3)
    x, _ = acrl.make_projector(c).project(np.array([0.6, 0.6]), obs)
    assert np.all(np.abs(x - obs[2:]) <= 0.2 + 1e-9)
    assert abs(2 * x[0]) + abs(x[1]) <= 0.5 + 1e-9
    # KKT on 2 x1 + x2 = 0.5: x = a - mu (2, 1), mu = 0.26, inside the slew box
    np.testing.assert_allclose(x, [0.08, 0.34], atol=1e-6)
