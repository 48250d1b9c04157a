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
    assert len(rows) == 28  # 16 of the core families, 12 of the families of issue 18
    assert any(line.startswith("| power | 6 |") and "*" in line for line in rows)
    for family in ("slew-rate", "simplex", "capped-simplex (u(s))", "psd (3x3)"):
        row = next(line for line in rows if line.startswith(f"| {family} |"))
        assert float(row.rstrip(" |").split(" | ")[-1]) > 0  # the batch-of-64 column


def test_wrapper_overhead_benchmark_compares_vector_and_per_env_wrappers(tmp_path):
    table = run("wrapper_overhead.py", tmp_path / "w.md", "--parts", "3", "--vector-steps", "40")
    for env in ("Gymnasium SyncVectorEnv", "SB3 DummyVecEnv"):
        for n in (16, 64):
            assert f"| {env} | {n} |" in table


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


def test_ctrpo_benchmark_writes_a_row_per_algorithm(tmp_path):
    report = run("ctrpo.py", tmp_path / "c.md", "--quick")
    results = report.split("## Throughput")[0]
    rows = [line for line in results.splitlines() if line.startswith("| SafeHopperVelocity-v1 |")]
    assert [row.split(" | ")[1] for row in rows] == ["TRPO", "TRPO-Lagrangian", "C-TRPO"]
    for row in rows:
        ret, cost, regret, sps = row.split(" | ")[2:6]
        assert float(ret.split(" ± ")[0]) > 0 and float(cost.split(" ± ")[0]) >= 0
        assert float(regret.split(" ± ")[0]) >= 0 and float(sps) > 0
    assert (tmp_path / "c.jsonl").read_text().count("\n") == 3
    assert "| C-TRPO |" in report.split("## Throughput")[1]  # the throughput rounds ran
    assert "## Targets" in report and "C-TRPO, h = 0.8 (paper)" in report


def test_flows_benchmark_trains_every_flow_and_the_rl_methods(tmp_path):
    table = run("flows.py", tmp_path / "f.md", "--quick", "--rl", "--flow-dir", str(tmp_path))
    for constraint in ("reacher-l2", "halfcheetah-o20", "hopper-m10"):
        for method in ("flowpg", "cvflow"):
            assert f"| {constraint} | {method} |" in table
            assert (tmp_path / f"{constraint}-{method}.flow").exists()
    for method in ("SAC + ProjectAction", "FlowPG", "CVFlowSAC"):
        assert f"| {method} | 300 |" in table


def test_aram_benchmark_writes_a_row_per_task_and_method(tmp_path):
    table = run("aram.py", tmp_path / "a.md", "--quick")
    for task in ("ReacherL2-v0", "HalfCheetahO20-v0"):
        rows = [line for line in table.splitlines() if line.startswith(f"| {task} |")]
        assert [row.split(" | ")[1] for row in rows] == [
            "ARAM",
            "SAC + ProjectAction (SPre+)",
            "SAC + AutoMDP",
        ]
        for row in rows:
            ret, valid, qp, micros = row.split(" | ")[2:6]
            assert 0.0 <= float(valid.split(" ± ")[0]) <= 1.0
            assert float(qp) >= 0 and float(micros) > 0 and "±" in ret
    assert "Targets" in table
    assert (tmp_path / "a.jsonl").read_text().count("\n") == 6


def test_cvpo_benchmark_writes_a_row_per_algorithm(tmp_path):
    report = run("cvpo.py", tmp_path / "v.md", "--quick")
    results = report.split("## Targets")[0]
    rows = [line for line in results.splitlines() if line.startswith("| SafeHopperVelocity-v1 |")]
    assert [row.split(" | ")[1] for row in rows] == ["CVPO", "SAC-Lagrangian"]
    for row in rows:
        ret, cost, regret, sps = row.split(" | ")[2:6]
        assert float(ret.split(" ± ")[0]) > 0 and float(cost.split(" ± ")[0]) >= 0
        assert float(regret.split(" ± ")[0]) >= 0 and float(sps) > 0
    assert (tmp_path / "v.jsonl").read_text().count("\n") == 2
    assert "CVPO final cost <= 25" in report and "OmniSafe TRPOLag" in report


def test_default_run_benchmark_compares_the_candidates_with_random_feasible_actions(tmp_path):
    table = run("default_run.py", tmp_path / "d.md", "--quick")
    assert "Uniformly random feasible actions score" in table
    rows = [line for line in table.splitlines() if line.startswith("| sac-")]
    names = ["sac-automdp", "sac-project", "sac-project-penalty0.3", "sac-project-penalty1"]
    assert [row.split(" | ")[0] for row in rows] == [f"| {n}" for n in names]
    assert all(row.endswith("| 0 of 50 |") for row in rows)  # nothing infeasible executed
    assert (tmp_path / "d.jsonl").read_text().count("\n") == 4


def test_baseline_layers_benchmark_reports_projection_and_oracle_costs(tmp_path):
    table = run("baseline_layers.py", tmp_path / "b.md", "--repeats", "2", "--batch", "32")
    row = next(line for line in table.splitlines() if line.startswith("| halfcheetah-o20 | closed"))
    forward, both, ratio = (float(x) for x in row.rstrip(" |").split(" | ")[2:5])
    assert forward > 0 and both > 0 and abs(ratio - both / forward) < 0.02
    assert "| acrl OSQP layer (KKT backward) |" in table and "| OSQP 1.x adjoint" in table
    assert "| nsfnet | lp |" in table
