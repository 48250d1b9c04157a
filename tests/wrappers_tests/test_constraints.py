"""Behaviour of each constraint family: values, specs, validation errors."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.errors import (
    ConstraintError,
    EmptyFeasibleSetError,
    InvalidActionError,
    InvalidObservationError,
    SamplingError,
    SpecError,
    UnknownConstraintError,
)


def test_power_violation_matches_formula(cheetah_obs: np.ndarray, rng: np.random.Generator):
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    actions = rng.uniform(-1, 1, size=(50, 6))
    expected = np.maximum(np.abs(cheetah_obs[11:17] * actions).sum(axis=1) - 20.0, 0.0)
    np.testing.assert_allclose(c.violation(actions, cheetah_obs), expected, rtol=1e-12)


def test_positive_power_counts_only_positive_work():
    c = acrl.make_constraint("positive-power", bound=1.0, weights=[1.0, 1.0, 1.0])
    assert c.violation([-1.0, -1.0, -1.0]) == 0.0
    assert c.violation([1.0, 0.5, -1.0]) == pytest.approx(0.5)


def test_ball_is_squared_radius_and_includes_box():
    c = acrl.make_constraint("ball", bound=0.05, dim=2)
    assert c.contains([0.15, 0.15])  # 0.045 <= 0.05
    assert c.violation([0.2, 0.2]) == pytest.approx(0.03)
    big = acrl.make_constraint("ball", bound=9.0, dim=2)  # ball larger than the box
    assert big.violation([1.5, 0.0]) == pytest.approx(0.5)  # only the box part


def test_sum_band_and_linear_and_quadratic_values():
    band = acrl.make_constraint("sum-band", target=1.0, width=0.1, dim=3)
    assert band.violation([0.5, 0.5, 0.5]) == pytest.approx(0.4)
    assert band.violation([0.0, 0.0, 0.0]) == pytest.approx(0.9)
    lin = acrl.make_constraint("linear", A=[[1.0, 1.0], [1.0, -1.0]], b=[1.0, 0.0])
    assert lin.violation([1.0, 0.5]) == pytest.approx(1.0)  # rows: 0.5 and 0.5
    quad = acrl.make_constraint("quadratic", Q=[[2.0, 0.0], [0.0, 1.0]], bound=1.0)
    assert quad.violation([1.0, 1.0]) == pytest.approx(2.0)


def test_intersection_counts_box_once_and_all_rows():
    c = acrl.make_constraint(
        "intersection",
        members=[
            {"name": "ball", "bound": 0.5, "dim": 2},
            {"name": "linear", "A": [[1.0, 0.0]], "b": [0.1]},
        ],
    )
    assert c.violation([2.0, 0.0]) == pytest.approx(1.0 + 3.5 + 1.9)
    assert c.obs_dim == 0


def test_single_obs_broadcasts_over_action_batch(cheetah_obs: np.ndarray, rng: np.random.Generator):
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    actions = rng.uniform(-1, 1, size=(8, 6))
    np.testing.assert_array_equal(
        c.violation(actions, cheetah_obs), c.violation(actions, np.tile(cheetah_obs, (8, 1)))
    )


def test_single_action_returns_float_and_batch_returns_array(cheetah_obs: np.ndarray):
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    assert isinstance(c.violation(np.zeros(6), cheetah_obs), float)
    assert isinstance(c.contains(np.zeros(6), cheetah_obs), bool | np.bool_)
    assert c.violation(np.zeros((3, 6)), cheetah_obs).shape == (3,)
    assert c.violation(np.zeros(6, dtype=np.float32), cheetah_obs) == 0.0
    assert c.violation(np.zeros(6, dtype=np.int64), cheetah_obs) == 0.0


@pytest.mark.parametrize(
    ("action", "obs", "error"),
    [
        (np.zeros(5), np.zeros(17), InvalidActionError),
        (np.zeros((2, 2, 6)), np.zeros(17), InvalidActionError),
        (np.array(["x"] * 6), np.zeros(17), InvalidActionError),
        (np.full(6, np.nan), np.zeros(17), InvalidActionError),
        (np.full(6, np.inf), np.zeros(17), InvalidActionError),
        (np.zeros(6), np.zeros(12), InvalidObservationError),
        (np.zeros(6), None, InvalidObservationError),
        (np.zeros(6), np.full(17, np.nan), InvalidObservationError),
        (np.zeros((3, 6)), np.zeros((2, 17)), InvalidObservationError),
    ],
)
def test_bad_input_raises_specific_errors(action, obs, error):
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    with pytest.raises(error):
        c.violation(action, obs)


def test_nan_in_unread_observation_entries_is_ignored():
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    obs = np.zeros(17)
    obs[0] = np.nan
    assert c.violation(np.zeros(6), obs) == 0.0


def test_short_observation_message_names_the_index():
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    with pytest.raises(InvalidObservationError, match="reads index 16"):
        c.violation(np.zeros(6), np.zeros(11))


@pytest.mark.parametrize(
    ("name", "params", "error", "match"),
    [
        ("power", {"bound": -1.0, "dim": 2}, ConstraintError, "bound"),
        ("ball", {"bound": -0.1, "dim": 2}, ConstraintError, "bound"),
        ("ball", {"bound": 0.01, "center": [5.0, 0.0]}, EmptyFeasibleSetError, "does not meet"),
        ("box", {"low": [0.0, 1.0], "high": [1.0, 0.0]}, EmptyFeasibleSetError, "low > high"),
        (
            "sum-band",
            {"target": 5.0, "width": 0.1, "dim": 2},
            EmptyFeasibleSetError,
            "misses the band",
        ),
        ("linear", {"A": [[1.0, 0.0]], "b": [-2.0]}, EmptyFeasibleSetError, "infeasible"),
        ("quadratic", {"Q": [[1.0, 2.0], [0.0, 1.0]], "bound": 1.0}, ConstraintError, "symmetric"),
        ("quadratic", {"Q": [[1.0, 0.0], [0.0, 1.0]], "bound": -1.0}, ConstraintError, "empty"),
        (
            "power",
            {"bound": 1.0, "weights": [1.0, 2.0], "weight_index": "0:3"},
            ConstraintError,
            "disagree",
        ),
        ("power", {"bound": 1.0, "weight_index": "3:x"}, ConstraintError, "start:stop"),
        ("power", {"bound": 1.0, "weight_index": [-1, 2]}, ConstraintError, "non-negative"),
        ("power", {"bound": float("nan"), "dim": 2}, ConstraintError, "finite"),
        ("box", {}, ConstraintError, "dimension"),
        ("intersection", {"members": []}, ConstraintError, "non-empty"),
    ],
)
def test_invalid_parameters_raise_clear_errors(name, params, error, match):
    with pytest.raises(error, match=match):
        acrl.make_constraint(name, **params)


def test_unknown_name_suggests_close_match():
    with pytest.raises(
        UnknownConstraintError, match=r"did you mean 'power'.*\(acrl constraints lists all\)"
    ):
        acrl.make_constraint("powr", bound=1.0, dim=2)


def test_unexpected_and_missing_parameters_are_spec_errors():
    with pytest.raises(SpecError, match="unexpected parameter 'bond'; did you mean 'bound'"):
        acrl.make_constraint("power", bond=1.0, dim=2)
    with pytest.raises(SpecError, match="bound"):
        acrl.make_constraint("power", dim=2)
    with pytest.raises(SpecError, match="'name' key"):
        acrl.make_constraint({"bound": 1.0})
    with pytest.raises(SpecError):
        acrl.make_constraint(42)


def test_aliases_and_case_insensitive_names():
    assert isinstance(acrl.make_constraint("Orthoplex", bound=1.0, dim=2), acrl.PowerConstraint)
    assert isinstance(acrl.make_constraint("L2", bound=1.0, dim=2), acrl.BallConstraint)


@pytest.mark.parametrize(
    "spec",
    [
        {"name": "power", "bound": 20.0, "weight_index": [11, 12, 13, 14, 15, 16]},
        {"name": "positive-power", "bound": 10.0, "weights": [1.0, -1.0, 2.0], "low": 0.0},
        {"name": "ball", "bound": 0.05, "dim": 2, "center": [0.1, 0.0], "tol": 1e-4},
        {"name": "sum-band", "target": 1.0, "width": 0.1, "dim": 3, "high": [1.0, 1.0, 0.5]},
        {
            "name": "intersection",
            "members": [{"name": "box", "dim": 2}, {"name": "ball", "bound": 1.0, "dim": 2}],
        },
        {"name": "psd", "n": 3, "eps": 0.1},  # compiled kernels where numba is installed
    ],
)
def test_spec_round_trips_through_json_and_pickle(spec):
    c = acrl.make_constraint(spec)
    again = acrl.Constraint.from_spec(json.dumps(c.spec))
    assert again == c and again.spec == c.spec
    assert pickle.loads(pickle.dumps(c)) == c
    assert hash(again) == hash(c)


def test_sample_is_feasible_seeded_and_uniform_on_a_thin_band():
    c = acrl.make_constraint("sum-band", target=0.0, width=0.0, dim=4)
    draws = c.sample(None, 2000, rng=3)
    assert np.all(c.violation(draws) <= 1e-12)
    np.testing.assert_array_equal(draws, c.sample(None, 2000, rng=3))
    assert abs(draws.mean()) < 0.05


def test_sample_raises_when_set_is_tiny():
    ones = np.ones(6)
    c = acrl.make_constraint("linear", A=[ones, -ones], b=[1e-9, 1e-9])  # |sum a| <= 1e-9
    with pytest.raises(SamplingError):
        c.sample(None, 1, rng=0)


def test_safe_action_is_feasible(cheetah_obs: np.ndarray):
    for c in [
        acrl.make_constraint("power", bound=20.0, weight_index="11:17"),
        acrl.make_constraint("sum-band", target=1.0, width=0.1, dim=3),
        acrl.make_constraint("box", low=[0.2, 0.3], high=[1.0, 1.0]),
    ]:
        obs = cheetah_obs if c.obs_dim else None
        assert c.contains(c.safe_action(obs), obs)


def test_obs_indices_name_the_observation_entries_a_constraint_reads():
    assert acrl.make_constraint("ball", bound=0.05, dim=2).obs_indices == []
    power = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    assert power.obs_indices == [11, 12, 13, 14, 15, 16] and power.obs_dim == 17
    ball = acrl.make_constraint("ball", bound=1.0, dim=2, weight_index=[4, 2])
    both = acrl.make_constraint("intersection", members=[power.spec, {**power.spec, "bound": 5.0}])
    assert ball.obs_indices == [2, 4] and both.obs_indices == power.obs_indices
    assert acrl.make_constraint("reacher-t").obs_indices == [1]
    assert acrl.make_constraint("halfcheetah-ma").obs_indices == [2, 3, 4, 5, 6, 7, 11, 14]
