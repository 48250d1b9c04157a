"""One job of a sweep, run in the process that calls it: train, evaluate, build the result.

- :func:`execute_job` — train (or resume) and evaluate one job in its folder; never raises:
  a crash is an outcome, and Ctrl-C (``KeyboardInterrupt``) ends training with a
  checkpoint and the outcome ``"interrupted"``.
- :func:`run_job` — the same with the process's output sent to ``folder/output.log`` (Ray
  workers, and any caller that wants the terminal quiet).

An outcome is plain data: ``{"key", "status": "done" | "failed" | "interrupted",
"result" | "error"}``; the sweep's driver writes it (:mod:`acrl_bench.sweep`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from acrl_bench.results import RESULT_FORMAT, job_settings
from acrl_bench.suite import Job

__all__ = ["OUTCOME_FILE", "JobOutcome", "execute_job", "run_job"]

OUTCOME_FILE = ".outcome.json"
"""Where a worker process leaves its outcome for the driver (in the job's folder)."""

JobOutcome = dict[str, Any]
"""What a job returns: ``{"key", "status": "done" | "failed" | "interrupted", ...}``."""


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr to ``path`` (file descriptors 1 and 2)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with path.open("a") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


def run_job(job: Job, folder: str, threads: int = 1) -> JobOutcome:
    """:func:`execute_job` with the output going to ``folder/output.log``; never raises."""
    with _output_to(Path(folder) / "output.log"):
        return execute_job(job, folder, threads)


def execute_job(job: Job, folder: str, threads: int = 1) -> JobOutcome:
    """Train (resuming a checkpoint) and evaluate ``job`` in ``folder``; never raises.

    Example:
        >>> import tempfile
        >>> from acrl_bench.suite import load_suite
        >>> suite = load_suite("demo", {"seeds": 1, "eval_episodes": 1,
        ...     "tasks": [{"env": "ACRL/ReacherL2-v0"}],
        ...     "methods": [{"label": "SAC", "algo": "sac", "steps": 60,
        ...                  "hyperparams": {"learning_starts": 50, "batch_size": 16}}]})
        >>> outcome = execute_job(suite.jobs[0], tempfile.mkdtemp())
        >>> outcome["status"], outcome["result"]["settings"]["run"]["steps"]
        ('done', 60)
    """
    import torch

    torch.set_num_threads(threads)
    try:
        return {"key": job.key, "status": "done", "result": _train_and_evaluate(job, folder)}
    except KeyboardInterrupt:
        return _interrupted(job, folder)
    except Exception as exc:  # a crashed job is recorded; the sweep goes on
        from acrl_bench.train import TrainingInterrupted

        if isinstance(exc, TrainingInterrupted):
            return _interrupted(job, folder, str(exc))
        return {
            "key": job.key,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }


def _interrupted(job: Job, folder: str, message: str = "") -> JobOutcome:
    from acrl_bench.checkpoint import CHECKPOINTS

    latest = Path(folder) / "run" / CHECKPOINTS / "LATEST"
    saved = latest.read_text().strip() if latest.exists() else None
    return {
        "key": job.key,
        "status": "interrupted",
        "checkpoint": saved,
        "error": message or "interrupted before training started",
    }


def _train_and_evaluate(job: Job, folder: str) -> dict[str, Any]:
    from acrl_bench.callbacks import read_episodes
    from acrl_bench.config import CONFIG_FILE, read_config
    from acrl_bench.evaluate import evaluate_run
    from acrl_bench.run_dir import package_versions
    from acrl_bench.train import train, train_run

    run_dir = Path(folder) / "run"
    if (run_dir / CONFIG_FILE).exists():  # the driver checked it is this job's run
        report = train_run(run_dir, progress_bar=False)
    else:  # checked whole first: a bad config makes no run/ folder
        report = train(job.config, run_dir=run_dir, progress_bar=False)
    evaluation = evaluate_run(run_dir, episodes=job.eval_episodes)
    return {
        "format": RESULT_FORMAT,
        "label": job.label,
        "env": job.env,
        "seed": job.seed,
        "settings": job_settings(read_config(run_dir), job.eval_episodes),
        "versions": package_versions(),
        "train": report.summary(),
        "eval": evaluation,
        "episodes": read_episodes(run_dir / "episodes.csv"),
    }
