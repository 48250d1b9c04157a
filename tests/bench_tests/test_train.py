"""acrl train / evaluate in-process: run directory, evaluation, checkpoints and their errors."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import yaml
from stable_baselines3 import SAC

from acrl_bench.callbacks import read_episodes
from acrl_bench.checkpoint import latest_checkpoint
from acrl_bench.config import RunConfig
from acrl_bench.errors import CheckpointError, ConfigError
from acrl_bench.evaluate import evaluate_run
from acrl_bench.train import new_run, train, train_run

SMALL = {"learning_starts": 100, "batch_size": 32, "policy_kwargs": {"net_arch": [32, 32]}}


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    config = RunConfig(
        algo="sac",
        env="ACRL/ReacherL2-v0",
        enforce="automdp",
        steps=400,
        save_freq=200,
        hyperparams=SMALL,
        wrapper_kwargs={"reward_offset": 1.0, "max_rejections": 3},
    )
    return train(config, log_root=tmp_path_factory.mktemp("runs"), progress_bar=False)


def test_run_directory_layout(finished_run):
    run_dir = finished_run.run_dir
    assert run_dir.name == "ACRL-ReacherL2-v0_1" and run_dir.parent.name == "sac"
    for name in ("config.yml", "model.zip", "episodes.csv", "train.json", "monitor/0.monitor.csv"):
        assert (run_dir / name).exists(), name
    assert list((run_dir / "logs" / "0").glob("events.out.tfevents.*"))
    progress = (run_dir / "logs" / "0" / "progress.csv").read_text()
    assert "constraint/violation_rate" in progress.splitlines()[0]
    saved = yaml.safe_load((run_dir / "config.yml").read_text())
    assert saved["run"]["enforce"] == "automdp" and "stable-baselines3" in saved["versions"]
    assert latest_checkpoint(run_dir, finished_run.config).steps == 400


def test_report_counts_what_happened(finished_run):
    summary = finished_run.summary()
    assert summary["steps"] == 400 and summary["episodes"] == len(finished_run.episodes)
    assert 0.0 < summary["violation_rate"] <= 1.0
    text = finished_run.text()
    assert "all feasible" in text and f"acrl evaluate {finished_run.run_dir}" in text
    assert json.loads((finished_run.run_dir / "train.json").read_text()) == summary


def test_episode_log_has_one_row_per_finished_episode(finished_run):
    rows = read_episodes(finished_run.run_dir / "episodes.csv")
    assert rows and all(row["length"] == 50 for row in rows)  # ReacherL2: 50 simulator steps
    assert all(0.0 <= row["valid_rate"] <= 1.0 for row in rows)
    assert [row["steps"] for row in rows] == sorted(row["steps"] for row in rows)


def test_evaluate_measures_the_saved_model(finished_run):
    result = evaluate_run(finished_run.run_dir, episodes=2, samples=20)
    assert result["executed_violations"] == 0
    assert result["executed_steps"] == 100  # two 50-step episodes
    assert 0.0 <= result["valid_action_rate"] <= 1.0
    assert result["return_mean"] < 0 and result["us_per_action"] > 0


def test_an_automdp_run_is_deployed_by_acceptance_rejection_and_never_stalls(finished_run):
    result = evaluate_run(finished_run.run_dir, episodes=2, samples=20)
    assert result["deploy"] == "acceptance-rejection"
    # every env step is a simulator step: a feasible sample or a projection, no self-loop
    assert result["self_loops"] == 0 and result["executed_steps"] == 100
    assert result["distinct_states"] == 100 and result["episode_cost"] == 0.0
    assert 0.0 <= result["accepted_rate"] <= 1.0
    # projections happen exactly where no sample of the step was feasible
    assert result["projections"] == round((1 - result["accepted_rate"]) * 100)


def test_deterministic_deployment_counts_each_simulator_state_once(finished_run):
    result = evaluate_run(finished_run.run_dir, episodes=2, samples=20, deploy="deterministic")
    assert result["deploy"] == "deterministic" and result["accepted_rate"] is None
    # a self-loop repeats the observation: it is not a new state for the valid-action rate
    assert result["distinct_states"] == result["executed_steps"] == 100
    assert result["self_loops"] <= 2 * 50 * 3  # max_rejections=3 self-loops per step at most
    with pytest.raises(ConfigError, match="deploy must be one of"):
        evaluate_run(finished_run.run_dir, episodes=1, deploy="sometimes")


def test_a_run_directory_is_never_reused(finished_run):
    with pytest.raises(ConfigError, match="--resume"):
        new_run(finished_run.config, finished_run.run_dir)


def test_resume_extends_a_finished_run(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run.run_dir, copy)
    report = train_run(copy, steps=600, progress_bar=False)
    assert report.steps == 600
    latest = copy / "checkpoints" / (copy / "checkpoints" / "LATEST").read_text()
    model = SAC.load(latest / "model.zip")
    model.load_replay_buffer(latest / "replay_buffer.pkl")
    assert model.num_timesteps == 600 and model.replay_buffer.size() == 600


def test_corrupt_checkpoint_is_a_clear_error(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run.run_dir, copy)
    latest = copy / "checkpoints" / (copy / "checkpoints" / "LATEST").read_text()
    (latest / "model.zip").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        train_run(copy, steps=800, progress_bar=False)


def test_checkpoint_of_another_run_is_refused(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run.run_dir, copy)
    latest = copy / "checkpoints" / (copy / "checkpoints" / "LATEST").read_text()
    meta = json.loads((latest / "checkpoint.json").read_text())
    (latest / "checkpoint.json").write_text(json.dumps({**meta, "algo": "td3"}))
    with pytest.raises(CheckpointError, match="td3"):
        train_run(copy, progress_bar=False)


def test_evaluate_needs_a_run_directory(tmp_path):
    with pytest.raises(CheckpointError, match="not a run directory"):
        evaluate_run(tmp_path)


def test_cost_task_without_constraint_trains_and_evaluates(tmp_path):
    config = RunConfig(
        algo="ctrpo",
        env="ACRL/SafeHopperVelocity-v1",
        steps=256,
        normalize={"norm_obs": True, "norm_reward": False},
        hyperparams={"n_steps": 256, "batch_size": 64, "cost_limit": 25.0},
    )
    report = train(config, log_root=tmp_path, progress_bar=False)
    assert (report.run_dir / "vecnormalize.pkl").exists()
    result = evaluate_run(report.run_dir, episodes=1)
    assert result["valid_action_rate"] is None and result["executed_violations"] is None
    assert np.isfinite(result["episode_cost"])


def test_method_with_its_own_safety_net_is_counted_from_the_model(tmp_path):
    """ARAM rejects and projects before the wrapper: the report reads ARAM's own counts."""
    config = RunConfig(
        algo="aram",
        env="ACRL/ReacherL2-v0",
        enforce="project",
        steps=300,
        hyperparams={**SMALL, "max_proposals": 2},
    )
    report = train(config, log_root=tmp_path, progress_bar=False)
    summary = report.summary()
    net = report.totals
    # uniform warm-up proposals land in the disc a1² + a2² <= 0.05 about 4 % of the time
    assert summary["violation_rate"] == pytest.approx(net["net_infeasible"] / net["net_proposals"])
    assert summary["violation_rate"] > 0.5 and summary["self_loop_rate"] > 0.5
    assert summary["projections"] == summary["qp_solves"] == net["net_projections"] > 50
    rows = read_episodes(report.run_dir / "episodes.csv")
    assert rows and all(row["valid_rate"] < 0.5 for row in rows)
    result = evaluate_run(report.run_dir, episodes=1, samples=10)
    assert result["executed_violations"] == 0
    assert 0 <= result["projections"] <= result["executed_steps"]  # this evaluation's only
