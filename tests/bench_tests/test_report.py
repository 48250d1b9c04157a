"""The report from result.json files: IQM, intervals, per-seed table, CSV, JSON, paper figures.

Also: results whose settings no longer match the suite are left out and listed.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from rliable import metrics

from acrl_bench.errors import BenchError, SuiteError
from acrl_bench.report import write_report
from acrl_bench.results import RESULT_FORMAT, job_settings
from acrl_bench.statistics import estimate_cells
from acrl_bench.suite import load_suite
from acrl_bench.sweep import job_dir

RETURNS = {0: -10.0, 1: -6.0, 2: -5.0, 3: -4.0, 4: 20.0}  # one outlier each way
SUITE = {
    "seeds": 5,
    "eval_episodes": 2,
    "cost_limit": 25,
    "tasks": [{"env": "ACRL/ReacherL2-v0"}],
    "methods": [{"label": "SAC", "algo": "sac", "steps": 1000}],
    "paper": {
        "source": "a paper, arXiv 0000.00000, Table 1",
        "ACRL/ReacherL2-v0": {"SAC": {"return": -4.5, "valid-action rate": 0.9}},
    },
}


def _result(job, ret: float, steps: int = 1000) -> dict:
    return {
        "format": RESULT_FORMAT,
        "label": job.label,
        "env": job.env,
        "seed": job.seed,
        "settings": job_settings(job.config.resolved(), job.eval_episodes),
        "versions": {"acrl-bench": "0.1.0"},
        "train": {"steps": steps, "projections": 100, "steps_per_second": 50.0},
        "eval": {
            "return_mean": ret,
            "episode_cost": 30.0,
            "valid_action_rate": 0.5,
            "executed_violations": 0,
            "us_per_action": 100.0,
        },
        "episodes": [
            {
                "steps": s,
                "seconds": s / 50,
                "return": ret,
                "length": 50.0,
                "cost": c,
                "valid_rate": 0.5,
            }
            for s, c in ((500.0, 40.0), (1000.0, 20.0))
        ],
    }


@pytest.fixture
def finished(tmp_path):
    suite = load_suite("synthetic", SUITE)
    for job in suite.jobs:
        folder = job_dir(tmp_path, job)
        folder.mkdir(parents=True)
        (folder / "result.json").write_text(json.dumps(_result(job, RETURNS[job.seed])))
    return suite, tmp_path


def test_iqm_and_interval_come_from_rliable_across_seeds():
    values = list(RETURNS.values())
    cell = estimate_cells({"return": values})["return"]
    assert cell.iqm == pytest.approx(metrics.aggregate_iqm(np.array(values)))
    assert cell.iqm == pytest.approx(-5.0) and cell.mean == pytest.approx(-1.0)
    assert cell.low < cell.iqm < cell.high and cell.n == 5
    assert estimate_cells({"return": values}) == estimate_cells({"return": values})  # seeded


def test_report_has_the_statistics_per_seed_table_exports_and_paper_column(finished):
    suite, out = finished
    summary = write_report(suite, out).read_text()
    assert "| SAC | -1.0 ± 10.7 |" in summary  # mean ± std, as before
    row = next(line for line in summary.splitlines() if line.startswith("| SAC | -5.0 ["))
    assert "| -4.5 | 0.900 |" in row  # the paper's figures beside ours
    assert "paper: return | paper: valid-action rate" in summary
    assert "Paper figures: a paper, arXiv 0000.00000, Table 1." in summary
    assert summary.count("| SAC | ") == 2 + 5  # two tables, then one row per seed
    assert "Training budget: 1,000 env steps per run" in summary
    rows = list(csv.DictReader((out / "summary.csv").open()))
    ret = next(r for r in rows if r["metric"] == "return")
    assert float(ret["iqm"]) == pytest.approx(-5.0) and ret["paper"] == "-4.5"
    assert float(ret["ci_low"]) < float(ret["ci_high"]) and ret["seeds"] == "5"
    data = json.loads((out / "summary.json").read_text())
    method = data["tasks"][0]["methods"][0]
    assert method["seeds"] == "5/5" and [r["seed"] for r in method["runs"]] == [0, 1, 2, 3, 4]
    assert method["metrics"]["return"]["iqm"] == pytest.approx(-5.0)
    assert data["versions"] == {"acrl-bench": ["0.1.0"]}


def test_a_result_with_other_settings_is_left_out_and_listed(finished):
    suite, out = finished
    job = suite.jobs[4]
    stale = _result(job, 1000.0)
    stale["settings"]["run"]["steps"] = 1
    (job_dir(out, job) / "result.json").write_text(json.dumps(stale))
    summary = write_report(suite, out).read_text()
    assert "## Results not used" in summary
    assert "`acrl-reacherl2-v0/sac/seed4`: steps 1 -> 1000" in summary
    assert "| 4/5 |" in summary and "1000.0" not in summary


def test_report_only_without_results_refuses_to_overwrite(tmp_path):
    (tmp_path / "summary.md").write_text("the old report")
    with pytest.raises(BenchError, match="nothing to report"):
        write_report(load_suite("synthetic", SUITE), tmp_path)
    assert (tmp_path / "summary.md").read_text() == "the old report"


@pytest.mark.parametrize(
    ("paper", "fragment"),
    [
        ({"ACRL/HopperM10-v0": {"SAC": {"return": 1}}}, "not among its tasks"),
        ({"ACRL/ReacherL2-v0": {"PPO": {"return": 1}}}, "not one of ['SAC']"),
        ({"ACRL/ReacherL2-v0": {"SAC": {"reward": 1}}}, "not a report metric"),
    ],
    ids=["unknown-task", "unknown-method", "unknown-metric"],
)
def test_paper_figures_are_checked(paper, fragment):
    with pytest.raises(SuiteError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
        load_suite("synthetic", {**SUITE, "paper": paper})
