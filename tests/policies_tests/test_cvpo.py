"""CVPO and SACLagrangian: the E- and M-step maths, the cost plumbing, learning, save/load."""

from __future__ import annotations

import itertools
import math

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from gymnasium import spaces
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.logger import configure
from torch.distributions import Normal, kl_divergence

import acrl_wrappers as acrl
from acrl_policies import CVPO, SACLagrangian
from acrl_policies.costs import CostReplayBuffer, CostSACPolicy
from acrl_policies.cvpo import (
    CVPOPolicy,
    cost_threshold,
    decoupled_gaussian_kl,
    estep_dual,
    variational_weights,
    weighted_log_likelihood,
)
from acrl_policies.cvpo.cvpo import EStep
from acrl_policies.errors import (
    InvalidCostLimitError,
    InvalidSampleCountError,
    MissingCostError,
    PolicyError,
)

ALGORITHMS = [CVPO, SACLagrangian]
# small networks, training from step 64, a round of 4 gradient steps every 32 env steps
TINY = {
    "learning_starts": 64,
    "batch_size": 32,
    "train_freq": 32,
    "gradient_steps": 4,
    "policy_kwargs": {"net_arch": [32, 32]},
    "seed": 0,
}
TASK = "ACRL/SafeHopperVelocity-v1"


def make(task: str = TASK, **kwargs) -> gym.Env:
    acrl.load_plugins()
    return gym.make(task, **kwargs)


def q_batch(seed: int = 0, n_samples: int = 16, batch: int = 8) -> tuple[th.Tensor, th.Tensor]:
    gen = th.Generator().manual_seed(seed)
    q_rewards = th.randn(n_samples, batch, generator=gen) * 3.0
    q_costs = th.rand(n_samples, batch, generator=gen) * 4.0
    return q_rewards, q_costs


# E-step ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("limit", "gamma", "steps", "expected"),
    [(25, 0.98, 1000, 1.25), (25, 0.995, 1000, 4.97), (10, 0.99, 1000, 1.0), (25, 1.0, 1000, 25)],
)
def test_cost_threshold_examples(limit, gamma, steps, expected):
    assert cost_threshold(limit, gamma, steps) == pytest.approx(expected, abs=0.005)


@pytest.mark.parametrize("lam", [0.0, 0.5, 3.0])
@pytest.mark.parametrize("eta", [0.1, 1.0, 20.0])
def test_weights_are_a_distribution_over_the_samples_of_each_state(eta, lam):
    q_rewards, q_costs = q_batch()
    weights = variational_weights(q_rewards, q_costs, eta, lam)
    assert weights.shape == q_rewards.shape and (weights >= 0).all()
    th.testing.assert_close(weights.sum(dim=0), th.ones(q_rewards.shape[1]))


def test_weights_shift_toward_low_cost_samples_as_lambda_grows():
    q_rewards, q_costs = q_batch()
    expected_costs = [
        (variational_weights(q_rewards, q_costs, 1.0, lam) * q_costs).sum(dim=0)
        for lam in (0.0, 0.5, 2.0, 10.0)
    ]
    for lower, higher in zip(expected_costs[1:], expected_costs[:-1], strict=True):
        assert (lower <= higher + 1e-6).all()
    # with a huge λ the weight goes to each state's cheapest sample
    cheapest = q_costs.argmin(dim=0)
    assert th.equal(variational_weights(q_rewards, q_costs, 1.0, 1e4).argmax(dim=0), cheapest)


def test_dual_matches_its_definition_and_decreases_under_adam():
    q_rewards, q_costs = q_batch(1)
    eta, lam = th.tensor(0.7), th.tensor(0.3)
    direct = (
        eta * 0.02
        + lam * 1.25
        + eta * th.log(th.exp((q_rewards - lam * q_costs) / eta).mean(dim=0)).mean()
    )
    th.testing.assert_close(estep_dual(eta, lam, q_rewards, q_costs, 0.02, 1.25), direct)

    dual = th.tensor([1.0, 0.0], requires_grad=True)  # FSRL's start: η = 1, λ = 0
    adam = th.optim.Adam([dual], lr=0.02)
    losses = []
    for _ in range(200):
        loss = estep_dual(dual[0], dual[1], q_rewards, q_costs, 0.02, 1.25)
        losses.append(loss.item())
        adam.zero_grad()
        loss.backward()
        adam.step()
        with th.no_grad():
            dual.clamp_(1e-6, 20.0)
    assert losses[-1] < losses[0]
    assert all(b <= a + 1e-4 for a, b in itertools.pairwise(losses))
    assert dual[1].item() > 0  # mean Q_c ≈ 2 > ξ = 1.25: the constraint is active


