"""Ctrl-C on a running sweep, as a terminal sends it: to the driver's process group.

The first SIGINT must stop the sweep at once: the queued job never starts, the running one
saves a checkpoint and ends, the finished one is recorded, the command to continue is
printed, the exit status is 130, and no job process is left running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc for processes")

SMALL = {"learning_starts": 50, "batch_size": 16, "policy_kwargs": {"net_arch": [16, 16]}}
SUITE = {
    "seeds": 1,
    "eval_episodes": 1,
    "tasks": [{"env": "ACRL/ReacherL2-v0"}],
    "methods": [  # run one at a time (-j 1), in this order
        {"label": "short", "algo": "sac", "steps": 100, "hyperparams": SMALL},
        {"label": "long", "algo": "sac", "steps": 200_000, "save_freq": 100, "hyperparams": SMALL},
        {"label": "queued", "algo": "sac", "steps": 100, "hyperparams": SMALL},
    ],
}


def descendants(pid: int) -> set[int]:
    """Every living process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of ``pids`` still running (not zombies)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            running.add(pid)
    return running


def wait_for(condition, process: subprocess.Popen, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the sweep ended before {what}: {process.communicate()}"
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {timeout} s")


def interrupt_a_running_sweep(tmp_path: Path, *backend: str) -> None:
    path = tmp_path / "stoppable.yaml"
    path.write_text(yaml.safe_dump(SUITE))
    out = tmp_path / "out"
    runs = out / "runs" / "acrl-reacherl2-v0"
    command = [sys.executable, "-m", "acrl_wrappers", "bench", str(path), "--out", str(out)]
    process = subprocess.Popen(
        [*command, "-j", "1", *backend],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a shell's foreground job
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        wait_for(lambda: (runs / "short/seed0/result.json").exists(), process, "finished job")
        latest = runs / "long/seed0/run/checkpoints/LATEST"
        wait_for(latest.exists, process, "checkpoint of the running job")
        before = descendants(process.pid)
        assert before, "the running job has no process"
        sent = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C at a terminal does
        stdout, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stdout + stderr
    assert time.monotonic() - sent < 60
    assert not alive(before), "a job process outlived the sweep"
    assert (runs / "short/seed0/result.json").exists()  # the finished job is recorded
    assert not (runs / "long/seed0/result.json").exists()
    steps = json.loads(
        (latest.parent / latest.read_text().strip() / "checkpoint.json").read_text()
    )["steps"]
    assert 100 <= steps < 200_000  # the running job saved a checkpoint and stopped
    assert not (runs / "queued").exists()  # the queued job never started
    assert "interrupted" in stdout and "1 not started" in stderr
    resume = next(line for line in stderr.splitlines() if line.startswith("continue with: "))
    assert resume == " ".join(
        ["continue with: acrl bench", str(path), *backend, "-j 1 --out", str(out)]
    )
    summary = (out / "summary.md").read_text()
    assert "| short |" in summary  # the report of what finished


def test_ctrl_c_stops_a_local_sweep(tmp_path):
    interrupt_a_running_sweep(tmp_path)


def test_ctrl_c_stops_a_sweep_on_ray_local_mode(tmp_path):
    pytest.importorskip("ray")
    interrupt_a_running_sweep(tmp_path, "--backend", "ray")
