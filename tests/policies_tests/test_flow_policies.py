"""FlowPG and CVFlowSAC: learning, feasibility of every executed action, save/load, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3.common.logger import configure
from stable_baselines3.common.noise import ActionNoise
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

import acrl_wrappers as acrl
from acrl_policies import CVFlowSAC, FlowPG
from acrl_policies.common.flow_head import LATENT_SCALE
from acrl_policies.errors import FlowCheckpointError, FlowError
from acrl_policies.flows import (
    ConditionalRealNVP,
    Conditioning,
    FlowCheckpoint,
    task_condition,
    train_flow,
    visited_conditions,
)
from acrl_wrappers.testing import ActionProbe

ALGOS = {"FlowPG": FlowPG, "CVFlowSAC": CVFlowSAC}
TASKS = {"ACRL/ReacherL2-v0": "reacher-l2", "ACRL/HalfCheetahO20-v0": "halfcheetah-o20"}
CONDITIONS = {"reacher-l2": "uniform:-10,10", "halfcheetah-o20": "normal:15"}


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    acrl.load_plugins()


@pytest.fixture(scope="module")
def flows(tmp_path_factory) -> dict[tuple[str, str], str]:
    """Small flows trained briefly, saved once per (constraint, method)."""
    out = {}
    folder = tmp_path_factory.mktemp("flows")
    for constraint in TASKS.values():
        for method in ("flowpg", "cvflow"):
            ckpt = train_flow(
                constraint,
                method=method,
                epochs=1,
                steps_per_epoch=100,
                n_layers=2,
                hidden=32,
                n_samples=5000,
                eval_samples=1000,
                condition=CONDITIONS[constraint],
            )
            path = folder / f"{constraint}-{method}.flow"
            ckpt.save(path)
            out[(constraint, method)] = str(path)
    return out


def make(algo: str, env, flow: str, **kwargs):
    if algo == "FlowPG":  # train every step, not after each (1000-step) episode
        kwargs = {"train_freq": 1, "gradient_steps": 1, **kwargs}
    return ALGOS[algo](
        "MlpPolicy",
        env,
        flow=flow,
        learning_starts=100,
        batch_size=32,
        policy_kwargs={"net_arch": [32, 32]},
        seed=0,
        **kwargs,
    )


def method_of(algo: str) -> str:
    return "flowpg" if algo == "FlowPG" else "cvflow"


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_learns_and_sends_only_feasible_actions(algo, task, flows):
    constraint = TASKS[task]
    c = acrl.make_constraint(constraint)
    # the probe sits outside the task's own enforcement: it sees what the algorithm sends
    probe = ActionProbe(gym.make(task, enforce="project"), c, keep=False)
    model = make(algo, probe, flows[(constraint, method_of(algo))])
    flow_state = {k: v.clone() for k, v in model.flow_head.state_dict().items()}
    proposed = record_proposals(model)
    model.learn(300, progress_bar=True)
    assert probe.steps == 300
    assert probe.infeasible == 0, f"{probe.infeasible} infeasible actions left the algorithm"
    assert model.safety_net.proposals == 300
    # every proposal the flow (plus noise, clipped to the box) left infeasible was
    # projected, and only those: the count a fresh check of the proposals gives, and the
    # projector's own count of solves
    low, high = model.action_space.low, model.action_space.high
    infeasible = sum(
        int((c.violation(np.clip(a, low, high), o if c.obs_dim else None) > c.tol).sum())
        for a, o in proposed
    )
    solves = model._projector.solves if model._projector is not None else 0
    assert model.safety_net.projections == model.safety_net.infeasible == infeasible == solves
    assert model.replay_buffer.size() == 300
    # the flow is frozen: neither its weights nor its buffers moved while the policy learned
    for key, value in model.flow_head.state_dict().items():
        assert th.equal(value, flow_state[key]), key


def record_proposals(model) -> list[tuple[np.ndarray, np.ndarray]]:
    """Record the (actions, observations) batches the algorithm hands its safety net."""
    proposed: list[tuple[np.ndarray, np.ndarray]] = []
    enforce = model._enforce

    def spy(actions, obs):
        proposed.append((np.array(actions, dtype=np.float64), np.array(obs, dtype=np.float64)))
        return enforce(actions, obs)

    model._enforce = spy
    return proposed


def test_flowpg_actor_learns_through_the_frozen_flow(flows):
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = make("FlowPG", env, flows[("reacher-l2", "flowpg")], device="cpu")  # CPU tensors below
    actor, flow = model.policy.actor, model.policy.actor.flow_head.flow
    flow_state = {k: v.clone() for k, v in flow.state_dict().items()}
    mlp_before = [p.detach().clone() for p in actor.mu.parameters()]
    model.learn(150)  # 50 DDPG updates after 100 warm-up steps
    for key, value in flow.state_dict().items():  # the flow did not move ...
        assert th.equal(value, flow_state[key]), key
    assert all(not p.requires_grad and p.grad is None for p in flow.parameters())
    # the target actor's copy only takes float rounding from Polyak-averaging it with itself
    target_flow = model.policy.actor_target.flow_head.flow.state_dict()
    for key, value in flow_state.items():
        th.testing.assert_close(target_flow[key], value, rtol=1e-5, atol=1e-5)
    # ... while the actor in front of it did, which it can only through the flow
    assert any(not th.equal(a, b) for a, b in zip(mlp_before, actor.mu.parameters(), strict=True))

    # the actor loss reaches the pre-flow output through the flow's Jacobian
    obs = th.as_tensor(model.replay_buffer.observations[:32, 0])
    latent = actor.latent(obs)
    latent.retain_grad()
    actions = actor.flow_head(latent, obs)
    actions.retain_grad()
    (-model.critic.q1_forward(obs, actions).mean()).backward()
    assert latent.grad is not None and latent.grad.abs().sum() > 0
    assert not th.allclose(latent.grad, actions.grad)  # the flow is not bypassed
    assert all(p.grad is None for p in flow.parameters())
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in actor.mu.parameters())


class ConstantNoise(ActionNoise):
    """A fixed "noise" vector, so where it was added can be read off the action."""

    def __init__(self, value: np.ndarray) -> None:
        super().__init__()
        self.value = value

    def __call__(self) -> np.ndarray:
        return self.value.copy()


@pytest.mark.parametrize("noise_space", ["latent", "action"])
def test_flowpg_adds_its_exploration_noise_where_noise_space_says(noise_space, flows):
    env = gym.make("ACRL/ReacherL2-v0", enforce="none")  # FlowPG's own projection only
    noise = np.array([0.3, -0.6])
    model = make(
        "FlowPG",
        env,
        flows[("reacher-l2", "flowpg")],
        noise_space=noise_space,
        action_noise=ConstantNoise(noise),
        device="cpu",
    )
    model._setup_learn(10)
    model._last_obs = np.array([env.observation_space.sample()])
    action, _ = model._sample_action(learning_starts=0, action_noise=model.action_noise)
    obs_t = th.as_tensor(model._last_obs, dtype=th.float32)
    with th.no_grad():
        latent = model.policy.actor.latent(obs_t)
        if noise_space == "latent":  # noise before the flow, clipped to the latent box
            scaled = model.flow_head((latent + th.as_tensor(noise)).clamp(-1, 1).float(), obs_t)
            expected = scaled.numpy()
        else:  # noise on the final action, clipped to the action box
            expected = np.clip(model.flow_head(latent, obs_t).numpy() + noise, -1, 1)
    expected = model._enforce(model.policy.unscale_action(expected), model._last_obs)
    np.testing.assert_allclose(action, expected, atol=1e-6)


def test_an_unknown_noise_space_is_refused(flows):
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    with pytest.raises(FlowError, match="noise_space"):
        make("FlowPG", env, flows[("reacher-l2", "flowpg")], noise_space="obs")


def test_the_flow_head_keeps_saturated_latents_off_the_boxs_faces(flows):
    """A box-onto-box flow maps faces onto faces: the head scales latents by 0.995."""
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = make("FlowPG", env, flows[("reacher-l2", "flowpg")], device="cpu")
    head = model.flow_head
    obs = th.as_tensor(np.array([env.observation_space.sample()]), dtype=th.float32)
    corner = th.ones(1, 2)
    y = obs[:, head.index]
    expected = head.flow.actions(corner * LATENT_SCALE, y)
    low, high = head.low, head.high
    th.testing.assert_close(head(corner, obs).double(), 2 * (expected - low) / (high - low) - 1)
    assert 0.99 <= LATENT_SCALE < 1.0


def test_replay_buffers_store_what_each_method_learns_from(flows):
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    flowpg = make("FlowPG", env, flows[("reacher-l2", "flowpg")])
    flowpg.learn(150)
    c = acrl.make_constraint("reacher-l2")
    stored = flowpg.replay_buffer.actions[:150, 0]
    assert c.contains(stored).all()  # FlowPG stores the executed, feasible actions
    cvflow = make("CVFlowSAC", env, flows[("reacher-l2", "cvflow")])
    cvflow.learn(150)
    latent = cvflow.replay_buffer.actions[:150, 0]
    assert np.abs(latent).max() <= 1.0 and not c.contains(latent).all()  # latent actions


@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_save_load_round_trip_reproduces_predictions_without_the_flow_file(algo, flows, tmp_path):
    task, constraint = "ACRL/HalfCheetahO20-v0", "halfcheetah-o20"
    flow_file = tmp_path / "moved.flow"
    FlowCheckpoint.load(flows[(constraint, method_of(algo))]).save(flow_file)
    env = gym.make(task, enforce="project")
    model = make(algo, env, str(flow_file))
    model.learn(200)
    model.save(tmp_path / "model.zip")
    flow_file.unlink()  # the model zip carries the flow's weights and configuration
    loaded = ALGOS[algo].load(tmp_path / "model.zip", env=env)
    rng = np.random.default_rng(0)
    obs = rng.normal(0.0, 5.0, size=(16, 17)).astype(np.float32)
    for deterministic in (True,):
        expected, _ = model.predict(obs, deterministic=deterministic)
        got, _ = loaded.predict(obs, deterministic=deterministic)
        assert np.array_equal(expected, got)
    assert acrl.make_constraint(constraint).contains(got, obs.astype(np.float64)).all()
    loaded.learn(100)  # and it keeps training


def test_without_a_flow_the_algorithm_trains_one_for_the_envs_constraint():
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = CVFlowSAC(
        "MlpPolicy",
        env,
        learning_starts=20,
        policy_kwargs={"net_arch": [16]},
        seed=0,
        flow_kwargs={
            "epochs": 1,
            "steps_per_epoch": 30,
            "n_layers": 2,
            "hidden": 16,
            "eval_samples": 500,
        },
    )
    assert model.constraint == acrl.make_constraint("reacher-l2")
    assert model.policy.flow_config["method"] == "cvflow"
    assert len(model.policy.flow_config["metrics"]) == 2


TINY_FLOW = {
    "epochs": 1,
    "steps_per_epoch": 2,
    "n_layers": 1,
    "hidden": 8,
    "n_samples": 500,
    "eval_samples": 200,
}


def test_an_automatic_flow_trains_on_the_conditions_the_task_declares():
    env = gym.make("ACRL/HalfCheetahO20-v0", enforce="project")  # declares U[-20, 20]
    model = FlowPG("MlpPolicy", env, learning_starts=10, seed=0, flow_kwargs=TINY_FLOW)
    assert model.policy.flow_config["condition"] == {"kind": "uniform", "low": -20.0, "high": 20.0}
    given = FlowPG(
        "MlpPolicy",
        env,
        learning_starts=10,
        seed=0,
        flow_kwargs={**TINY_FLOW, "condition": "normal:15"},
    )
    assert given.policy.flow_config["condition"] == {"kind": "normal", "std": 15.0}


def test_without_a_declaration_the_conditions_are_measured_on_the_env():
    env = acrl.wrap(gym.make("Hopper-v5"), "hopper-m10")  # a plain env: nothing declared
    cond = Conditioning(acrl.make_constraint("hopper-m10"))
    dist, source = task_condition(env, cond, steps=300, seed=0)
    assert source == "measured over 300 random-action steps"
    y = visited_conditions(env, cond, steps=300, seed=0)
    assert dist.entries() == 3  # one range per velocity entry
    assert (np.asarray(dist.low) < y.min(0)).all() and (y.max(0) < np.asarray(dist.high)).all()
    model = FlowPG(
        "MlpPolicy",
        env,
        learning_starts=10,
        seed=0,
        flow_kwargs={**TINY_FLOW, "condition_steps": 300},
    )
    measured = model.policy.flow_config["condition"]  # on the model's own (vectorised) env
    assert measured["kind"] == "uniform" and len(measured["low"]) == len(measured["high"]) == 3


def test_a_declared_distribution_for_other_entries_is_refused_before_training():
    env = gym.make(
        "ACRL/HopperM10-v0",
        enforce="project",
        condition_distribution={"kind": "normal", "std": [1.0, 2.0]},
    )
    with pytest.raises(FlowError, match=r"values for 2 entries.*conditioned on 3"):
        FlowPG("MlpPolicy", env, seed=0, flow_kwargs=TINY_FLOW)


def test_a_flow_for_another_constraint_is_refused(flows):
    env = gym.make("ACRL/HalfCheetahO20-v0", enforce="project")
    with pytest.raises(FlowCheckpointError, match="acts in 2 dimensions but the constraint has 6"):
        make("FlowPG", env, flows[("reacher-l2", "flowpg")])
    other = acrl.wrap(gym.make("HalfCheetah-v5"), acrl.make_constraint("halfcheetah-o20", bound=5))
    with pytest.raises(FlowCheckpointError, match="trained for constraint"):
        make("CVFlowSAC", other, flows[("halfcheetah-o20", "cvflow")])


def test_a_condition_outside_the_observation_is_refused():
    c = acrl.make_constraint("hopper-m10")  # reads obs[8:11]
    ckpt = FlowCheckpoint(ConditionalRealNVP(3, 3, n_layers=2, hidden=8), c, c.obs_indices)
    hopper = gym.make("Hopper-v5")
    short = gym.wrappers.TransformObservation(
        hopper, lambda obs: obs[:8], gym.spaces.Box(-np.inf, np.inf, (8,), np.float64)
    )
    with pytest.raises(
        FlowError, match=r"entries \[8, 9, 10\], but the env's observations have only 8"
    ):
        make("FlowPG", short, ckpt)


def test_no_flow_and_no_constraint_is_an_error_saying_what_to_do():
    with pytest.raises(FlowError, match="needs a flow: pass flow="):
        FlowPG("MlpPolicy", gym.make("Reacher-v5"))


def test_normalised_observations_are_refused(flows):
    venv = VecNormalize(DummyVecEnv([lambda: gym.make("ACRL/HalfCheetahO20-v0")]))
    with pytest.raises(FlowError, match="norm_obs=False"):
        make("CVFlowSAC", venv, flows[("halfcheetah-o20", "cvflow")])


def test_constraint_metrics_are_logged(flows):
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = make("CVFlowSAC", env, flows[("reacher-l2", "cvflow")])
    model.set_logger(configure(None, []))
    recorded = {}
    original = model.logger.dump

    def capture(step: int = 0) -> None:
        recorded.update(model.logger.name_to_value)
        original(step)

    model.logger.dump = capture
    model.learn(200, log_interval=1)
    assert "constraint/policy_projection_rate" in recorded
    assert "constraint/violation_rate" in recorded  # the wrappers' callback was added


@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_several_envs_at_once(algo, flows):
    c = acrl.make_constraint("halfcheetah-o20")
    probes: list[ActionProbe] = []

    def make_env():
        probes.append(ActionProbe(gym.make("ACRL/HalfCheetahO20-v0", enforce="project"), c))
        return probes[-1]

    venv = DummyVecEnv([make_env, make_env])
    model = make(algo, venv, flows[("halfcheetah-o20", method_of(algo))])
    model.learn(200)
    assert [p.steps for p in probes] == [100, 100]
    assert sum(p.infeasible for p in probes) == 0
    actions, _ = model.predict(venv.reset(), deterministic=True)
    assert actions.shape == (2, 6)
