"""acrl bench: suites as data, local and Ray backends, crashed and interrupted sweeps, report."""

from __future__ import annotations

import json

import pytest
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
    assert "done 0, failed 0, skipped 3" in again.output  # finished runs are not repeated


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
    "methods": [{"label": "SAC + AutoMDP", "algo": "sac", "enforce": "automdp"}],
}


def test_a_crashed_run_is_recorded_and_the_others_finish(tmp_path):
    suite = load_suite("broken", BROKEN)
    lines: list[str] = []
    counts = run_suite(suite, tmp_path, workers=1, echo=lines.append)
    assert counts == {"skipped": 0, "done": 1, "failed": 1}
    error = json.loads(
        next(tmp_path.glob("runs/acrl-safehoppervelocity-v1/*/seed0/error.json")).read_text()
    )
    assert "needs a constraint" in error["error"] and "Traceback" in error["traceback"]
    summary = write_report(suite, tmp_path).read_text()
    assert "## Failed runs" in summary and "needs a constraint" in summary
    # a re-run skips the finished job and retries the failed one
    counts = run_suite(suite, tmp_path, workers=1, echo=lines.append)
    assert counts == {"skipped": 1, "done": 0, "failed": 1}


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


def test_cost_regret_counts_excess_cost_per_epoch():
    rows = [{"steps": 20_000.0 * (i + 1), "cost": 35.0} for i in range(3)]
    assert cost_regret(rows, 25.0) == pytest.approx(30.0)
    assert cost_regret(rows, 40.0) == 0.0
