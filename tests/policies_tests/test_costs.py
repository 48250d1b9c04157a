"""Cost plumbing: cost GAE, the buffer, info["cost"] reading, bad input, logging."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure

import acrl_wrappers as acrl
from acrl_policies import CTRPO, PPOLagrangian, TRPOLagrangian
from acrl_policies.costs import (
    CostRolloutBuffer,
    CostRolloutBufferSamples,
    EpisodeCosts,
    generalized_advantage_estimate,
)
from acrl_policies.errors import InvalidCostLimitError, MissingCostError, PolicyError

ALGORITHMS = [CTRPO, TRPOLagrangian, PPOLagrangian]
TINY = {"n_steps": 64, "batch_size": 32, "seed": 0}


def pendulum_with_cost() -> gym.Env:
    """Pendulum (actions in [-2, 2]) monitored against the box [-1, 1]: cost 1 outside."""
    return acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")


class RecordInfos(BaseCallback):
    """Records every step's info["cost"] and dones, and V_c of terminal observations."""

    def __init__(self) -> None:
        super().__init__()
        self.costs: list[float] = []
        self.terminal_cost_values: dict[int, float] = {}
        self.dones: list[bool] = []

    def _on_step(self) -> bool:
        info = self.locals["infos"][0]
        if "terminal_observation" in info:  # V_c(terminal obs) with the rollout's critic
            obs = th.as_tensor(info["terminal_observation"][None])
            with th.no_grad():
                value = self.model.policy.predict_cost_values(obs).item()
            self.terminal_cost_values[len(self.costs)] = value
        self.costs.append(info["cost"])
        self.dones.append(bool(self.locals["dones"][0]))
        return True


def test_gae_matches_a_hand_computation():
    gamma, lam = 0.9, 0.5
    costs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    values = np.array([[0.5, 0.2], [0.4, 0.1], [0.3, 0.6]])
    starts = np.array([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0]])  # env 1: new episode at step 1
    last_values, dones = np.array([0.7, 0.8]), np.array([0.0, 1.0])
    adv = generalized_advantage_estimate(costs, values, last_values, starts, dones, gamma, lam)
    # env 0: one episode, bootstrapped with 0.7 after the last step
    d2 = 1.0 + gamma * 0.7 - 0.3
    d1 = 0.0 + gamma * 0.3 - 0.4
    d0 = 1.0 + gamma * 0.4 - 0.5
    a2 = d2
    a1 = d1 + gamma * lam * a2
    a0 = d0 + gamma * lam * a1
    np.testing.assert_allclose(adv[:, 0], [a0, a1, a2], rtol=1e-6)
    # env 1: step 0 ends its episode (step 1 starts one); the last step ends one too
    b2 = 1.0 - 0.6
    b1 = 1.0 + gamma * 0.6 - 0.1 + gamma * lam * b2
    b0 = 0.0 - 0.2
    np.testing.assert_allclose(adv[:, 1], [b0, b1, b2], rtol=1e-6)


def test_buffer_samples_carry_the_cost_fields():
    buf = CostRolloutBuffer(
        3, spaces.Box(-1, 1, (2,)), spaces.Box(-1, 1, (1,)), gamma=0.9, cost_gae_lambda=1.0
    )
    for t in range(3):
        buf.costs[buf.pos] = [1.0]
        buf.add(
            np.full((1, 2), t, dtype=np.float32),
            np.zeros((1, 1)),
            np.zeros(1),
            np.array([t == 0]),
            th.zeros(1),
            th.zeros(1),
        )
    buf.compute_returns_and_advantage(th.zeros(1), np.array([True]))
    buf.compute_cost_returns_and_advantage(np.zeros((3, 1)), np.zeros(1), np.array([True]))
    (batch,) = list(buf.get(batch_size=None))
    assert isinstance(batch, CostRolloutBufferSamples)
    by_obs = dict(zip(batch.observations[:, 0].tolist(), batch.cost_returns.tolist(), strict=True))
    assert by_obs == pytest.approx({0.0: 1 + 0.9 + 0.81, 1.0: 1 + 0.9, 2.0: 1.0})
    assert batch.cost_advantages.tolist() == pytest.approx(batch.cost_returns.tolist())


