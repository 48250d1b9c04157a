"""The commands as a user types them: errors, kill -9 and --resume, Ctrl-C, evaluate --json."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from stable_baselines3 import SAC

from acrl_wrappers.cli import make_cli

SMALL = ["-p", "batch_size=32", "-p", 'policy_kwargs={"net_arch": [32, 32]}']


def acrl(*args: str) -> list[str]:
    return [sys.executable, "-m", "acrl_wrappers", *args]


def invoke(*args: str):
    return CliRunner().invoke(make_cli(), list(args))


def test_unknown_algorithm_is_one_line_with_a_suggestion(tmp_path):
    result = invoke("train", "--algo", "sacc", "--log-root", str(tmp_path))
    assert result.exit_code == 1
    assert "unknown algorithm 'sacc'; did you mean 'sac'?" in result.output


def test_unknown_hyperparameter_names_the_accepted_keys(tmp_path):
    result = invoke(
        "train", "--algo", "sac", "-p", "learnign_rate=0.1", "--log-root", str(tmp_path)
    )
    assert result.exit_code == 1
    assert "did you mean 'learning_rate'" in result.output and "it accepts:" in result.output
    assert not list(tmp_path.iterdir())  # nothing was created for a bad config


def test_unknown_suite_suggests_a_match():
    result = invoke("bench", "smokee")
    assert result.exit_code == 1 and "did you mean 'smoke'" in result.output


def test_bench_lists_the_builtin_suites():
    result = invoke("bench", "--list")
    for name in ("smoke", "aram-table", "safe-velocity"):
        assert name in result.output


def _wait_for_checkpoint(run_dir: Path, process: subprocess.Popen, at_least: int) -> int:
    latest = run_dir / "checkpoints" / "LATEST"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        if latest.exists():
            steps = int(latest.read_text().removeprefix("step-"))
            if steps >= at_least:
                return steps
        time.sleep(0.2)
    raise AssertionError("no checkpoint within 600 s")


def test_resume_after_kill_keeps_the_replay_buffer(tmp_path):
    run_dir = tmp_path / "run"
    args = [
        "train",
        "--algo",
        "sac",
        "--env",
        "ACRL/ReacherL2-v0",
        "-n",
        "4000",
        "--save-freq",
        "500",
        "--log-dir",
        str(run_dir),
        "--no-progress",
        "-p",
        "learning_starts=100",
        *SMALL,
    ]
    process = subprocess.Popen(acrl(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        saved = _wait_for_checkpoint(run_dir, process, at_least=1000)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert not (run_dir / "model.zip").exists()  # killed before the end

    resumed = subprocess.run(
        acrl("train", "--resume", str(run_dir), "--no-progress"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "steps:             4000" in resumed.stdout
    latest = run_dir / "checkpoints" / (run_dir / "checkpoints" / "LATEST").read_text()
    model = SAC.load(latest / "model.zip")
    model.load_replay_buffer(latest / "replay_buffer.pkl")
    # every transition is there: those collected before the checkpoint and after the resume
    assert model.num_timesteps == 4000 and model.replay_buffer.size() == 4000
    assert saved >= 1000
    assert len(list((run_dir / "logs").iterdir())) == 2  # one log folder per session


def test_ctrl_c_saves_a_checkpoint_and_says_how_to_resume(tmp_path):
    run_dir = tmp_path / "run"
    args = [
        "train",
        "--algo",
        "sac",
        "-n",
        "100000",
        "--save-freq",
        "300",
        "--log-dir",
        str(run_dir),
        "--no-progress",
        "-p",
        "learning_starts=100",
        *SMALL,
    ]
    process = subprocess.Popen(
        acrl(*args), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_checkpoint(run_dir, process, at_least=300)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=300)
    finally:
        process.kill()
    assert process.returncode == 130
    assert f"acrl train --resume {run_dir}" in stderr
    latest = run_dir / "checkpoints" / (run_dir / "checkpoints" / "LATEST").read_text()
    steps = json.loads((latest / "checkpoint.json").read_text())["steps"]
    assert f"interrupted at {steps} steps" in stderr and steps >= 300


@pytest.mark.slow
def test_train_without_arguments_then_evaluate(tmp_path):
    """The README's main job: `acrl train` (SAC + ProjectAction, 10,000 steps), then evaluate.

    It must show the promise: nothing infeasible executed, a return clearly better than
    random feasible actions (-12.9 on these episodes, benchmarks/results/default-run.md),
    and no file written outside the run directory.
    """
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    trained = subprocess.run(
        acrl("train", "--no-progress"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    assert trained.returncode == 0, trained.stderr
    assert "steps:             10000" in trained.stdout
    assert "all feasible" in trained.stdout
    run_dir = tmp_path / "runs" / "sac" / "ACRL-ReacherL2-v0_1"
    evaluated = subprocess.run(
        acrl("evaluate", str(run_dir), "--episodes", "3", "--json"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    assert result["executed_violations"] == 0 and result["algo"] == "sac"
    assert result["return_mean"] > -10.0  # random feasible actions: about -12.9
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runs"]
