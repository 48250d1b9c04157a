"""TRPOLagrangian and PPOLagrangian: the multiplier, the advantage, learning, save/load."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th

import acrl_wrappers as acrl
from acrl_policies import PPOLagrangian, TRPOLagrangian
from acrl_policies.errors import InvalidCostLimitError
from acrl_policies.lagrangian import LagrangeMultiplier, lagrangian_advantages

ALGORITHMS = [TRPOLagrangian, PPOLagrangian]
TINY = {"n_steps": 256, "batch_size": 64, "seed": 0}


def make(task: str, **kwargs) -> gym.Env:
    acrl.load_plugins()
    return gym.make(task, **kwargs)


def pendulum_with_cost() -> gym.Env:
    """Pendulum monitored against the box [-1, 1]: a random policy costs ~100 per episode."""
    return acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")


def test_multiplier_update_is_torch_adam_on_the_lagrangian_then_clipped():
    costs = [40.0, 60.0, 30.0, 10.0, 0.0, 0.0, 0.0, 50.0]
    ours = LagrangeMultiplier(initial_value=0.001, learning_rate=0.035)
    lam = th.nn.Parameter(th.tensor(0.001, dtype=th.float64))
    adam = th.optim.Adam([lam], lr=0.035)
    for cost in costs:
        adam.zero_grad()
        (-lam * (cost - 25.0)).backward()
        adam.step()
        lam.data.clamp_(min=0.0)
        assert ours.update(cost, 25.0) == pytest.approx(lam.item(), abs=1e-12)
        assert ours.value >= 0.0


def test_multiplier_rises_over_the_limit_and_falls_to_zero_under_it():
    lam = LagrangeMultiplier()
    values = [lam.update(100.0, 25.0) for _ in range(10)]
    assert values == sorted(values) and values[-1] > 0.3
    for _ in range(200):
        lam.update(0.0, 25.0)
    assert lam.value == 0.0


@pytest.mark.parametrize(("init", "lr"), [(-1.0, 0.035), (math.nan, 0.035), (0.0, 0.0)])
def test_invalid_multiplier_settings_are_errors(init, lr):
    with pytest.raises(InvalidCostLimitError):
        LagrangeMultiplier(init, lr)


def test_lagrangian_advantage_interpolates_between_reward_and_cost():
    rng = np.random.default_rng(0)
    reward, cost = rng.normal(3, 2, 100), rng.normal(-1, 5, 100)
    standard = lambda x: (x - x.mean()) / x.std()  # noqa: E731
    pure_reward = lagrangian_advantages(reward, cost, 0.0)
    np.testing.assert_allclose(pure_reward, standard(reward), atol=1e-5)
    np.testing.assert_allclose(lagrangian_advantages(reward, cost, 1e6), -standard(cost), atol=1e-4)
    mixed = lagrangian_advantages(reward, cost, 1.0)
    np.testing.assert_allclose(mixed, (standard(reward) - standard(cost)) / 2, atol=1e-5)


@pytest.mark.parametrize("algo", ALGORITHMS)
@pytest.mark.parametrize(
    ("task", "kwargs"),
    [("ACRL/SafeHopperVelocity-v1", {}), ("ACRL/HopperM10-v0", {"enforce": "project"})],
)
def test_learn_a_few_updates(algo, task, kwargs):
    model = algo("MlpPolicy", make(task, **kwargs), **TINY).learn(768)
    assert model._n_updates >= 3
    assert all(th.isfinite(p).all() for p in model.policy.parameters())
    assert 0.0 <= model.lagrangian_multiplier < 0.001  # costs below 25: lambda falls


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_multiplier_rises_while_the_episode_cost_exceeds_the_limit(algo):
    model = algo("MlpPolicy", pendulum_with_cost(), **TINY).learn(768)
    assert model.episode_cost_mean > 25
    assert model.lagrangian_multiplier > 0.05  # three Adam steps of about lr = 0.035


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_save_load_round_trip(algo, tmp_path):
    model = algo("MlpPolicy", pendulum_with_cost(), cost_limit=30, **TINY).learn(512)
    obs = np.stack([model.observation_space.sample() for _ in range(5)])
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model")
    loaded = algo.load(tmp_path / "model", env=pendulum_with_cost())
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)
    assert loaded.lagrangian_multiplier == model.lagrangian_multiplier > 0
    assert loaded.cost_limit == 30.0
    assert loaded.episode_cost_mean == model.episode_cost_mean
    loaded.learn(256, reset_num_timesteps=False)
    assert loaded.lagrange._t == 3  # the Adam state continued


def test_progress_bar_counts_every_step(progress_bars, capsys):
    TRPOLagrangian("MlpPolicy", pendulum_with_cost(), **TINY).learn(256, progress_bar=True)
    progress_bars.assert_completed(capsys.readouterr().out, 256)
