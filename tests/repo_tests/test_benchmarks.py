"""The benchmark scripts run with tiny budgets and write their tables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run(script: str, output: Path, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--output", str(output), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return output.read_text()


def test_projection_benchmark_writes_a_row_per_instance(tmp_path):
    table = run("projection.py", tmp_path / "p.md", "--repeats", "20")
    rows = [line for line in table.splitlines() if line.startswith("| ") and "family" not in line]
    assert len(rows) == 16
    assert any(line.startswith("| power | 6 |") and "*" in line for line in rows)


def test_tasks_benchmark_covers_every_registered_task(tmp_path):
    table = run(
        "tasks.py", tmp_path / "t.md", "--states", "5", "--actions", "10", "--episodes", "1"
    )
    for task in (
        "ACRL/ReacherL2-v0",
        "ACRL/HalfCheetahO20-v0",
        "ACRL/BSS3z-v0",
        "ACRL/NSFnet-v0",
        "ACRL/SafeHopperVelocity-v1",
    ):
        assert f"| {task} |" in table
