"""result.json knows its settings: a job with other settings is re-run, never silently reused."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from acrl_bench.config import RunConfig
from acrl_bench.files import write_text_atomic
from acrl_bench.results import job_state
from acrl_bench.suite import load_suite
from acrl_bench.sweep import job_dir, run_suite
from acrl_wrappers.cli import make_cli

REPO = Path(__file__).resolve().parents[2]
SAFE_VELOCITY = REPO / "benchmarks" / "results" / "safe-velocity"
SMALL = {"learning_starts": 40, "batch_size": 16, "policy_kwargs": {"net_arch": [16, 16]}}
TINY = {
    "seeds": 1,
    "eval_episodes": 1,
    "tasks": [{"env": "ACRL/ReacherL2-v0"}],
    "methods": [{"label": "SAC", "algo": "sac", "steps": 60, "hyperparams": SMALL}],
}


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_changed_budget_re_runs_the_job_instead_of_reusing_it(tmp_path):
    lines: list[str] = []
    first = run_suite(load_suite("tiny", TINY), tmp_path, workers=1, echo=lines.append)
    assert first.done == 1
    folder = job_dir(tmp_path, load_suite("tiny", TINY).jobs[0])
    result = json.loads((folder / "result.json").read_text())
    assert result["settings"]["run"]["steps"] == 60 and result["settings"]["eval_episodes"] == 1
    assert result["settings"]["run"]["hyperparams"] == SMALL
    assert result["settings"]["run"]["enforce"] == "project"  # resolved, not as written
    assert "stable-baselines3" in result["versions"] and "acrl-bench" in result["versions"]

    bigger = load_suite("tiny", TINY, steps=80)
    second = run_suite(bigger, tmp_path, workers=1, echo=lines.append)
    assert (second.skipped, second.done, second.rerun) == (0, 1, 1)
    assert any("settings changed (steps 60 -> 80)" in line for line in lines)
    assert json.loads((folder / "result.json").read_text())["train"]["steps"] == 80
    old = json.loads((folder / "previous-1" / "result.json").read_text())
    assert old["train"]["steps"] == 60  # the old run is kept aside, not deleted

    third = run_suite(bigger, tmp_path, workers=1, echo=lines.append)
    assert (third.skipped, third.done) == (1, 0)  # the same settings are reused
    summary = CliRunner().invoke(
        make_cli(), ["bench", "smoke", "--report-only", "--out", str(tmp_path)]
    )
    assert summary.exit_code == 1 and "nothing to report" in summary.output  # other suite


def test_run_files_honour_the_umask(tmp_path):
    previous = os.umask(0o022)
    try:
        run_suite(load_suite("tiny", TINY), tmp_path, workers=1, echo=lambda line: None)
        folder = job_dir(tmp_path, load_suite("tiny", TINY).jobs[0])
        run = folder / "run"
        for path in (
            folder / "result.json",
            run / "config.yml",
            run / "train.json",
            run / "checkpoints" / "LATEST",
        ):
            assert mode(path) == 0o644, path
        os.umask(0o077)
        write_text_atomic(tmp_path / "private.txt", "x")
        assert mode(tmp_path / "private.txt") == 0o600
    finally:
        os.umask(previous)


def _legacy_result(steps: int = 60, episodes: int = 1) -> dict:
    return {
        "label": "SAC",
        "env": "ACRL/ReacherL2-v0",
        "seed": 0,
        "train": {"algo": "sac", "env": "ACRL/ReacherL2-v0", "enforce": "project", "steps": steps},
        "eval": {"episodes": episodes},
        "episodes": [],
    }


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (_legacy_result(), "legacy"),
        (_legacy_result(steps=1), "stale"),
        (_legacy_result(episodes=10), "stale"),
    ],
    ids=["matching", "other-budget", "other-eval-episodes"],
)
def test_results_from_before_settings_were_recorded_match_on_what_they_hold(
    result, status, tmp_path
):
    (tmp_path / "result.json").write_text(json.dumps(result))
    config = RunConfig(algo="sac", env="ACRL/ReacherL2-v0", steps=60).resolved()
    assert job_state(tmp_path, config, 1).status == status


def test_an_unfinished_run_with_other_settings_is_not_resumed(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    saved = RunConfig(algo="sac", env="ACRL/ReacherL2-v0", steps=60).resolved()
    (run / "config.yml").write_text(json.dumps({"run": saved.to_dict(), "versions": {}}))
    assert job_state(tmp_path, saved, 1).status == "partial"
    changed = job_state(tmp_path, saved.replace(seed=3), 1)
    assert changed.status == "stale" and changed.differences == ("seed 0 -> 3",)


def test_report_only_rewrites_the_shipped_safe_velocity_report_from_old_results(tmp_path):
    """The committed result.json files predate recorded settings: handled and said so."""
    out = tmp_path / "safe-velocity"
    shutil.copytree(SAFE_VELOCITY / "runs", out / "runs")
    result = CliRunner().invoke(
        make_cli(), ["bench", "safe-velocity", "--report-only", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = (out / "summary.md").read_text()
    assert "Training budget: 40,000 / 120,000 env steps per run" in summary
    assert "24 of the 24 results were written before" in summary
    assert "return IQM [95 % CI]" in summary and "| 3/3 |" in summary
    assert "paper: return" in summary and "arXiv 2411.02957" in summary
    rows = (out / "summary.csv").read_text().splitlines()
    assert rows[0].startswith("task,method,metric,seeds,mean,std,iqm,ci_low,ci_high")
    data = json.loads((out / "summary.json").read_text())
    assert data["results_without_settings"] == 24 and len(data["tasks"]) == 2