@pytest.mark.parametrize(("q_cost", "expected_lambda"), [(3.0, 0.02), (0.5, 1e-6)])
def test_estep_moves_the_duals_against_their_gradient_and_weighs_with_the_new_ones(
    monkeypatch, q_cost, expected_lambda
):
    # Q_r = -|a|^2 of the squashed action, Q_c constant: above xi = 1.25 the cost
    # constraint is active and one Adam step (lr 0.02) raises lambda from 0 to 0.02;
    # below it lambda falls to its floor 1e-6
    model = CVPO("MlpPolicy", make(), device="cpu", **TINY)  # CPU tensors below
    monkeypatch.setattr(model, "critic", lambda obs, act: (-(act**2).sum(1, keepdim=True),) * 2)
    monkeypatch.setattr(
        model, "cost_q", lambda obs, act, target=False: th.full((len(obs), 1), q_cost)
    )
    obs = th.randn(8, 11, generator=th.Generator().manual_seed(0))
    th.manual_seed(0)
    estep = model._estep(obs)

    q_rewards = -(th.tanh(estep.samples) ** 2).sum(-1)  # (K, B): the critic saw tanh(samples)
    q_costs = th.full_like(q_rewards, q_cost)
    dual = th.tensor([1.0, 0.0], requires_grad=True)
    estep_dual(
        dual[0], dual[1], q_rewards, q_costs, model.estep_kl, model.cost_threshold
    ).backward()
    assert model.lagrange_multiplier == pytest.approx(expected_lambda, rel=1e-4)
    expected_eta = 1.0 - 0.02 * th.sign(dual.grad[0]).item()  # Adam's first step is +-lr
    assert model.eta == pytest.approx(expected_eta, rel=1e-4)
    # the weights use the duals after their step
    expected = variational_weights(q_rewards, q_costs, model.eta, model.lagrange_multiplier)
    th.testing.assert_close(estep.weights, expected)
    with th.no_grad():
        mean_old, log_std_old, _ = model.policy.actor_old.get_action_dist_params(obs)
    th.testing.assert_close(estep.mean_old, mean_old)
    th.testing.assert_close(estep.std_old, log_std_old.exp())
    assert estep.samples.shape == (16, 8, 3)


# M-step ---------------------------------------------------------------------------------


def test_decoupled_kls_are_zero_at_equal_distributions():
    gen = th.Generator().manual_seed(0)
    mean, std = th.randn(6, 3, generator=gen), th.rand(6, 3, generator=gen) + 0.1
    kl_mean, kl_std = decoupled_gaussian_kl(mean, std, mean.clone(), std.clone())
    assert kl_mean.item() == 0.0 and kl_std.item() == pytest.approx(0.0, abs=1e-6)


def test_decoupled_kls_match_torch_distributions():
    gen = th.Generator().manual_seed(1)
    mean_old, std_old = th.randn(6, 3, generator=gen), th.rand(6, 3, generator=gen) + 0.2
    mean, std = th.randn(6, 3, generator=gen), th.rand(6, 3, generator=gen) + 0.2
    kl_mean, kl_std = decoupled_gaussian_kl(mean_old, std_old, mean, std)
    old = Normal(mean_old, std_old)
    expected_mean = kl_divergence(old, Normal(mean, std_old)).sum(-1).mean()
    expected_std = kl_divergence(old, Normal(mean_old, std)).sum(-1).mean()
    th.testing.assert_close(kl_mean, expected_mean)
    th.testing.assert_close(kl_std, expected_std)


def test_weighted_likelihood_pulls_the_mean_toward_the_heavy_samples():
    mean_old, std_old = th.zeros(1, 1), th.ones(1, 1)
    samples = th.tensor([[[-1.0]], [[2.0]]])  # (K=2, B=1, d=1)
    weights = th.tensor([[0.1], [0.9]])
    mean = th.zeros(1, 1, requires_grad=True)
    value = weighted_log_likelihood(weights, samples, mean_old, std_old, mean, std_old)
    (grad,) = th.autograd.grad(value, mean)
    assert grad.item() > 0  # ascent moves μ toward 2


