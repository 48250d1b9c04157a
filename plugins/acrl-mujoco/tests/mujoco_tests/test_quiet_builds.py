"""Building and listing the MuJoCo tasks writes no file into the cwd and prints no warning.

MuJoCo's default warning handler prints ``WARNING: ...`` and appends to ``MUJOCO_LOG.TXT``
in the current directory; Gymnasium warns about its v4 envs. Neither is the user's business
when they list or build this plugin's tasks. Each check runs in a fresh interpreter in an
empty directory, so it sees what a user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_mujoco import envs as task_envs
from acrl_mujoco.plugin import CONSTRAINED_TASKS
from acrl_mujoco.velocity import VELOCITY_THRESHOLDS
from acrl_wrappers.plugins import default_host

acrl.load_plugins()

VELOCITY_TASKS = [f"ACRL/Safe{task}Velocity-v1" for task in VELOCITY_THRESHOLDS]

BUILD_AND_STEP = """
import sys
import gymnasium as gym
import acrl_wrappers as acrl

acrl.load_plugins()
for task in sys.argv[1:]:
    env = gym.make(task)
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(5):
        env.step(env.action_space.sample())
    env.close()
print("built", len(sys.argv) - 1)
"""


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "default"}
    return subprocess.run(
        [sys.executable, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )


def _assert_quiet(tmp_path, result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(tmp_path)) == [], "files written into the cwd"
    for noise in ("settotalmass", "deprecat", "Warning", "WARNING"):
        assert noise not in result.stderr, result.stderr
        assert noise not in result.stdout, result.stdout


def test_acrl_envs_writes_nothing_and_prints_no_warning(tmp_path):
    result = _run(tmp_path, "-m", "acrl_wrappers", "envs")
    _assert_quiet(tmp_path, result)
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()[1:]}
    # action dims without building: from the constraint, or declared at registration
    assert rows["ACRL/SafeHalfCheetahVelocity-v1"][1:4] == ["-", "6", "1000"]
    assert rows["ACRL/SafeHumanoidVelocity-v1"][1:4] == ["-", "17", "1000"]
    assert rows["ACRL/HalfCheetahO20-v0"][1:4] == ["halfcheetah-o20", "6", "1000"]


def test_acrl_envs_builds_no_env(monkeypatch):
    from click.testing import CliRunner

    from acrl_wrappers.cli import make_cli

    def refuse(*args, **kwargs):
        raise AssertionError(f"acrl envs built an env: {args} {kwargs}")

    cli = make_cli()
    monkeypatch.setattr(gym, "make", refuse)
    result = CliRunner().invoke(cli, ["envs", "--json"])
    assert result.exit_code == 0, result.output
    found = {e["id"]: e["action_dim"] for e in json.loads(result.output)}
    assert all(isinstance(found[task], int) for task in [*VELOCITY_TASKS, *CONSTRAINED_TASKS])


def test_building_and_stepping_the_tasks_writes_nothing(tmp_path):
    tasks = sorted(VELOCITY_TASKS) + sorted(CONSTRAINED_TASKS)
    result = _run(tmp_path, "-c", BUILD_AND_STEP, *tasks)
    _assert_quiet(tmp_path, result)
    assert result.stdout.strip() == f"built {len(tasks)}"


@pytest.mark.parametrize("version", ["v4", "v5"])
def test_quiet_half_cheetah_is_gymnasiums_half_cheetah(version):
    """Same compiled model and the same trajectory as Gymnasium's HalfCheetah (which warns)."""
    quiet = getattr(task_envs, f"HalfCheetah{version.upper()}Env")()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = gym.make(f"HalfCheetah-{version}").unwrapped
    for name in ("body_mass", "body_inertia", "body_subtreemass", "dof_M0", "dof_invweight0"):
        np.testing.assert_array_equal(getattr(quiet.model, name), getattr(stock.model, name))
    obs_q, _ = quiet.reset(seed=3)
    obs_s, _ = stock.reset(seed=3)
    rng = np.random.default_rng(0)
    for _ in range(200):
        np.testing.assert_array_equal(obs_q, obs_s)
        action = rng.uniform(-1, 1, 6)
        obs_q, reward_q, *_ = quiet.step(action)
        obs_s, reward_s, *_ = stock.step(action)
        assert reward_q == reward_s


@pytest.mark.parametrize("task", VELOCITY_TASKS)
def test_declared_action_dims_match_the_envs(task):
    declared = default_host().registry("env").get(task).options["action_dim"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert gym.make(task).action_space.shape == (declared,)
