"""Every script in examples/ runs as documented, with a tiny budget."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_project_actions_default_constraint():
    out = run("check_and_project.py", "--steps", "200")
    assert "projector:  closed-form" in out
    assert "failures: 0" in out
    infeasible = float(out.split("infeasible: ")[1].split(" %")[0])
    assert 0.0 < infeasible < 100.0


def test_project_actions_with_a_json_spec():
    out = run(
        "check_and_project.py",
        "--steps",
        "50",
        "--constraint",
        '{"name": "linear", "A": [[1.0, 1.0]], "b": [0.2]}',
    )
    assert "'name': 'linear'" in out and "failures: 0" in out


def value(out: str, label: str) -> str:
    return out.split(label)[1].split()[0]


def test_quickstart_trains_and_reports():
    out = run("quickstart.py", "--steps", "300", "--progress-bar", "false")
    assert value(out, "steps:") == "300"
    assert 0.0 < float(value(out, "violation rate:")) <= 1.0
    assert float(value(out, "self-loop rate:")) > 0.0
    assert "all feasible" in out


def test_project_action_example():
    out = run("project_action.py", "--steps", "200")
    assert 0.0 <= float(value(out, "projection rate:")) <= 1.0
    assert "closed-form projector" in out


def test_reject_action_example_executes_nothing_infeasible():
    out = run("reject_action.py", "--train-steps", "64", "--episodes", "1")
    assert value(out, "infeasible executed:") == "0"
    assert int(value(out, "deployed steps:")) > 0


def test_constraint_monitor_example_measures():
    out = run("constraint_monitor.py", "--train-steps", "200", "--eval-steps", "100")
    assert value(out, "steps:") == "100"
    assert 0.0 <= float(value(out, "violation rate:")) <= 1.0