def mstep_round(mstep_dual_max: float, steps: int, hold_duals: bool = False) -> tuple[float, ...]:
    """KL_mu, KL_sigma, alpha_mu, alpha_sigma after ``steps`` M-steps of one round.

    The batch: 16 states whose E-step weights all sit on one sample 2 old standard
    deviations above the old mean in each of the 3 action dimensions. The unconstrained
    weighted ML moves the mean there and doubles the standard deviation: KL_mu = 6 and
    KL_sigma = 0.96, three orders of magnitude above eps_mu = 0.005 and eps_sigma = 0.0005.
    ``hold_duals`` keeps the multipliers at 0 (the unconstrained M-step).
    """
    model = CVPO("MlpPolicy", make(), mstep_dual_max=mstep_dual_max, device="cpu", **TINY)
    gen = th.Generator().manual_seed(0)
    obs = th.randn(16, 11, generator=gen)
    with th.no_grad():
        mean_old, log_std_old, _ = model.policy.actor_old.get_action_dist_params(obs)
    std_old = log_std_old.exp()
    samples = mean_old + std_old * th.randn(16, *mean_old.shape, generator=gen)
    samples[0] = mean_old + 2.0 * std_old
    weights = th.zeros(16, 16)
    weights[0] = 1.0
    estep = EStep(samples, mean_old, std_old, weights, th.zeros(16, 16), 0.0)
    duals = th.zeros(2, requires_grad=True)  # as train() starts every round
    if hold_duals:
        optimizer: th.optim.Optimizer = th.optim.SGD([duals], lr=0.0)
    else:
        optimizer = th.optim.Adam([duals], lr=model.mstep_dual_lr)
    for _ in range(steps):
        logs = dict(model._mstep(obs, estep, duals, optimizer))
    return tuple(logs[k] for k in ("kl_mean", "kl_std", "mstep_dual_mean", "mstep_dual_std"))


def test_mstep_keeps_both_kls_near_their_bounds_when_the_ml_step_would_move_far():
    eps_mu, eps_sigma = 0.005, 0.0005
    free_mean, free_std, *_ = mstep_round(1e3, 300, hold_duals=True)
    assert free_mean > 100 * eps_mu and free_std > 100 * eps_sigma  # the pull is strong
    # the same round with the multipliers (their cap far above what they need)
    kl_mean, kl_std, alpha_mean, alpha_std = mstep_round(1e3, 300)
    assert 0.5 * eps_mu <= kl_mean <= 1.5 * eps_mu
    assert 0.5 * eps_sigma <= kl_std <= 2.0 * eps_sigma
    assert alpha_mean > 1.0 and alpha_std > 1.0  # the multipliers grew to hold them


@pytest.mark.xfail(
    strict=True,
    reason="library bug: FSRL's mstep_dual_max=0.5 caps the KL penalty far below what "
    "holds eps at K=16 (the likelihood is averaged over the K samples, so its pull on the "
    "mean is 1/K against alpha <= 0.5); KL_mu settles near 0.074 (15 x eps_mu) and "
    "KL_sigma near 0.057 (110 x eps_sigma)",
)
def test_mstep_with_the_default_multiplier_cap_keeps_the_kls_near_their_bounds():
    kl_mean, kl_std, *_ = mstep_round(0.5, 300)
    assert kl_mean <= 1.5 * 0.005 and kl_std <= 2.0 * 0.0005


# the algorithms -------------------------------------------------------------------------


def train_logs(model, tmp_path, steps: int) -> list[dict[str, str]]:
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(steps, log_interval=1)
    header, *rows = (tmp_path / "progress.csv").read_text().splitlines()
    return [dict(zip(header.split(","), row.split(","), strict=True)) for row in rows]


