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
    out = run("project_actions.py", "--steps", "200")
    assert "projector:  closed-form" in out
    assert "failures: 0" in out
    infeasible = float(out.split("infeasible: ")[1].split(" %")[0])
    assert 0.0 < infeasible < 100.0


def test_project_actions_with_a_json_spec():
    out = run(
        "project_actions.py",
        "--steps",
        "50",
        "--constraint",
        '{"name": "linear", "A": [[1.0, 1.0]], "b": [0.2]}',
    )
    assert "'name': 'linear'" in out and "failures: 0" in out
