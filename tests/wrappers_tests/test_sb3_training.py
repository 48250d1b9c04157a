"""Stock SB3 / sb3-contrib agents learn through every wrapper; nothing infeasible is executed."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from sb3_contrib import TQC, TRPO
from stable_baselines3 import A2C, DDPG, PPO, SAC, TD3
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

import acrl_wrappers as acrl
from acrl_wrappers.sb3 import ConstraintMetricsCallback, DualReplayBuffer
from acrl_wrappers.testing import ActionProbe
from wrappers_tests.wrappers_helpers import MUJOCO_CONSTRAINTS, WRAPPERS, probed

ALGOS = {
    "SAC": (SAC, {"learning_starts": 50, "batch_size": 32}),
    "TD3": (TD3, {"learning_starts": 50, "batch_size": 32}),
    "DDPG": (DDPG, {"learning_starts": 50, "batch_size": 32}),
    "TQC": (TQC, {"learning_starts": 50, "batch_size": 32}),
    "PPO": (PPO, {"n_steps": 64, "batch_size": 32, "n_epochs": 2}),
    "A2C": (A2C, {"n_steps": 8}),
    "TRPO": (TRPO, {"n_steps": 64, "batch_size": 32}),
}


def small(algo: str) -> dict:
    """Tiny networks and a seed (a fresh dict: SB3 algorithms edit policy_kwargs in place)."""
    return {**ALGOS[algo][1], "policy_kwargs": {"net_arch": [32, 32]}, "seed": 0}


@pytest.mark.parametrize("enforce", sorted(WRAPPERS))
@pytest.mark.parametrize("algo", sorted(ALGOS))
def test_stock_agents_learn_through_every_wrapper(algo, enforce):
    env, probe, _ = probed("Reacher-v5", enforce)
    metrics = ConstraintMetricsCallback()
    model = ALGOS[algo][0]("MlpPolicy", env, **small(algo))
    model.learn(192, callback=metrics)
    assert metrics.steps == 192 and probe.steps > 0
    if enforce != "monitor":
        assert probe.infeasible == 0, f"{probe.infeasible} infeasible actions reached the simulator"
    else:
        assert probe.infeasible == metrics.violations  # the monitor hides nothing
    if enforce in ("reject", "automdp"):
        assert metrics.self_loops > 0 and probe.steps == metrics.steps - metrics.self_loops


def test_dual_replay_buffer_routes_self_loops_and_mixes_batches():
    env, probe, _ = probed("Reacher-v5", "automdp")
    model = SAC(
        "MlpPolicy",
        env,
        replay_buffer_class=DualReplayBuffer,
        replay_buffer_kwargs={"self_loop_ratio": 0.25, "decay_every": 100},
        **small("SAC"),
    )
    metrics = ConstraintMetricsCallback()
    model.learn(300, callback=metrics)
    buffer = model.replay_buffer
    assert buffer.self_loops.size() == metrics.self_loops > 0
    assert buffer.size() == probe.steps == buffer.real_steps
    assert buffer.self_loop_ratio == pytest.approx(0.25 * 0.99 ** (probe.steps // 100))
    batch = buffer.sample(64)
    n_loops = int(batch.self_loops.sum())
    assert n_loops == min(buffer.self_loops.size(), int(64 * buffer.self_loop_ratio))
    loops = batch.self_loops[:, 0] == 1
    assert np.allclose(batch.observations[loops].numpy(), batch.next_observations[loops].numpy())
    assert np.allclose(batch.reward_vectors[loops].numpy(), [0.0, -0.2])
    assert np.allclose(batch.rewards[loops].numpy(), -0.2)


@pytest.mark.parametrize("vec_cls", [DummyVecEnv, SubprocVecEnv])
def test_vector_envs_with_monitor_inside_report_the_task_episode(vec_cls):
    constraint = MUJOCO_CONSTRAINTS["Reacher-v5"]
    vec_env = make_vec_env(
        lambda: ActionProbe(gym.make("Reacher-v5"), acrl.make_constraint(constraint), keep=False),
        n_envs=2,
        seed=0,
        vec_env_cls=vec_cls,
        wrapper_class=acrl.AutoMDP,
        wrapper_kwargs={"constraint": constraint, "max_rejections": 3},
    )
    assert acrl.find_constraint(vec_env).spec["bound"] == 0.05
    metrics = ConstraintMetricsCallback()
    model = SAC("MlpPolicy", vec_env, replay_buffer_class=DualReplayBuffer, **small("SAC"))
    model.learn(600, callback=metrics)
    assert metrics.self_loops > 0 and len(metrics.episode_costs) >= 2
    assert {info["l"] for info in model.ep_info_buffer} == {50}  # simulator steps, not self-loops
    assert sum(vec_env.get_attr("infeasible")) == 0
    vec_env.close()


def test_callback_requires_an_acrl_wrapper():
    model = PPO("MlpPolicy", gym.make("Reacher-v5"), **small("PPO"))
    with pytest.raises(acrl.ConstraintError, match="not wrapped by an acrl wrapper"):
        model.learn(64, callback=ConstraintMetricsCallback())


def test_save_and_load_round_trip_through_a_wrapper(tmp_path):
    env, _, _ = probed("Reacher-v5", "automdp")
    model = SAC("MlpPolicy", env, replay_buffer_class=DualReplayBuffer, **small("SAC"))
    model.learn(120)
    model.save(tmp_path / "model")
    model.save_replay_buffer(tmp_path / "buffer")
    loaded = SAC.load(tmp_path / "model", env=env)
    loaded.load_replay_buffer(tmp_path / "buffer")
    obs, _ = env.reset(seed=1)
    np.testing.assert_allclose(
        model.predict(obs, deterministic=True)[0], loaded.predict(obs, deterministic=True)[0]
    )
    assert loaded.replay_buffer.self_loops.size() == model.replay_buffer.self_loops.size()
    loaded.learn(60, reset_num_timesteps=False)