def test_cvpo_learns_and_logs(tmp_path):
    model = CVPO("MlpPolicy", make(), **TINY)
    before = [p.detach().clone() for p in model.actor.parameters()]
    logs = train_logs(model, tmp_path, 320)
    assert model._n_updates == 8 * 4  # rounds after steps 96, 128, ..., 320
    after = list(model.actor.parameters())
    assert any(not th.equal(a, b) for a, b in zip(before, after, strict=True))
    # actor_old is synced after every round
    for a, b in zip(model.policy.actor_old.parameters(), after, strict=True):
        assert th.equal(a, b)
    assert all(th.isfinite(p).all() for p in model.policy.parameters())
    assert model.cost_threshold == pytest.approx(1.25, abs=0.005)
    trained = [row for row in logs if row.get("train/eta")]
    assert trained and "rollout/ep_cost_mean" in logs[-1]
    for row in trained:
        # E-step: random Hopper steps rarely cost, E_q[Q_c] stays below xi, the dual's
        # gradient in lambda is xi - E_q[Q_c] > 0, and lambda sits at its floor 1e-6
        assert float(row["train/q_cost"]) < model.cost_threshold
        assert float(row["train/lambda"]) == pytest.approx(1e-6)
        # M-step: Adam at lr 5e-4 keeps both KLs inside their bounds in a round of 4 steps,
        # so the multipliers, which grow only while a KL exceeds its bound, stay at 0
        assert 0 < float(row["train/kl_mean"]) < model.mstep_kl_mean
        assert 0 < float(row["train/kl_std"]) < model.mstep_kl_std
        assert float(row["train/mstep_dual_mean"]) == float(row["train/mstep_dual_std"]) == 0.0
        assert math.isfinite(float(row["train/cost_critic_loss"]))
    # with an untrained critic the weights are flatter than the E-step's KL bound allows:
    # the dual's gradient in eta is eps - KL(q || uniform) > 0, so every one of the 32
    # Adam steps (lr 0.02) lowers eta from 1 by about the learning rate
    etas = [float(row["train/eta"]) for row in trained]
    assert all(b < a for a, b in itertools.pairwise(etas))
    assert model.eta == pytest.approx(1.0 - 32 * 0.02, abs=0.01)
    assert model.lagrange_multiplier == pytest.approx(1e-6)
    # the replay buffer holds the costs the env reported
    buffer = model.replay_buffer
    assert isinstance(buffer, CostReplayBuffer)
    assert buffer.costs[: buffer.pos].sum() == pytest.approx(
        sum(model.episode_costs.finished) + model.episode_costs.running.sum(), rel=1e-4
    )


def test_sac_lagrangian_learns_and_raises_lambda_over_the_limit(tmp_path):
    # Pendulum monitored against a box of half its range: random actions cost ~100 per episode
    env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
    model = SACLagrangian("MlpPolicy", env, cost_limit=10, **TINY)
    logs = train_logs(model, tmp_path, 640)  # three Pendulum episodes of 200 steps
    assert model.episode_costs.total_finished == 3
    assert model.lagrangian_multiplier > 0.001  # J_c > 10: λ rose, once per episode
    assert float(logs[-1]["rollout/ep_cost_mean"]) > 10
    assert float(logs[-1]["constraint/violation_rate"]) > 0  # the wrapper's metrics, unasked
    assert math.isfinite(float(logs[-1]["train/cost_critic_loss"]))


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_save_load_round_trip(algo, tmp_path):
    model = algo("MlpPolicy", make(), **TINY).learn(160)
    obs = np.stack([model.observation_space.sample() for _ in range(5)])
    actions, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model")
    loaded = algo.load(tmp_path / "model", env=make())
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], actions)
    assert loaded.cost_limit == 25.0
    for a, b in zip(
        loaded.policy.cost_critic.parameters(), model.policy.cost_critic.parameters(), strict=True
    ):
        assert th.equal(a, b)
    saved = model.policy.cost_critic.optimizer.state_dict()["state"][0]["exp_avg"]
    assert th.equal(loaded.policy.cost_critic.optimizer.state_dict()["state"][0]["exp_avg"], saved)
    if algo is CVPO:
        assert (loaded.eta, loaded.lagrange_multiplier) == (model.eta, model.lagrange_multiplier)
        assert loaded.sample_action_num == 16 and loaded.max_episode_steps == 1000
    loaded.learn(64, reset_num_timesteps=False)
    assert loaded.num_timesteps == 224


