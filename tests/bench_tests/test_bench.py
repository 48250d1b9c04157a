"""acrl bench: suites as data, local and Ray backends, crashed sweeps, the report."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from acrl_bench.report import cost_regret, write_report
from acrl_bench.suite import load_suite, registered_suite
from acrl_bench.sweep import run_suite
from acrl_wrappers import hookimpl
from acrl_wrappers.cli import make_cli
from acrl_wrappers.plugins import default_host

TINY = ["--steps", "300", "--seeds", "1", "--eval-episodes", "1", "-j", "2"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_smoke_report(out):
    summary = (out / "summary.md").read_text()
    for row in ("| SAC + AutoMDP |", "| ARAM |", "| C-TRPO |"):
        assert row in summary
    assert "| method | return | valid-action rate | executed violations |" in summary
    assert "cost regret" in summary  # the velocity-cost task has a cost limit
    for png in ("curves-acrl-reacherl2-v0.png", "curves-acrl-safehoppervelocity-v1.png"):
        data = (out / png).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 10_000
        assert f"]({png})" in summary
    results = [json.loads(p.read_text()) for p in out.glob("runs/*/*/seed0/result.json")]
    assert len(results) == 3
    assert all(r["eval"]["executed_violations"] in (0, None) for r in results)


def test_smoke_suite_end_to_end_on_the_local_backend(tmp_path):
    result = CliRunner().invoke(make_cli(), ["bench", "smoke", *TINY, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "done 3, failed 0, skipped 0" in result.output
    _check_smoke_report(tmp_path)
    again = CliRunner().invoke(make_cli(), ["bench", "smoke", *TINY, "--out", str(tmp_path)])
    assert again.exit_code == 0, again.output
    assert "3 already finished, 0 to run" in again.output  # finished runs are not repeated


def test_smoke_suite_end_to_end_on_ray_local_mode(tmp_path):
    pytest.importorskip("ray")
    args = ["bench", "smoke", *TINY, "--backend", "ray", "--out", str(tmp_path)]
    result = CliRunner().invoke(make_cli(), args)
    assert result.exit_code == 0, result.output
    assert "to run on ray" in result.output and "done 3, failed 0" in result.output
    _check_smoke_report(tmp_path)


BROKEN = {
    "seeds": 1,
    "eval_episodes": 1,
    "defaults": {"steps": 200, "hyperparams": {"learning_starts": 50, "batch_size": 16}},
    "tasks": [{"env": "ACRL/ReacherL2-v0"}, {"env": "ACRL/SafeHopperVelocity-v1"}],
    "methods": [
        {
            "label": "SAC",
            "algo": "sac",
            # only building the model refuses it, so the job crashes in its worker
            "per_task": {
                "ACRL/SafeHopperVelocity-v1": {"hyperparams": {"policy_kwargs": {"net_arch": [-5]}}}
            },
        }
    ],
}


def test_a_crashed_run_is_recorded_and_the_others_finish(tmp_path):
    suite = load_suite("broken", BROKEN)
    lines: list[str] = []
    counts = run_suite(suite, tmp_path, workers=1, echo=lines.append)
    assert (counts.skipped, counts.done, counts.failed) == (0, 1, 1)
    error = json.loads(
        next(tmp_path.glob("runs/acrl-safehoppervelocity-v1/*/seed0/error.json")).read_text()
    )
    assert "negative dimension" in error["error"] and "Traceback" in error["traceback"]
    assert not (tmp_path / "runs/acrl-safehoppervelocity-v1/sac/seed0/run").exists()
    summary = write_report(suite, tmp_path).read_text()
    assert "## Failed runs" in summary and "negative dimension" in summary
    # a re-run skips the finished job and retries the failed one
    counts = run_suite(suite, tmp_path, workers=1, echo=lines.append)
    assert (counts.skipped, counts.done, counts.failed) == (1, 0, 1)


def test_a_sweep_with_failed_jobs_exits_non_zero_with_the_count(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(BROKEN))
    args = ["bench", str(path), "--out", str(tmp_path / "out"), "-j", "2"]
    result = CliRunner().invoke(make_cli(), args)
    assert result.exit_code == 1, result.output
    assert "Error: 1 of 2 jobs failed" in result.output
    assert (tmp_path / "out" / "summary.md").exists()  # the report still lists what finished


class SuitePlugin:
    @hookimpl
    def register_suites(self, register):
        register("tiny-test-suite", lambda: BROKEN, doc="a plugin's suite")


def test_plugins_add_suites():
    host = default_host()
    if "tiny-test-suite" not in host.registry("suite"):
        assert host.add_plugin(SuitePlugin(), "tiny-test-suite-plugin")
    suite = registered_suite("tiny-test-suite", seeds=[3, 4])
    assert [job.seed for job in suite.jobs] == [3, 4, 3, 4]
    assert suite.cost_limits == {"ACRL/ReacherL2-v0": None, "ACRL/SafeHopperVelocity-v1": None}


def test_builtin_suites_expand_into_valid_configs():
    for name in ("smoke", "aram-table", "safe-velocity"):
        suite = registered_suite(name)
        assert suite.jobs
        for job in suite.jobs:
            job.config.resolved()


def test_a_suite_file_runs_by_path(tmp_path):
    path = tmp_path / "my-suite.yaml"
    path.write_text(yaml.safe_dump({**BROKEN, "methods": [{"label": "SAC", "algo": "sac"}]}))
    args = ["bench", str(path), "--seeds", "1", "--steps", "60", "-j", "2"]
    result = CliRunner().invoke(make_cli(), [*args, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "my-suite: 2 jobs" in result.output and "done 2, failed 0" in result.output
    missing = CliRunner().invoke(make_cli(), ["bench", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "no suite file" in missing.output


def test_cost_regret_counts_excess_cost_per_epoch():
    rows = [{"steps": 20_000.0 * (i + 1), "cost": 35.0} for i in range(3)]
    assert cost_regret(rows, 25.0) == pytest.approx(30.0)
    assert cost_regret(rows, 40.0) == 0.0


def test_acrl_algorithms_lists_every_algorithm_with_its_plugin():
    result = CliRunner().invoke(make_cli(), ["algorithms"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split()[1:3] for line in result.output.splitlines()[1:]}
    assert rows["sac"] == ["bench", "acrl-bench"] and rows["aram"] == ["policies", "acrl-policies"]
    listed = json.loads(CliRunner().invoke(make_cli(), ["algorithms", "--json"]).output)
    assert {a["name"] for a in listed} == {e.name for e in default_host().registry("algorithm")}
