"""ACRL/HalfCheetahSlew-v0: |a_t - a_{t-1}| <= 0.2 per component, and methods on it.

The limit is checked on the simulator's own control input; ARAM, a CV-Flow policy and
`acrl train` run on the task (smoke tests).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.testing import ActionProbe

TASK = "ACRL/HalfCheetahSlew-v0"
SMALL = {"learning_starts": 50, "batch_size": 32, "policy_kwargs": {"net_arch": [32, 32]}}

acrl.load_plugins()


def test_the_task_observes_the_previous_action_and_carries_the_slew_constraint():
    env = gym.make(TASK, enforce="none")
    c = acrl.find_constraint(env)
    assert c.family == "slew-rate" and c.spec["delta"] == 0.2
    assert c.obs_indices == list(range(17, 23))
    obs, _ = env.reset(seed=0)
    assert obs.shape == (23,) and not obs[17:].any()
    assert acrl.make_constraint("HC+Slew_0.2") == c


@pytest.mark.parametrize("enforce", ["project", "reject", "automdp"])
def test_executed_controls_never_change_by_more_than_the_limit(enforce):
    env = gym.make(TASK, enforce=enforce)
    sim = env.unwrapped
    env.action_space.seed(0)
    env.reset(seed=0)
    previous = np.zeros(6)
    executed = 0
    for _ in range(300):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        if info["constraint"]["enforcement"] != "rejected":  # the simulator was stepped
            ctrl = sim.data.ctrl.copy()
            assert np.abs(ctrl - previous).max() <= 0.2 + 1e-6
            previous, executed = ctrl, executed + 1
        if terminated or truncated:
            env.reset()
            previous = np.zeros(6)
    assert executed > 0


def test_vector_envs_of_the_task_are_checked_in_one_call():
    envs = acrl.wrap(
        gym.make_vec(TASK, num_envs=4, vectorization_mode="sync", enforce="none"), "HC+Slew_0.2"
    )
    envs.reset(seed=0)
    sims = [e.unwrapped for e in envs.unwrapped.envs]
    for step in range(1, 5):
        *_, info = envs.step(np.ones((4, 6)))
        assert set(info["constraint"]["enforcement"]) == {"projected"}
        np.testing.assert_allclose([s.data.ctrl for s in sims], np.full((4, 6), 0.2 * step))
    *_, info = envs.step(np.ones((4, 6)))  # 0.8 -> 1.0 is within the limit
    assert set(info["constraint"]["enforcement"]) == {"none"}


def test_aram_learns_on_the_task_and_sends_only_feasible_actions():
    aram = pytest.importorskip("acrl_policies").ARAM
    c = acrl.make_constraint("halfcheetah-slew02")
    probe = ActionProbe(gym.make(TASK, enforce="project"), c, keep=False)
    model = aram("MlpPolicy", probe, max_proposals=20, seed=0, **SMALL)
    model.learn(120)
    assert probe.steps == 120 and probe.infeasible == 0


def test_a_cv_flow_policy_learns_on_the_task(tmp_path):
    policies = pytest.importorskip("acrl_policies")
    from acrl_policies.flows import train_flow

    flow = train_flow(
        "halfcheetah-slew02",
        method="cvflow",
        epochs=1,
        steps_per_epoch=20,
        n_layers=2,
        hidden=32,
        eval_samples=500,
        condition="uniform:-1,1",  # the previous action lies in the action box
    )
    path = tmp_path / "slew.flow"
    flow.save(path)
    c = acrl.make_constraint("halfcheetah-slew02")
    probe = ActionProbe(gym.make(TASK, enforce="project"), c, keep=False)
    model = policies.CVFlowSAC("MlpPolicy", probe, flow=str(path), seed=0, **SMALL)
    model.learn(100)
    assert probe.steps == 100 and probe.infeasible == 0


def test_acrl_train_runs_on_the_task(tmp_path):
    pytest.importorskip("acrl_bench")
    from click.testing import CliRunner

    from acrl_wrappers.cli import make_cli

    result = CliRunner().invoke(
        make_cli(),
        [
            "train",
            "--algo",
            "sac",
            "--env",
            TASK,
            "-n",
            "150",
            "--no-progress",
            "--log-root",
            str(tmp_path),
            "-p",
            "learning_starts=50",
            "-p",
            "batch_size=32",
            "-p",
            'policy_kwargs={"net_arch": [32, 32]}',
        ],
    )
    assert result.exit_code == 0, result.output
    assert list(tmp_path.rglob("model.zip"))
