"""CTRPO: the constrained divergence, the mode switch, learning, save/load."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.distributions import DiagGaussianDistribution, kl_divergence
from stable_baselines3.common.logger import configure

import acrl_wrappers as acrl
from acrl_policies import CTRPO
from acrl_policies.ctrpo import (
    bregman_divergence,
    constrained_divergence,
    next_safe_mode,
    surrogate_cost_increase,
)
from acrl_policies.errors import InvalidCostLimitError

TINY = {"n_steps": 256, "batch_size": 64, "seed": 0}


def make(task: str, **kwargs) -> gym.Env:
    acrl.load_plugins()
    return gym.make(task, **kwargs)


def gaussian_kl() -> th.Tensor:
    """Mean KL(old || new) between two batches of diagonal Gaussians, as CTRPO computes it."""
    gen = th.Generator().manual_seed(0)
    old = DiagGaussianDistribution(3).proba_distribution(th.randn(8, 3, generator=gen), th.zeros(3))
    new = DiagGaussianDistribution(3).proba_distribution(
        th.randn(8, 3, generator=gen) * 0.1, th.full((3,), 0.1)
    )
    return kl_divergence(old, new).mean()


@pytest.mark.parametrize("mirror", ["entropy", "barrier"])
@pytest.mark.parametrize("beta", [0.05, 1.0, 10.0])
def test_divergence_is_the_kl_when_the_cost_term_is_zero(mirror, beta):
    kl = gaussian_kl()
    ratio = th.ones(8)  # theta = theta_k: alpha is exactly 0
    alpha = surrogate_cost_increase(ratio, th.randn(8), cost_gamma=0.99)
    assert alpha.item() == 0.0
    divergence = constrained_divergence(kl, alpha, margin=5.0, beta=beta, mirror=mirror)
    assert divergence.item() == kl.item()
    # beta = 0 switches the cost term off for any alpha below the margin
    assert constrained_divergence(kl, th.tensor(4.0), 5.0, beta=0.0).item() == kl.item()


@pytest.mark.parametrize("mirror", ["entropy", "barrier"])
@pytest.mark.parametrize("alpha", [5.0, 5.001, 50.0])
def test_divergence_is_infinite_when_the_cost_increase_exceeds_the_margin(mirror, alpha):
    divergence = constrained_divergence(gaussian_kl(), th.tensor(alpha), 5.0, 1.0, mirror)
    assert divergence.item() == math.inf
    assert math.isfinite(constrained_divergence(gaussian_kl(), th.tensor(4.99), 5.0).item())


@pytest.mark.parametrize(("mirror", "curvature"), [("entropy", 1 / 5.0), ("barrier", 1 / 25.0)])
def test_bregman_term_is_flat_at_zero_with_curvature_phi_second_derivative(mirror, curvature):
    alpha = th.tensor(0.0, requires_grad=True)
    value = bregman_divergence(alpha, 5.0, mirror)
    (grad,) = th.autograd.grad(value, alpha, create_graph=True)
    (hess,) = th.autograd.grad(grad, alpha)
    assert grad.item() == pytest.approx(0.0, abs=1e-7)
    assert hess.item() == pytest.approx(curvature, rel=1e-5)
    # convex, positive away from 0, also for cost decreases
    for a in (-3.0, -0.5, 0.5, 3.0):
        assert bregman_divergence(th.tensor(a), 5.0, mirror).item() > 0


def test_bregman_formula_matches_the_reference():
    a, d = 2.0, 5.0
    assert bregman_divergence(th.tensor(a), d).item() == pytest.approx(
        (d - a) * math.log((d - a) / d) + a
    )
    assert bregman_divergence(th.tensor(a), d, "barrier").item() == pytest.approx(
        -math.log((d - a) / d) - a / d
    )


def test_divergence_gradient_is_finite_near_the_limit():
    alpha = th.tensor(4.999999, requires_grad=True)
    value = bregman_divergence(alpha, 5.0)
    (grad,) = th.autograd.grad(value, alpha)
    assert math.isfinite(grad.item())
    beyond = th.tensor(6.0, requires_grad=True)
    (grad,) = th.autograd.grad(bregman_divergence(beyond, 5.0), beyond)
    assert grad.item() == 0.0  # the infinite branch passes no NaN gradient


@pytest.mark.parametrize(
    ("safe", "cost", "expected"),
    [
        (True, 24.9, True),  # safe stays safe below b
        (True, 25.0, False),  # ... and switches to recovery at b
        (True, 30.0, False),
        (False, 24.9, False),  # recovery stays on between h*b = 20 and b
        (False, 20.0, False),
        (False, 19.9, True),  # ... and ends below h*b
        (False, 0.0, True),
    ],
)
def test_mode_switch_follows_the_hysteresis_rule(safe, cost, expected):
    assert next_safe_mode(safe, cost, 25.0, 0.8) is expected


def test_without_hysteresis_the_switch_is_at_the_limit():
    assert next_safe_mode(False, 24.9, 25.0, 1.0) is True
    assert next_safe_mode(True, 25.0, 25.0, 1.0) is False


@pytest.mark.parametrize(
    "kwargs", [{"hysteresis": 0.0}, {"hysteresis": 1.5}, {"beta": -1.0}, {"beta": math.nan}]
)
def test_invalid_settings_are_errors(kwargs):
    with pytest.raises(InvalidCostLimitError):
        CTRPO("MlpPolicy", make("ACRL/SafeHopperVelocity-v1"), **kwargs, **TINY)


def train_logs(model: CTRPO, tmp_path, steps: int) -> list[dict[str, str]]:
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(steps)
    header, *rows = (tmp_path / "progress.csv").read_text().splitlines()
    return [dict(zip(header.split(","), row.split(","), strict=True)) for row in rows]


@pytest.mark.parametrize(
    ("task", "kwargs"),
    [("ACRL/SafeHopperVelocity-v1", {}), ("ACRL/HopperM10-v0", {"enforce": "project"})],
)
def test_learn_a_few_updates(task, kwargs, tmp_path):
    model = CTRPO("MlpPolicy", make(task, **kwargs), **TINY)
    before = [p.detach().clone() for p in model.policy.mlp_extractor.policy_net.parameters()]
    logs = train_logs(model, tmp_path, 1024)
    assert model._n_updates == 4
    after = list(model.policy.mlp_extractor.policy_net.parameters())
    assert any(not th.equal(a, b) for a, b in zip(before, after, strict=True))
    assert all(th.isfinite(p).all() for p in model.policy.parameters())
    assert model.safe_mode  # starts in recovery, J_c < 20 switches to safe at the first update
    # logs of the first three updates (SB3 dumps before train)
    for row in logs[1:]:
        assert row["train/safe_mode"] == "1"
        margin = 25.0 - float(row["train/ep_cost"])
        assert float(row["train/cost_increase"]) < margin
        assert float(row["train/constrained_divergence"]) <= 0.01


def test_recovery_mode_stays_on_while_the_cost_is_above_h_times_b(tmp_path):
    # Pendulum's random actions leave the box [-1, 1] about half the time: J_c ~ 100 > 20
    env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
    model = CTRPO("MlpPolicy", env, **TINY)
    logs = train_logs(model, tmp_path, 768)
    assert float(logs[-1]["rollout/ep_cost_mean"]) > 20
    assert not model.safe_mode
    assert {row["train/safe_mode"] for row in logs[1:]} == {"0"}
    for row in logs[1:]:  # recovery: a plain KL trust region
        assert float(row["train/constrained_divergence"]) == float(row["train/kl_divergence_loss"])


def test_save_load_round_trip(tmp_path):
    model = CTRPO("MlpPolicy", make("ACRL/SafeHopperVelocity-v1"), hysteresis=0.9, **TINY)
    model.learn(512)
    obs = np.stack([model.observation_space.sample() for _ in range(5)])
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "ctrpo")

    loaded = CTRPO.load(tmp_path / "ctrpo", env=make("ACRL/SafeHopperVelocity-v1"))
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)
    assert (loaded.safe_mode, loaded.hysteresis, loaded.cost_limit) == (True, 0.9, 25.0)
    assert list(loaded.episode_costs.finished) == list(model.episode_costs.finished)
    loaded_net, saved_net = loaded.policy.cost_value_net, model.policy.cost_value_net
    for a, b in zip(loaded_net.parameters(), saved_net.parameters(), strict=True):
        assert th.equal(a, b)
    saved_state = model.policy.cost_optimizer.state_dict()["state"]
    loaded_state = loaded.policy.cost_optimizer.state_dict()["state"]
    assert th.equal(saved_state[0]["exp_avg"], loaded_state[0]["exp_avg"])
    loaded.learn(256, reset_num_timesteps=False)
    assert loaded.num_timesteps == 768


def test_progress_bar(capsys):
    CTRPO("MlpPolicy", make("ACRL/SafeHopperVelocity-v1"), **TINY).learn(256, progress_bar=True)


def test_policy_aliases_and_registered_name():
    from acrl_policies.costs import CostActorCriticPolicy
    from acrl_policies.plugin import COST_ALGORITHMS

    assert CTRPO.policy_aliases == {"MlpPolicy": CostActorCriticPolicy}
    assert COST_ALGORITHMS["ctrpo"][0] == "acrl_policies.ctrpo:CTRPO"


def test_readme_snippet_runs(capsys):
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "packages" / "acrl-policies" / "README.md"
    section = readme.read_text().split("## C-TRPO and Lagrangian baselines")[1]
    snippet = section.split("```python\n")[1].split("```")[0]
    exec(compile(snippet, str(readme), "exec"), {})
    safe_mode, episode_cost = capsys.readouterr().out.split()
    assert safe_mode in {"True", "False"} and float(episode_cost) >= 0
