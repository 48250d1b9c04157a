"""NSFnet: the link constraint and the fluid network model."""

from __future__ import annotations

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_resource import NSFNET_LINKS, NSFnetEnv, fluid_step, nsfnet_constraint, nsfnet_link_matrix


def test_link_matrix_follows_the_reference_table():
    links = nsfnet_link_matrix()
    assert links.shape == (8, 9)
    for row, flows in zip(links, NSFNET_LINKS, strict=True):
        assert set(np.flatnonzero(row) + 1) == set(flows)
    assert [set(f) for f in NSFNET_LINKS][4] == {2, 4, 7, 9}


def test_registered_constraint_is_the_link_budget_in_action_units():
    c = acrl.make_constraint("nsfnet")
    assert c == nsfnet_constraint()
    np.testing.assert_array_equal(c.b, 2.0 - nsfnet_link_matrix().sum(axis=1))
    env = NSFnetEnv()
    for a in c.sample(None, 300, rng=0):  # feasible: every link carries at most 50 Mbit/s
        assert (env.links @ env.rates(a) <= 50.0 + 1e-6).all()
    rng = np.random.default_rng(0)
    for a in rng.uniform(-1.0, 1.0, size=(300, 9)):  # infeasible: some link above 50
        if not c.contains(a):
            assert (env.links @ env.rates(a) > 50.0).any()


def test_violation_equals_the_formula():
    c = acrl.make_constraint("nsfnet")
    links = nsfnet_link_matrix()
    actions = np.random.default_rng(2).uniform(-1.5, 1.5, size=(2000, 9))
    box = np.maximum(np.abs(actions) - 1.0, 0.0).sum(axis=1)
    rows = np.maximum(actions @ links.T - (2.0 - links.sum(axis=1)), 0.0).sum(axis=1)
    np.testing.assert_allclose(c.violation(actions), box + rows, atol=1e-12)
    np.testing.assert_allclose([c.violation(a) for a in actions[:50]], (box + rows)[:50])


def test_fluid_step_conserves_traffic_and_respects_the_buffer():
    rng = np.random.default_rng(0)
    links = nsfnet_link_matrix()
    queues = np.zeros(8)
    for _ in range(200):
        sent = rng.uniform(0.0, 50.0, size=9)
        state = fluid_step(sent, rng.uniform(0, 20, size=8), queues, links, 50.0, 25.0)
        np.testing.assert_allclose(state.delivered + state.lost, sent)
        assert (state.lost >= -1e-12).all() and (state.queues <= 25.0).all()
        assert (state.queues >= 0.0).all()
        np.testing.assert_allclose(state.delay, links.T @ state.queues / 50.0)
        queues = state.queues


def _env_with_full_demand() -> NSFnetEnv:
    env = NSFnetEnv(cross_max=0.0)  # no cross traffic: only the agent's flows
    env.reset(seed=0)
    env._demand = np.full(9, 50.0)  # every flow offers more than its rate
    return env


def test_hand_checked_step_without_congestion():
    env = _env_with_full_demand()
    action = -np.ones(9)
    action[6] = 1.0  # flow 7 alone on link 5 at 50 Mbit/s: exactly the capacity
    _, reward, _, _, info = env.step(action)
    assert info["queues"].max() == 0.0 and info["lost"].max() == 0.0
    assert reward == pytest.approx(50.0 / 10.0)


def test_hand_checked_step_with_an_overloaded_link():
    env = _env_with_full_demand()
    action = -np.ones(9)
    action[6], action[8] = 1.0, 0.2  # flows 7 (50) and 9 (30) share link 5: 80 > 50
    _, reward, _, _, info = env.step(action)
    # link 5: backlog 30 Mbit, buffer 25, so 5 of the 80 arriving Mbit are dropped
    np.testing.assert_allclose(info["queues"], [0, 0, 0, 0, 25.0, 0, 0, 0])
    np.testing.assert_allclose(info["delivered"][[6, 8]], [50 * 75 / 80, 30 * 75 / 80])
    np.testing.assert_allclose(info["lost"][[6, 8]], [50 * 5 / 80, 30 * 5 / 80])
    np.testing.assert_allclose(info["delay"][[6, 8]], [0.5, 0.5])  # 25 Mbit / 50 Mbit/s
    throughput, loss, delay = 75.0, 2.0 * 5.0, (50 * 0.5 + 30 * 0.5) / 0.5
    assert info["throughput"] == pytest.approx(throughput)
    assert reward == pytest.approx((throughput - loss - delay) / 10.0)


def test_rates_follow_demand_and_observation_layout():
    env = NSFnetEnv()
    obs, info = env.reset(seed=4)
    np.testing.assert_allclose(obs[:9], info["demand"] / 50.0, rtol=1e-6)
    np.testing.assert_allclose(obs[9:17], info["cross"] / 50.0, rtol=1e-6, atol=1e-7)
    assert (obs[17:] == 0.0).all()
    _, _, _, _, step = env.step(np.ones(9))
    np.testing.assert_allclose(step["sent"], np.minimum(50.0, info["demand"]))


def test_traffic_changes_slowly_and_stays_in_range():
    env = NSFnetEnv()
    obs, _ = env.reset(seed=0)
    demands = [obs[:9] * 50.0]
    for _ in range(100):
        obs, *_ = env.step(-np.ones(9))
        demands.append(obs[:9] * 50.0)
        assert obs in env.observation_space
    steps = np.abs(np.diff(np.array(demands), axis=0))
    assert steps.mean() < 3.0 and np.array(demands).min() >= 0.0


def test_deterministic_under_a_seed():
    def rollout(seed):
        env = NSFnetEnv()
        actions = np.random.default_rng(0).uniform(-1, 1, size=(50, 9))
        obs, _ = env.reset(seed=seed)
        out = [obs]
        for a in actions:
            obs, reward, *_ = env.step(a)
            out += [obs, np.array([reward])]
        return np.concatenate(out)

    np.testing.assert_array_equal(rollout(1), rollout(1))
    assert not np.array_equal(rollout(1), rollout(2))


def test_bad_parameters_and_actions_raise_acrl_errors():
    with pytest.raises(acrl.ConstraintError, match="buffer"):
        NSFnetEnv(buffer=0.0)
    with pytest.raises(acrl.ConstraintError, match="cross_max"):
        NSFnetEnv(cross_max=-1.0)
    env = NSFnetEnv()
    env.reset(seed=0)
    with pytest.raises(acrl.InvalidActionError, match="9 finite numbers"):
        env.step(np.zeros(8))
