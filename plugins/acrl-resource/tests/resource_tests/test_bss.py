"""Bike sharing: the integer allocation step, the constraints, the simulator's dynamics."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_resource import (
    BikeSharingEnv,
    DemandModel,
    bss_band_target,
    bss_constraint,
    dock_returns,
    integer_allocation,
    nearest_zones,
)
from acrl_resource.plugin import BSS3Z, BSS5Z

PRESETS = {"bss3z": BSS3Z, "bss5z": BSS5Z}


# ---------------------------------------------------------------- integer allocation
def _brute_force_distance(x: np.ndarray, total: int, low: int, high: int) -> float:
    best = np.inf
    for head in itertools.product(range(low, high + 1), repeat=x.shape[0] - 1):
        last = total - sum(head)
        if low <= last <= high:
            best = min(best, float(np.sum((np.array([*head, last]) - x) ** 2)))
    return best


@pytest.mark.parametrize("seed", range(4))
def test_integer_allocation_is_the_nearest_vector_on_small_cases(seed):
    rng = np.random.default_rng(seed)
    for _ in range(50):
        n = int(rng.integers(2, 5))
        low, high = 0, int(rng.integers(1, 6))
        total = int(rng.integers(n * low, n * high + 1))
        x = rng.uniform(low - 2.0, high + 2.0, size=n)
        y = integer_allocation(x, total, low, high)
        assert y.sum() == total and (y >= low).all() and (y <= high).all()
        assert np.sum((y - x) ** 2) == pytest.approx(_brute_force_distance(x, total, low, high))


def test_integer_allocation_is_the_nearest_vector_for_bss3z_bounds():
    rng = np.random.default_rng(7)
    for _ in range(20):
        x = 25.0 + 15.0 * rng.uniform(-1.0, 1.0, size=3)
        y = integer_allocation(x, 90, 10, 40)
        assert np.sum((y - x) ** 2) == pytest.approx(_brute_force_distance(x, 90, 10, 40))


@pytest.mark.parametrize("preset", [BSS3Z, BSS5Z])
def test_integer_allocation_always_yields_bounded_integers_with_the_right_total(preset):
    rng = np.random.default_rng(0)
    low, high, total = preset["min_allocation"], preset["max_allocation"], preset["bikes"]
    for x in rng.uniform(-20.0, 80.0, size=(2000, preset["zones"])):
        y = integer_allocation(x, total, low, high)
        assert y.dtype == np.int64 and y.sum() == total
        assert y.min() >= low and y.max() <= high


def test_integer_allocation_rounds_down_then_hands_out_by_fractional_part():
    assert integer_allocation([30.2, 29.7, 30.1], 90, 10, 40).tolist() == [30, 30, 30]
    assert integer_allocation([31.0, 29.5, 29.5], 90, 10, 40).tolist() == [31, 30, 29]  # tie
    assert integer_allocation([30.0, 30.0, 30.0], 90, 10, 40).tolist() == [30, 30, 30]


def test_integer_allocation_errors_name_the_problem():
    with pytest.raises(acrl.ConstraintError, match="cannot sum to 200"):
        integer_allocation([30.0, 30.0, 30.0], 200, 10, 40)
    with pytest.raises(acrl.InvalidActionError, match="NaN"):
        integer_allocation([np.nan, 30.0, 30.0], 90, 10, 40)
    with pytest.raises(acrl.InvalidActionError, match="1-D"):
        integer_allocation([[30.0]], 30, 10, 40)


# ---------------------------------------------------------------- constraints
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_registered_band_matches_the_env_parameters(name):
    preset = PRESETS[name]
    c = acrl.make_constraint(name)
    env = BikeSharingEnv(**preset)
    assert env.band_target == c.target == bss_constraint(**preset).target
    # a feasible action allocates the fleet to within 0.1 * half-range bikes
    half = (preset["max_allocation"] - preset["min_allocation"]) / 2
    centre = (preset["max_allocation"] + preset["min_allocation"]) / 2
    for a in c.sample(None, 200, rng=0):
        assert abs((centre + half * a).sum() - preset["bikes"]) <= 0.1 * half + 1e-9
        assert env.allocation(a).sum() == preset["bikes"]


def test_band_targets_are_the_reference_values():
    assert bss_band_target(3, 90, 10, 40) == 1.0
    assert bss_band_target(5, 150, 0, 40) == 2.5


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_violation_equals_the_formula(name):
    c = acrl.make_constraint(name)
    actions = np.random.default_rng(1).uniform(-1.5, 1.5, size=(2000, c.dim))
    box = np.maximum(np.abs(actions) - 1.0, 0.0).sum(axis=1)
    band = np.maximum(np.abs(actions.sum(axis=1) - c.target) - 0.1, 0.0)
    np.testing.assert_allclose(c.violation(actions), box + band, atol=1e-12)
    np.testing.assert_allclose([c.violation(a) for a in actions[:50]], (box + band)[:50])


# ---------------------------------------------------------------- demand and returns
def test_demand_model_peaks_and_routing():
    model = DemandModel(5)
    np.testing.assert_allclose(model.routing.sum(axis=1), 1.0)
    morning, evening = model.hourly_rates(8.0, np.ones(5)), model.hourly_rates(17.5, np.ones(5))
    assert (np.diff(morning) > 0).all()  # residential zones (high index) empty in the morning
    assert (np.diff(evening) < 0).all()  # downtown (zone 0) empties in the evening
    assert model.hourly_rates(3.0, np.ones(5)).max() < 1.0  # night
    assert model.routing[4].argmax() == 0 and model.routing[0].argmax() == 4


def test_demand_model_rejects_bad_parameters():
    with pytest.raises(acrl.ConstraintError, match="peak_rate"):
        DemandModel(3, peak_rate=-1.0)
    with pytest.raises(acrl.ConstraintError, match="zones"):
        DemandModel(1)


def test_dock_returns_reroutes_to_the_nearest_zone_with_room():
    nearest = nearest_zones(3)
    bikes, lost = dock_returns(np.array([35, 0, 22]), np.array([25, 5, 3]), 40, nearest)
    assert bikes.tolist() == [40, 25, 25] and lost == 20
    bikes, lost = dock_returns(np.array([10, 39, 40]), np.array([0, 0, 5]), 40, nearest)
    assert bikes.tolist() == [14, 40, 40] and lost == 5  # zone 1 has 1 dock, then zone 0


# ---------------------------------------------------------------- the env
class FixedDraws:
    """Stands in for ``np_random`` in a step: fixed requests and destinations."""

    def __init__(self, demand, destinations):
        self.demand, self.destinations = np.array(demand), np.array(destinations)

    def poisson(self, rates):
        assert rates.shape == self.demand.shape and (rates > 0).all()
        return self.demand

    def multinomial(self, rentals, routing):
        np.testing.assert_array_equal(self.destinations.sum(axis=1), rentals)
        return self.destinations


def test_hand_checked_step():
    env = BikeSharingEnv(**BSS3Z)
    env.reset(seed=0)
    env._bikes = np.array([30, 30, 30])
    env.np_random = FixedDraws(demand=[5, 30, 3], destinations=[[2, 0, 3], [20, 5, 0], [3, 0, 0]])
    obs, reward, terminated, truncated, info = env.step(np.array([1.0, 0.0, 0.0]))
    # x = 25 + 15 a = [40, 25, 25]: 10 bikes moved into zone 0
    assert info["allocation"].tolist() == [40, 25, 25] and info["moved"] == 10
    # zone 1 has 25 bikes for 30 requests; returns [25, 5, 3] onto stock [35, 0, 22]
    assert info["rentals"].tolist() == [5, 25, 3] and info["lost_demand"] == 5
    assert info["arrivals"].tolist() == [25, 5, 3]
    # zone 0 would hold 60: 20 returns find it full and go to zone 1, the nearest
    assert info["bikes"].tolist() == [40, 25, 25] and info["lost_returns"] == 20
    assert reward == -(5 + 20 + 2 * 10)
    assert not terminated and not truncated
    np.testing.assert_allclose(obs[:3], np.array([40, 25, 25]) / 40)
    np.testing.assert_allclose(obs[3:5], [np.sin(2 * np.pi / 24), np.cos(2 * np.pi / 24)], 1e-6)
    np.testing.assert_allclose(obs[5:], np.array([5, 30, 3]) / env.demand_scale, 1e-6)


@pytest.mark.parametrize("preset", [BSS3Z, BSS5Z])
def test_bikes_are_conserved_and_the_reward_is_the_formula(preset):
    env = BikeSharingEnv(**preset)
    env.action_space.seed(0)
    for episode in range(3):
        obs, info = env.reset(seed=episode)
        assert info["bikes"].sum() == preset["bikes"]
        for _ in range(24):
            before = info["bikes"]
            obs, reward, _, _, info = env.step(env.action_space.sample())
            assert obs in env.observation_space
            assert info["bikes"].sum() == preset["bikes"] and info["bikes"].max() <= 40
            assert info["bikes"].min() >= 0
            alloc = info["allocation"]
            assert alloc.sum() == preset["bikes"] and alloc.min() >= preset["min_allocation"]
            assert (info["rentals"] == np.minimum(info["demand"], alloc)).all()
            assert info["arrivals"].sum() == info["rentals"].sum()
            assert info["moved"] == np.maximum(alloc - before, 0).sum()
            assert reward == -(info["lost_demand"] + info["lost_returns"] + 2 * info["moved"])


def test_deterministic_under_a_seed():
    def rollout(seed):
        env = BikeSharingEnv(**BSS5Z)
        actions = np.random.default_rng(0).uniform(-1, 1, size=(24, 5))
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for a in actions:
            obs, reward, *_ = env.step(a)
            out += [obs, np.array([reward])]
        return np.concatenate(out)

    np.testing.assert_array_equal(rollout(5), rollout(5))
    assert not np.array_equal(rollout(5), rollout(6))


def test_bad_parameters_and_actions_raise_acrl_errors():
    with pytest.raises(acrl.ConstraintError, match="change `bikes`"):
        BikeSharingEnv(zones=3, bikes=150)
    with pytest.raises(acrl.ConstraintError, match="capacity"):
        BikeSharingEnv(zones=3, max_allocation=50)
    with pytest.raises(acrl.ConstraintError, match="periods"):
        BikeSharingEnv(periods=0)
    env = BikeSharingEnv()
    env.reset(seed=0)
    with pytest.raises(acrl.InvalidActionError, match="3 finite numbers"):
        env.step(np.array([0.3, np.nan, 0.3]))
