"""Bad input to acrl train / evaluate, typed on the real command line: one line, nothing made.

Each bad configuration must end with a non-zero exit status and a one-line ``Error: ...``
(no traceback), and must leave no run directory and no file under the log root: the
whole configuration (env, constraint against the observation layout and the action
dimension, algorithm, hyperparameter names and values) is checked before the run
directory is created. A run that crashes after it started keeps what can be resumed and
removes the rest.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from acrl_wrappers.cli import make_cli

REACHER = ["--env", "ACRL/ReacherL2-v0"]


def invoke(*args: str):
    return CliRunner().invoke(make_cli(), list(args))


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def assert_one_line_error(result, *fragments: str, started: bool = False) -> str:
    """Exit status 1, a single ``Error: ...`` line, no traceback; returns the line.

    ``started``: training began, so the ``training ... into RUN_DIR`` line comes first.
    """
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), (
        f"a traceback, not a clear error: {result.exception!r}\n{result.output}"
    )
    lines = [line for line in result.output.splitlines() if line.strip()]
    if started:
        assert lines[0].startswith("training "), result.output
        lines = lines[1:]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output, result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


BAD_TRAIN = {
    "constraint-reads-missing-observation-entries": (
        [*REACHER, "--constraint", '{"name": "power", "bound": 1, "weight_index": "30:32"}'],
        ["observation index 31", "10 entries"],
    ),
    "constraint-of-the-wrong-action-dimension": (
        [*REACHER, "--constraint", '{"name": "box", "low": [-1, -1, -1], "high": [1, 1, 1]}'],
        ["3-D actions", "2-D"],
    ),
    "unknown-algorithm": (["--algo", "sacc"], ["unknown algorithm 'sacc'", "did you mean 'sac'"]),
    "unknown-hyperparameter": (["-p", "not_a_param=1"], ["'not_a_param'", "it accepts:"]),
    "hyperparameter-of-the-wrong-type": (
        ["-p", "learning_rate=abc"],
        ["learning_rate must be a positive number or a schedule", "got 'abc'"],
    ),
    "learning-starts-that-is-not-a-number": (
        ["-p", "learning_starts=abc"],
        ["learning_starts must be an integer >= 0", "got 'abc'", "-p learning_starts=1000"],
    ),
    "learning-starts-written-as-a-float": (
        ["-p", "learning_starts=1e3"],
        ["got 1000.0 (write 1000, without a decimal point)"],
    ),
    "negative-learning-rate": (["-p", "learning_rate=-1"], ["learning_rate must be", "got -1"]),
    "negative-seed": (["--seed", "-1"], ["seed must be an integer from 0 to 4294967295, got -1"]),
    "negative-steps": (["-n", "-5"], ["steps must be a positive integer, got -5"]),
    "zero-envs": (["--n-envs", "0"], ["n_envs must be a positive integer, got 0"]),
    "zero-save-freq": (["--save-freq", "0"], ["save_freq must be a positive integer, got 0"]),
    "zero-batch-size": (["-p", "batch_size=0"], ["batch_size must be a positive integer"]),
    "discount-above-one": (["-p", "gamma=2"], ["gamma must be a number in [0, 1], got 2"]),
    "negative-cost-limit": (
        ["--algo", "ctrpo", "--env", "ACRL/SafeHopperVelocity-v1", "-p", "cost_limit=-1"],
        ["cost_limit must be a positive number", "got -1"],
    ),
    "ball-of-the-wrong-dimension": (
        [*REACHER, "--constraint", '{"name": "ball", "bound": 0.05, "dim": 3}'],
        ["3-D actions", "2-D"],
    ),
    "ball-with-a-dimension-that-is-not-a-number": (
        [*REACHER, "--constraint", '{"name": "ball", "bound": 0.05, "dim": "x"}'],
        ["`dim` must be a positive integer, got 'x'"],
    ),
    "bad-schedule": (["-p", "learning_rate=lin_abc"], ["lin_abc"]),
    "bad-activation": (["-p", 'policy_kwargs={"activation_fn": "Foo"}'], ["activation_fn 'Foo'"]),
    "seed-as-a-hyperparameter": (["-p", "seed=3"], ["--seed"]),
    "unknown-policy": (["-p", "policy=CnnPolicyy"], ["cannot build SAC", "CnnPolicyy"]),
    "value-the-algorithm-refuses": (
        ["--algo", "ppo", *REACHER, "-p", "batch_size=1"],
        ["cannot build PPO", "batch_size=1"],
    ),
    "bad-wrapper-option-value": (
        [*REACHER, "--enforce", "automdp", "-p", 'wrapper_kwargs={"kappa": "x"}'],
        ["kappa"],
    ),
    "unknown-env-option": (
        [*REACHER, "-p", 'env_kwargs={"no_such_option": 1}'],
        ["no_such_option"],
    ),
    "method-that-needs-a-constraint-on-a-task-without-one": (
        ["--algo", "aram", "--env", "Pendulum-v1"],
        ["ARAM needs the action constraint"],
    ),
    "zero-threads": (["--threads", "0"], ["--threads must be a positive integer, got 0"]),
}


@pytest.mark.parametrize(("args", "fragments"), BAD_TRAIN.values(), ids=BAD_TRAIN.keys())
def test_bad_train_config_is_one_line_and_creates_nothing(args, fragments, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default log root is ./runs
    result = invoke("train", "--no-progress", "-n", "50", *args)
    assert_one_line_error(result, *fragments)
    assert files_under(tmp_path) == []


def test_bad_config_creates_nothing_under_an_explicit_log_dir(tmp_path):
    log_dir = tmp_path / "runs" / "mine"
    result = invoke("train", "--no-progress", "--log-dir", str(log_dir), "-p", "learning_rate=abc")
    assert_one_line_error(result, "learning_rate must be", "'abc'")
    assert files_under(tmp_path) == []


def test_bad_hyperparameter_in_a_file_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "sac.yml"
    path.write_text("ACRL/ReacherL2-v0:\n  learning_rate: abc\n")
    result = invoke(
        "train", "--no-progress", *REACHER, "--hyperparams", str(path), "--log-root", "runs"
    )
    assert_one_line_error(result, "learning_rate must be", "'abc'")
    assert files_under(tmp_path) == ["sac.yml"]


# valid to every check, but SAC divides by it at its first update
CRASH = ["-p", "learning_starts=0", "-p", "target_update_interval=0"]


def test_crash_before_the_first_checkpoint_keeps_the_runs_logs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("train", "--no-progress", *REACHER, "-n", "50", *CRASH)
    assert_one_line_error(
        result,
        "training failed at step 1: ZeroDivisionError",
        "nothing to resume: its config and logs are kept in runs/sac/ACRL-ReacherL2-v0_1",
        started=True,
    )
    run = tmp_path / "runs" / "sac" / "ACRL-ReacherL2-v0_1"
    assert (run / "config.yml").exists() and (run / "monitor").is_dir()


def test_crash_keeps_what_was_in_the_log_dir_before(tmp_path):
    log_dir = tmp_path / "mine"
    log_dir.mkdir()
    (log_dir / "notes.txt").write_text("mine")
    result = invoke(
        "train", "--no-progress", *REACHER, "-n", "50", *CRASH, "--log-dir", str(log_dir)
    )
    assert_one_line_error(result, "training failed at step", "logs are kept", started=True)
    assert (log_dir / "notes.txt").read_text() == "mine" and (log_dir / "config.yml").exists()


def test_crash_after_a_checkpoint_keeps_the_run_to_resume(tmp_path):
    log_dir = tmp_path / "run"
    args = [*REACHER, "-n", "200", "--save-freq", "20", "-p", "learning_starts=40"]
    result = invoke(
        "train", "--no-progress", *args, "-p", "target_update_interval=0", "--log-dir", str(log_dir)
    )
    assert_one_line_error(
        result, "training failed at step", f"acrl train --resume {log_dir}", started=True
    )
    assert (log_dir / "checkpoints" / "LATEST").exists() and (log_dir / "config.yml").exists()


def test_resume_refuses_options_that_would_change_the_run(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    result = invoke("train", "--resume", str(run_dir), "--algo", "td3")
    assert_one_line_error(result, "--resume", "--algo")
    assert files_under(tmp_path) == ["run"]


def test_resume_of_an_aram_run_refuses_another_algorithm(tmp_path):
    run_dir = _fake_run(tmp_path / "run", algo="aram", enforce="none", steps=100)
    before = (run_dir / "config.yml").read_text()
    result = invoke("train", "--resume", str(run_dir), "--algo", "sac", "--no-progress")
    assert_one_line_error(result, "--resume", "--algo cannot change it")
    assert (run_dir / "config.yml").read_text() == before
    assert files_under(tmp_path) == ["run", "run/config.yml"]


def test_resume_with_a_bad_budget_changes_nothing(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = {"run": {"algo": "sac", "env": "ACRL/ReacherL2-v0", "steps": 100}, "versions": {}}
    (run_dir / "config.yml").write_text(yaml.safe_dump(config))
    before = (run_dir / "config.yml").read_text()
    result = invoke("train", "--resume", str(run_dir), "-n", "0", "--no-progress")
    assert_one_line_error(result, "steps must be a positive integer, got 0")
    assert (run_dir / "config.yml").read_text() == before
    assert files_under(tmp_path) == ["run", "run/config.yml"]


def _fake_run(folder: Path, model: bool = False, **run: object) -> Path:
    """A run directory with ``config.yml`` (and a placeholder ``model.zip``).

    Enough to reach evaluate's checks.
    """
    folder.mkdir()
    settings = {"algo": "sac", "env": "ACRL/ReacherL2-v0", "enforce": "project", **run}
    (folder / "config.yml").write_text(yaml.safe_dump({"run": settings, "versions": {}}))
    if model:
        (folder / "model.zip").write_bytes(b"not a zip")
    return folder


BAD_POWER = {"name": "power", "bound": 1, "weight_index": "30:32"}


@pytest.mark.parametrize(
    ("run", "fragments"),
    [
        ({}, ["no model.zip"]),
        ({"model": True}, ["cannot be loaded"]),
        ({"model": True, "constraint": BAD_POWER}, ["observation index 31"]),
        ({"model": True, "algo": "sacc"}, ["unknown algorithm 'sacc'"]),
        ({"model": True, "stpes": 3}, ["corrupt"]),
    ],
    ids=["no-model", "corrupt-model", "constraint-that-does-not-fit", "unknown-algo", "bad-key"],
)
def test_evaluate_bad_run_is_one_line_and_writes_nothing(run, fragments, tmp_path):
    run_dir = _fake_run(tmp_path / "run", **run)
    before = files_under(tmp_path)
    result = invoke("evaluate", str(run_dir), "--json")
    assert_one_line_error(result, *fragments)
    assert files_under(tmp_path) == before


def test_evaluate_refuses_a_model_of_another_env(tmp_path):
    from stable_baselines3 import SAC

    run_dir = _fake_run(tmp_path / "run")
    SAC("MlpPolicy", "Pendulum-v1").save(run_dir / "model.zip")
    before = files_under(tmp_path)
    result = invoke("evaluate", str(run_dir), "--episodes", "1")
    assert_one_line_error(result, "cannot be loaded")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize("option", ["--episodes", "--samples"])
def test_evaluate_needs_a_positive_count(option, tmp_path):
    run_dir = _fake_run(tmp_path / "run", model=True)
    before = files_under(tmp_path)
    result = invoke("evaluate", str(run_dir), option, "0")
    assert_one_line_error(result, f"{option} must be a positive integer, got 0")
    assert files_under(tmp_path) == before


def test_bench_job_with_a_bad_config_makes_no_run_directory(tmp_path):
    """A suite job whose constraint does not fit fails with the clear error and no run/."""
    from acrl_bench.suite import load_suite
    from acrl_bench.sweep import job_dir, run_job

    suite = load_suite(
        "bad",
        {
            "seeds": 1,
            "defaults": {"steps": 50},
            "tasks": [{"env": "ACRL/ReacherL2-v0"}],
            "methods": [
                {
                    "label": "bad",
                    "algo": "sac",
                    "constraint": BAD_POWER,
                }
            ],
        },
    )
    (job,) = suite.jobs
    folder = job_dir(tmp_path, job)
    outcome = run_job(job, str(folder))
    assert outcome["status"] == "failed"
    assert "observation index 31" in outcome["error"]
    assert not (folder / "run").exists()
    assert json.dumps(outcome)  # what error.json holds


BAD_BENCH = {
    "negative-steps": (["--steps", "-5"], ["--steps must be a positive integer, got -5"]),
    "zero-scale": (["--scale", "0"], ["--scale must be a positive number, got 0.0"]),
    "scale-that-leaves-no-step": (["--scale", "0.0001"], ["under 1; pass a larger --scale"]),
    "zero-eval-episodes": (["--eval-episodes", "0"], ["--eval-episodes must be a positive"]),
    "negative-seed": (["--seeds", "0,-1"], ["seeds must be a positive count"]),
    "seeds-that-are-not-numbers": (["--seeds", "abc"], ["--seeds must be a count"]),
    "zero-workers": (["-j", "0"], ["-j/--jobs must be a positive integer, got 0"]),
    "zero-threads": (["--threads", "0"], ["--threads must be a positive integer, got 0"]),
}


@pytest.mark.parametrize(("args", "fragments"), BAD_BENCH.values(), ids=BAD_BENCH.keys())
def test_bad_bench_value_is_one_line_and_creates_nothing(args, fragments, tmp_path):
    result = invoke("bench", "smoke", "--out", str(tmp_path / "out"), *args)
    assert_one_line_error(result, *fragments)
    assert files_under(tmp_path) == []


def test_bench_checks_every_job_before_any_runs(tmp_path):
    """A job whose hyperparameter has the wrong type stops the sweep before anything exists."""
    path = tmp_path / "suite.yaml"
    suite = {
        "seeds": 1,
        "defaults": {"steps": 50},
        "tasks": [{"env": "ACRL/ReacherL2-v0"}],
        "methods": [
            {"label": "fine", "algo": "sac"},
            {"label": "bad", "algo": "sac", "hyperparams": {"learning_starts": "abc"}},
        ],
    }
    path.write_text(yaml.safe_dump(suite))
    result = invoke("bench", str(path), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, "suite 'suite', 'bad' on ACRL/ReacherL2-v0", "learning_starts")
    assert files_under(tmp_path) == ["suite.yaml"]
