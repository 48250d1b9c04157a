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


class LineSearchProblem:
    """A one-parameter line search: theta = c * step, objective and divergence of theta."""

    def __init__(self, objective, divergence) -> None:
        self.param = th.nn.Parameter(th.tensor([0.0, 2.0]))
        self.objective, self.divergence = objective, divergence
        self.tried: list[float] = []  # the first coordinate of every evaluated theta

    def evaluate(self) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        x = self.param[0].detach()
        self.tried.append(x.item())
        divergence = th.as_tensor(self.divergence(x.item()))
        return th.as_tensor(self.objective(x.item())), divergence, divergence / 2, x / 10

    def search(self, model: CTRPO):
        step = th.tensor([1.0, 0.0])
        return model._line_search([self.param], [(2,)], step, 0.0, self.evaluate)


@pytest.fixture(scope="module")
def pendulum_ctrpo() -> CTRPO:
    env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
    return CTRPO("MlpPolicy", env, **TINY)  # target_kl 0.01, 15 tries, factor 0.8


def test_line_search_accepts_the_first_step_inside_the_trust_region(pendulum_ctrpo):
    # the objective improves along the step; the divergence c^2 <= 0.01 needs c <= 0.1,
    # first met at c = 0.8^11 = 0.086, the 12th try
    problem = LineSearchProblem(lambda x: x, lambda x: x**2)
    result = problem.search(pendulum_ctrpo)
    assert result.accepted
    assert problem.tried == pytest.approx([0.8**k for k in range(12)])
    th.testing.assert_close(problem.param.data, th.tensor([0.8**11, 2.0]))
    assert result.divergence == pytest.approx(0.8**22)
    assert result.objective == pytest.approx(0.8**11)
    assert (result.kl, result.cost_increase) == pytest.approx((0.8**22 / 2, 0.8**11 / 10))


def test_line_search_accepts_an_unchanged_objective(pendulum_ctrpo):
    problem = LineSearchProblem(lambda x: 0.0, lambda x: 0.0)  # "did not get worse"
    assert problem.search(pendulum_ctrpo).accepted
    assert problem.tried == [1.0]


@pytest.mark.parametrize(
    ("objective", "divergence"),
    [
        (lambda x: -x, lambda x: 0.0),  # every step makes the surrogate worse
        (lambda x: x, lambda x: math.inf),  # every step crosses the cost limit
        (lambda x: x, lambda x: 0.01 * (x / 0.04) ** 2),  # needs c <= 0.04: a 16th try
    ],
    ids=["objective-worse", "crosses-the-limit", "needs-a-16th-try"],
)
def test_line_search_rejects_and_restores_the_parameters(pendulum_ctrpo, objective, divergence):
    problem = LineSearchProblem(objective, divergence)
    result = problem.search(pendulum_ctrpo)
    assert not result.accepted
    assert problem.tried == pytest.approx([0.8**k for k in range(15)])  # 15 tries, no more
    assert th.equal(problem.param.data, th.tensor([0.0, 2.0]))
    assert (result.objective, result.divergence, result.kl) == (0.0, 0.0, 0.0)


def test_line_search_takes_its_last_try(pendulum_ctrpo):
    # the step that the default 15 tries miss (c = 0.8^15) is accepted with a 16th
    problem = LineSearchProblem(lambda x: x, lambda x: 0.01 * (x / 0.04) ** 2)
    pendulum_ctrpo.line_search_max_iter = 16
    try:
        assert problem.search(pendulum_ctrpo).accepted
    finally:
        pendulum_ctrpo.line_search_max_iter = 15
    assert problem.tried[-1] == pytest.approx(0.8**15) and len(problem.tried) == 16


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
    cost_terms = []
    for row in logs[1:]:
        assert row["train/safe_mode"] == "1"
        # a failed search logs zeros: every step here must have been accepted
        assert row["train/is_line_search_success"] == "1.0"
        margin = 25.0 - float(row["train/ep_cost"])
        alpha, kl = float(row["train/cost_increase"]), float(row["train/kl_divergence_loss"])
        divergence = float(row["train/constrained_divergence"])
        assert alpha != 0.0 and 0.0 < kl <= divergence <= 0.01
        assert alpha < margin
        # the accepted step was measured with D_C = KL + beta * D_phi(alpha), beta = 1
        # (float32 leaves ~margin * 1e-7 of rounding in the Bregman term)
        expected = kl + (margin - alpha) * math.log((margin - alpha) / margin) + alpha
        assert divergence == pytest.approx(expected, abs=5e-6)
        cost_terms.append(divergence - kl)
        assert float(row["train/policy_objective"]) > 0  # the surrogate at theta_k is 0
    assert max(cost_terms) > 1e-4  # the cost term was not negligible in every update


def test_recovery_mode_stays_on_while_the_cost_is_above_h_times_b(tmp_path):
    # Pendulum's random actions leave the box [-1, 1] about half the time: J_c ~ 100 > 20
    env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
    model = CTRPO("MlpPolicy", env, **TINY)
    logs = train_logs(model, tmp_path, 768)
    assert float(logs[-1]["rollout/ep_cost_mean"]) > 20
    assert not model.safe_mode
    assert {row["train/safe_mode"] for row in logs[1:]} == {"0"}
    for row in logs[1:]:  # recovery: a plain KL trust region, and the step was taken
        assert row["train/is_line_search_success"] == "1.0"
        kl = float(row["train/kl_divergence_loss"])
        assert float(row["train/constrained_divergence"]) == kl and 0.0 < kl <= 0.01
        assert float(row["train/cost_increase"]) == 0.0
        assert float(row["train/policy_objective"]) > 0  # the cost surrogate decreased


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


def test_progress_bar_counts_every_step(progress_bars, capsys):
    CTRPO("MlpPolicy", make("ACRL/SafeHopperVelocity-v1"), **TINY).learn(256, progress_bar=True)
    progress_bars.assert_completed(capsys.readouterr().out, 256)


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
    # random Hopper episodes rarely exceed the velocity threshold: J_c is far below
    # h * b = 20, so the update that printed its mode was in safe mode
    assert float(episode_cost) < 0.8 * 25
    assert safe_mode == "True"
