"""The Python sweep API from a plain script, with no ``if __name__ == "__main__":`` guard."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = """
from acrl_bench import load_suite, run_suite, write_report

suite = load_suite("scripted", {
    "seeds": 2, "eval_episodes": 1,
    "tasks": [{"env": "ACRL/ReacherL2-v0"}],
    "methods": [{"label": "SAC", "algo": "sac", "steps": 60,
                 "hyperparams": {"learning_starts": 40, "batch_size": 16}}],
})
counts = run_suite(suite, "out", workers=2)
print("counts", counts.done, counts.failed)
print("report", write_report(suite, "out"))
"""


def test_run_suite_from_a_script_without_a_main_guard(tmp_path):
    script = tmp_path / "sweep.py"
    script.write_text(textwrap.dedent(SCRIPT))
    ran = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert ran.returncode == 0, ran.stderr
    assert "counts 2 0" in ran.stdout and "BrokenProcessPool" not in ran.stderr
    assert ran.stdout.count("scripted: 2 jobs") == 1  # the script ran once, not once per worker
    results = sorted((tmp_path / "out").glob("runs/*/sac/seed*/result.json"))
    assert [json.loads(p.read_text())["seed"] for p in results] == [0, 1]
    assert (tmp_path / "out" / "summary.md").exists()