def test_progress_bar_counts_every_step(progress_bars, capsys):
    CVPO("MlpPolicy", make(), **TINY).learn(96, progress_bar=True)
    progress_bars.assert_completed(capsys.readouterr().out, 96)


@pytest.mark.parametrize("k", [0, 1])
def test_fewer_than_two_samples_is_an_error_naming_the_fix(k):
    with pytest.raises(InvalidSampleCountError, match=r"sample_action_num.*16"):
        CVPO("MlpPolicy", make(), sample_action_num=k)
    assert issubclass(InvalidSampleCountError, PolicyError)


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_missing_cost_is_an_error_at_the_first_step(algo):
    model = algo("MlpPolicy", gym.make("Hopper-v5"), **TINY)
    with pytest.raises(MissingCostError, match="info\\['cost'\\]"):
        model.learn(10)
    assert model.num_timesteps == 1


@pytest.mark.parametrize("algo", ALGORITHMS)
@pytest.mark.parametrize("limit", [0.0, -5.0, math.nan, math.inf])
def test_bad_cost_limit_is_an_error(algo, limit):
    with pytest.raises(InvalidCostLimitError):
        algo("MlpPolicy", make(), cost_limit=limit)


def test_other_bad_settings_are_errors():
    with pytest.raises(PolicyError, match="mstep_kl_std"):
        CVPO("MlpPolicy", make(), mstep_kl_std=0.0)
    with pytest.raises(PolicyError, match="n_steps"):
        SACLagrangian("MlpPolicy", make(), n_steps=3)
    env = make()
    with pytest.raises(PolicyError, match="CostReplayBuffer"):
        CVPO("MlpPolicy", env, replay_buffer_class=ReplayBuffer)


def test_cost_replay_buffer_samples_costs_with_their_transitions():
    box = spaces.Box(-10, 10, (1,))
    buffer = CostReplayBuffer(40, box, spaces.Box(-1, 1, (1,)), device="cpu", n_envs=2)
    for step in range(20):
        obs = np.array([[step], [100 + step]], dtype=np.float32)
        buffer.add(obs, obs, np.zeros((2, 1)), np.zeros(2), np.zeros(2),
                   [{"cost": float(step)}, {"cost": 100.0 + step}])  # fmt: skip
    data = buffer.sample(64)
    th.testing.assert_close(data.costs, data.observations)  # each cost beside its own obs


def test_policy_aliases_and_registered_names():
    from acrl_wrappers.plugins import default_host

    assert CVPO.policy_aliases == {"MlpPolicy": CVPOPolicy}
    assert SACLagrangian.policy_aliases == {"MlpPolicy": CostSACPolicy}
    acrl.load_plugins()
    registry = default_host().registry("algorithm")
    assert registry.get("cvpo").load() is CVPO
    assert registry.get("sac_lagrangian").load() is SACLagrangian


def test_readme_snippet_runs(capsys):
    from pathlib import Path

    readme = Path(__file__).resolve().parents[2] / "packages" / "acrl-policies" / "README.md"
    section = readme.read_text().split("## CVPO and SAC-Lagrangian")[1]
    snippet = section.split("```python\n")[1].split("```")[0]
    exec(compile(snippet, str(readme), "exec"), {})
    threshold, multiplier_ok = capsys.readouterr().out.split()
    assert threshold == "1.25" and multiplier_ok == "True"


@pytest.mark.parametrize("algorithm", [CVPO, SACLagrangian])
def test_cost_critic_estimate_is_the_pessimistic_twin_unless_asked_otherwise(algorithm):
    env = make()
    obs = th.as_tensor(np.stack([env.observation_space.sample() for _ in range(5)]))
    actions = th.rand(5, env.action_space.shape[0]) * 2 - 1
    for pessimistic, reduce in ((True, th.max), (False, th.min)):
        model = algorithm("MlpPolicy", env, pessimistic_cost_critic=pessimistic, seed=0)
        with th.no_grad():
            twins = th.cat(model.policy.cost_critic(obs, actions), dim=1)
            for target in (False, True):
                critic = model.policy.cost_critic_target if target else model.policy.cost_critic
                expected = reduce(th.cat(critic(obs, actions), dim=1), dim=1).values
                assert th.allclose(model.cost_q(obs, actions, target=target)[:, 0], expected)
        assert not th.allclose(twins[:, 0], twins[:, 1])  # the choice matters
