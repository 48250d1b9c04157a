"""DPre, DPro, DOpt and NFWPO: feasible executions under every enforcement, buffers, save/load."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch

import acrl_wrappers as acrl
from acrl_policies import NFWPO, DOpt, DPre, DPro
from acrl_policies.errors import NoDifferentiablePathError, NoTorchViolationError
from acrl_wrappers.testing import ActionProbe

ALGOS = {"DPre": DPre, "DPro": DPro, "DOpt": DOpt, "NFWPO": NFWPO}
TASKS = {"ACRL/ReacherL2-v0": "reacher-l2", "ACRL/HalfCheetahO20-v0": "halfcheetah-o20"}
SMALL = dict(learning_starts=100, batch_size=32, train_freq=1, gradient_steps=1,
             policy_kwargs={"net_arch": [32, 32]}, seed=0)  # fmt: skip


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    acrl.load_plugins()


def probed(task: str, enforce: str) -> tuple[gym.Env, ActionProbe]:
    """The task's raw env, a probe on it, and the task's constraint enforced above the probe."""
    c = acrl.make_constraint(TASKS[task])
    probe = ActionProbe(gym.make(task, enforce="none"), c, keep=False)
    return acrl.wrap(probe, c, enforce=enforce), probe


def extra(algo: str, task: str) -> dict:
    kwargs: dict = {"penalty": 1.0} if algo in ("DPre", "DOpt") else {}
    if algo == "NFWPO":
        kwargs["eta"] = 0.05 if "Reacher" in task else 0.01
    return kwargs


@pytest.mark.parametrize("enforce", ["project", "monitor"])
@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_every_executed_action_is_feasible(algo, task, enforce, progress_bars, capsys):
    env, probe = probed(task, enforce)
    model = ALGOS[algo]("MlpPolicy", env, **SMALL, **extra(algo, task))
    before = [p.detach().clone() for p in model.actor.parameters()]
    model.learn(300, progress_bar=True)
    captured = capsys.readouterr()
    progress_bars.assert_completed(captured.out + captured.err, 300)
    assert probe.steps == 300
    assert probe.infeasible == 0, f"{probe.infeasible} infeasible actions reached the simulator"
    assert model.safety_net.proposals == 300
    # the actor trained: every weight tensor moved (a zero gradient would leave them be)
    assert all(not torch.equal(a, b) for a, b in zip(before, model.actor.parameters(), strict=True))


@pytest.mark.parametrize("algo", ["DPre", "DPro"])
def test_the_buffer_stores_the_proposal_for_dpre_and_the_execution_for_dpro(algo):
    env, probe = probed("ACRL/ReacherL2-v0", "monitor")
    probe.keep = True
    model = ALGOS[algo]("MlpPolicy", env, **{**SMALL, "learning_starts": 300})
    model.learn(200)
    c = acrl.make_constraint("reacher-l2")
    stored = model.policy.unscale_action(model.replay_buffer.actions[:200, 0])
    executed = np.array(probe.actions[:200])
    if algo == "DPro":
        np.testing.assert_allclose(stored, executed, atol=1e-6)
    else:  # uniform warm-up proposals: most lie outside the small ball and were projected
        assert (~c.contains(stored)).mean() > 0.5
        assert c.contains(executed).all()
        moved = np.abs(stored - executed).max(axis=1) > 1e-6
        assert moved.sum() == model.safety_net.projections


@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_save_load_round_trip_reproduces_predictions(algo, tmp_path):
    env, _ = probed("ACRL/HalfCheetahO20-v0", "project")
    model = ALGOS[algo]("MlpPolicy", env, **SMALL, **extra(algo, "HalfCheetah"))
    model.learn(150)
    obs = np.stack([env.observation_space.sample() for _ in range(8)])
    expected, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "model.zip")
    loaded = ALGOS[algo].load(tmp_path / "model.zip", env=env)
    got, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert loaded.constraint == model.constraint and loaded.projection == model.projection
    assert acrl.make_constraint("halfcheetah-o20").contains(got, obs).all()


def test_dopt_differentiates_through_its_projection_layer():
    env, _ = probed("ACRL/ReacherL2-v0", "monitor")
    model = DOpt("MlpPolicy", env, **SMALL)
    obs = torch.as_tensor(np.stack([env.observation_space.sample() for _ in range(16)]))
    actions = model.actor(obs.float())
    c = acrl.make_constraint("reacher-l2")
    assert c.contains(actions.detach().double().numpy()).all()
    actions.sum().backward()
    grads = [p.grad for p in model.actor.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert sum(float(g.abs().sum()) for g in grads) > 0.0


def test_nfwpo_targets_are_feasible_and_use_the_closed_form_oracle():
    env, _ = probed("ACRL/HalfCheetahO20-v0", "monitor")
    model = NFWPO("MlpPolicy", env, **SMALL)
    model.learn(200)  # 100 updates, the actor every second one (TD3's policy_delay)
    assert model.oracle.method == "closed-form" and model.oracle.solves == 50 * 32
    c = model.constraint
    obs = np.random.default_rng(0).normal(0.0, 15.0, size=(64, 17)).astype(np.float32)
    obs = obs.astype(np.float64)  # the weights the model reads are float32 observations
    obs_t = torch.as_tensor(obs, dtype=torch.float32)
    projected = model._project(model._env_units(model.actor(obs_t)).detach(), obs_t)
    vertex = model.oracle(torch.randn(64, 6, dtype=torch.float64), obs_t)
    from acrl_policies.nfwpo import frank_wolfe_targets

    target = frank_wolfe_targets(projected, vertex, model.eta).numpy()
    assert c.violation(target, obs).max() <= 1e-9 and c.violation(vertex.numpy(), obs).max() <= 1e-9


def test_a_set_without_a_differentiable_projection_is_refused_at_construction():
    quad = {"name": "quadratic", "Q": [[2.0]], "bound": 0.5, "low": -2.0, "high": 2.0}
    env = acrl.wrap(gym.make("Pendulum-v1"), quad, enforce="project")
    with pytest.raises(NoDifferentiablePathError, match="DPre or DPro"):
        DOpt("MlpPolicy", env)
    with pytest.raises(NoDifferentiablePathError, match="NFWPO needs one"):
        NFWPO("MlpPolicy", env)
    DPre("MlpPolicy", env, penalty=1.0)  # a projection and a torch violation are enough


def test_a_penalty_without_a_torch_violation_is_refused_at_construction():
    raw = gym.make("ACRL/HalfCheetahO20-v0", enforce="none")
    env = acrl.wrap(raw, "halfcheetah-ma", enforce="monitor")  # a plugin family, numpy rows
    with pytest.raises(NoTorchViolationError, match="penalty=0"):
        DPre("MlpPolicy", env, penalty=1.0)
    DPre("MlpPolicy", env)  # without the penalty the family's numpy projector suffices


@pytest.mark.parametrize("name", ["dpre", "dpro", "dopt", "nfwpo"])
def test_registered_for_acrl_train(name):
    from acrl_bench.algorithms import algorithm_class, check_hyperparameters

    cls = algorithm_class(name)
    assert cls is {"dpre": DPre, "dpro": DPro, "dopt": DOpt, "nfwpo": NFWPO}[name]
    check_hyperparameters(cls, {"penalty": 1.0} if name != "nfwpo" else {"eta": 0.05})
