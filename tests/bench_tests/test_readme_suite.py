"""The suite example in acrl-bench's README runs as written (at tiny budgets)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from acrl_bench.suite import load_suite
from acrl_wrappers.cli import make_cli

README = Path(__file__).resolve().parents[2] / "packages" / "acrl-bench" / "README.md"


def readme_suite() -> str:
    """The first YAML block of the README's section "Suites"."""
    section = README.read_text().split("\n### Suites\n", 1)[1]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match, "no YAML block in the README's Suites section"
    return match.group(1)


def test_the_readme_suite_expands_and_every_job_checks_out():
    suite = load_suite("readme", yaml.safe_load(readme_suite()))
    assert {job.label for job in suite.jobs} == {"SAC + ProjectAction", "C-TRPO"}
    for job in suite.jobs:
        job.config.resolved()  # names, types and ranges: what acrl bench checks first
    assert suite.paper  # it shows the paper-figures field too


def test_the_readme_suite_runs_at_tiny_budgets(tmp_path):
    path = tmp_path / "my-suite.yaml"
    path.write_text(readme_suite())
    args = ["bench", str(path), "--seeds", "1", "--steps", "200", "--eval-episodes", "1"]
    result = CliRunner().invoke(make_cli(), [*args, "-j", "2", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "done 2, failed 0" in result.output
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "| SAC + ProjectAction |" in summary and "| C-TRPO |" in summary
    assert "paper: return" in summary