def test_episode_costs_average_the_last_window_of_finished_episodes():
    tracker = EpisodeCosts(n_envs=1, window=2)
    for cost, done in [(1, False), (1, True), (3, True), (5, True), (7, False)]:
        tracker.update(np.array([cost]), np.array([done]))
    assert list(tracker.finished) == [3.0, 5.0]
    assert tracker.mean() == 4.0


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_missing_cost_is_an_error_at_the_first_rollout_step(algo):
    model = algo("MlpPolicy", gym.make("Pendulum-v1"), **TINY)
    with pytest.raises(MissingCostError) as excinfo:
        model.learn(64)
    message = str(excinfo.value)
    assert "info['cost']" in message
    assert "ACRL/SafeHopperVelocity-v1" in message
    assert "enforce=" in message and "acrl.wrap" in message
    assert model.num_timesteps == 1  # the very first step


@pytest.mark.parametrize("algo", ALGORITHMS)
@pytest.mark.parametrize("limit", [0.0, -5.0, math.nan, math.inf, None])
def test_cost_limit_must_be_finite_and_positive(algo, limit):
    with pytest.raises(InvalidCostLimitError, match="cost_limit"):
        algo("MlpPolicy", pendulum_with_cost(), cost_limit=limit, **TINY)


def test_a_policy_without_cost_critic_is_refused():
    from stable_baselines3.common.policies import ActorCriticPolicy

    with pytest.raises(PolicyError, match="cost critic"):
        CTRPO(ActorCriticPolicy, pendulum_with_cost(), **TINY)


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_buffer_costs_are_the_info_costs(algo):
    record = RecordInfos()
    model = algo("MlpPolicy", pendulum_with_cost(), **TINY).learn(64, callback=record)
    np.testing.assert_array_equal(model.rollout_buffer.costs[:, 0], record.costs)
    assert 0 < sum(record.costs) < 64  # the random policy leaves the box sometimes


def test_time_limit_truncation_bootstraps_the_cost_with_the_cost_critic():
    record = RecordInfos()
    model = TRPOLagrangian("MlpPolicy", pendulum_with_cost(), n_steps=256, batch_size=64, seed=0)
    model.learn(256, callback=record)  # Pendulum truncates after 200 steps
    ((last, v_c),) = record.terminal_cost_values.items()
    assert last == 199
    buffer_cost = model.rollout_buffer.costs[last, 0]
    assert buffer_cost == pytest.approx(record.costs[last] + 0.99 * v_c, rel=1e-5)
    others = np.delete(np.arange(256), last)
    np.testing.assert_array_equal(
        model.rollout_buffer.costs[others, 0], np.asarray(record.costs)[others]
    )


def test_ep_cost_mean_is_logged(tmp_path):
    record = RecordInfos()
    model = CTRPO("MlpPolicy", pendulum_with_cost(), n_steps=256, batch_size=64, seed=0)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(512, callback=record)
    header, *rows = (tmp_path / "progress.csv").read_text().splitlines()
    column = header.split(",").index("rollout/ep_cost_mean")
    logged = float(rows[-1].split(",")[column])
    ends = [i for i, done in enumerate(record.dones) if done]  # two 200-step episodes
    episode_costs = [sum(record.costs[:200]), sum(record.costs[200:400])]
    assert ends == [199, 399]
    assert logged == pytest.approx(np.mean(episode_costs))
    assert model.episode_cost_mean == pytest.approx(np.mean(episode_costs))


def test_cost_critic_stays_out_of_the_trust_region_step():
    model = CTRPO("MlpPolicy", pendulum_with_cost(), **TINY)
    data = model.policy
    obs = th.zeros(4, 3)
    dist = data.get_distribution(obs)
    kl = (dist.distribution.loc**2).sum() + data.log_std.sum()
    objective = data.predict_cost_values(obs).sum() + kl
    params, *_ = model._compute_actor_grad(kl, objective)
    cost_ids = {id(p) for p in data.cost_value_net.parameters()}
    value_ids = {id(p) for p in data.value_net.parameters()}
    assert params and not ({id(p) for p in params} & (cost_ids | value_ids))


def test_cost_critic_learns_the_cost_returns():
    model = TRPOLagrangian("MlpPolicy", pendulum_with_cost(), n_steps=256, batch_size=64, seed=0)
    model.learn(256)
    first = model._fit_critics(1, 64)[1]
    for _ in range(20):
        last = model._fit_critics(1, 64)[1]
    assert last < 0.5 * first
