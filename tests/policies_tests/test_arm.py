"""AcceptanceRejection: feasible predictions for stock SB3 models, batched proposals, errors."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from sb3_contrib import TQC
from stable_baselines3 import A2C, PPO, SAC, TD3
from stable_baselines3.common.noise import NormalActionNoise

import acrl_wrappers as acrl
from acrl_policies import AcceptanceRejection
from acrl_policies.errors import AcceptanceRejectionError, MissingConstraintError


def small() -> dict:
    return {"net_arch": [16]}  # a fresh dict each time: SB3 edits policy_kwargs in place


MODELS = {
    "SAC": lambda env: SAC("MlpPolicy", env, policy_kwargs=small(), seed=0),
    "TQC": lambda env: TQC("MlpPolicy", env, policy_kwargs=small(), seed=0),
    "TD3": lambda env: TD3(
        "MlpPolicy",
        env,
        policy_kwargs=small(),
        seed=0,
        action_noise=NormalActionNoise(np.zeros(6), np.full(6, 0.3)),
    ),
    "PPO": lambda env: PPO("MlpPolicy", env, policy_kwargs=small(), seed=0),
    "A2C": lambda env: A2C("MlpPolicy", env, policy_kwargs=small(), seed=0),
}


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    acrl.load_plugins()
    torch.set_num_threads(1)


def states(env: gym.Env, n: int) -> np.ndarray:
    """Observations visited by random actions (realistic joint velocities)."""
    obs, _ = env.reset(seed=0)
    out = []
    for _ in range(n):
        out.append(obs)
        obs, *_ = env.step(env.action_space.sample() * 0.1)
    return np.stack(out)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_predict_returns_feasible_actions_for_any_stock_model(name):
    env = gym.make("ACRL/HalfCheetahO20-v0", enforce="project")
    env.action_space.seed(0)
    arm = AcceptanceRejection(MODELS[name](env), max_proposals=50, seed=0)
    c = acrl.find_constraint(env)
    obs = states(env, 20) * 4  # faster joints: a tighter constraint, some rejections
    for deterministic in (False, True):
        actions, _ = arm.predict(obs, deterministic=deterministic)
        assert actions.shape == (20, 6) and c.contains(actions, obs).all()
    single, _ = arm.predict(obs[0])
    assert single.shape == (6,) and c.contains(single, obs[0])
    assert arm.steps == 41 and arm.accepted + arm.projections == arm.steps


@pytest.mark.parametrize("name", ["SAC", "TD3", "PPO"])
def test_proposals_are_one_forward_pass_and_one_violation_call(name):
    env = gym.make("ACRL/HalfCheetahO20-v0", enforce="project")
    model = MODELS[name](env)
    arm = AcceptanceRejection(model, max_proposals=32, seed=0)
    calls = [0]
    policy = model.policy
    # the module computing the distribution's mean: it runs once per forward pass
    net = {"PPO": "action_net", "SAC": "actor.mu", "TD3": "actor"}[name]
    net = policy.get_submodule(net)
    net.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    rows = []
    check = arm.constraint._violation
    arm.constraint._violation = lambda a, o: (rows.append(len(a)), check(a, o))[1]
    arm.predict(states(env, 7))
    assert calls[0] == 1
    assert rows[0] == 7 * 32 and 7 * 32 not in rows[1:]  # later 1-row checks: projections


def test_feasible_policy_is_accepted_at_the_first_proposal():
    env = gym.make("Pendulum-v1")
    box = {"name": "box", "dim": 1, "low": -2.0, "high": 2.0}  # the action space itself
    arm = AcceptanceRejection(SAC("MlpPolicy", env, policy_kwargs=small(), seed=0), box)
    arm.predict(np.zeros((10, 3), dtype=np.float32))
    assert (arm.steps, arm.proposals, arm.accepted, arm.projections) == (10, 10, 10, 0)
    assert arm.acceptance_rate == 1.0


def test_projection_fallback_after_max_proposals():
    env = gym.make("Pendulum-v1")
    tiny = {"name": "box", "dim": 1, "low": -1e-3, "high": 1e-3}
    arm = AcceptanceRejection(
        PPO("MlpPolicy", env, policy_kwargs=small(), seed=0), tiny, max_proposals=2, seed=0
    )
    actions, _ = arm.predict(np.zeros((10, 3), dtype=np.float32))
    assert np.all(np.abs(actions) <= 1e-3)
    assert arm.projections >= 9 and arm.proposals == 2 * arm.projections + arm.accepted


def test_deploys_a_loaded_model_without_an_env(tmp_path):
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    SAC("MlpPolicy", env, policy_kwargs=small(), seed=0).save(tmp_path / "sac.zip")
    model = SAC.load(tmp_path / "sac.zip")
    with pytest.raises(MissingConstraintError, match="constraint="):
        AcceptanceRejection(model)
    arm = AcceptanceRejection(model, "reacher-l2", seed=0)
    obs = states(env, 10)
    actions, _ = arm.predict(obs)
    assert arm.constraint.contains(actions).all()


def test_bad_input_raises_with_the_fix():
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = SAC("MlpPolicy", env, policy_kwargs=small(), seed=0)
    for bad in (0, -1, 2.5):
        with pytest.raises(AcceptanceRejectionError, match="max_proposals"):
            AcceptanceRejection(model, max_proposals=bad)
    with pytest.raises(MissingConstraintError, match=r"acrl\.wrap"):
        AcceptanceRejection(SAC("MlpPolicy", gym.make("Pendulum-v1"), policy_kwargs=small()))
    with pytest.raises(AcceptanceRejectionError, match="gSDE"):
        AcceptanceRejection(SAC("MlpPolicy", env, use_sde=True, policy_kwargs=small()))
    with pytest.raises(AcceptanceRejectionError, match="action dims"):
        AcceptanceRejection(model, {"name": "box", "dim": 3})
