"""Running a suite: independent jobs on a local process pool or on Ray, resumable.

Output layout (``--out``, default ``bench/<suite>/``)::

    runs/<task>/<method>/seed<k>/
        run/            the job's run directory (acrl train layout)
        result.json     written atomically when the job finished: training + evaluation
        error.json      the traceback of a job that crashed (it is retried on re-run)
        output.log      what the job printed (warnings, solver and simulator messages)
    summary.md, *.png   the report (acrl_bench.report)

A job whose ``result.json`` exists is skipped, so an interrupted sweep continues where it
stopped; an unfinished job resumes from its newest checkpoint. One crashed job is recorded
and the others continue.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from acrl_bench.config import write_text_atomic
from acrl_bench.errors import BenchError
from acrl_bench.suite import Job, Suite

__all__ = ["BACKENDS", "JobOutcome", "job_dir", "run_job", "run_suite"]

RESULT_FILE = "result.json"
ERROR_FILE = "error.json"

JobOutcome = dict[str, Any]
"""What a job returns: ``{"key", "status": "done" | "failed", "result" | "error"}``."""


def job_dir(out: str | Path, job: Job) -> Path:
    """The folder of ``job`` under the suite's output folder."""
    return Path(out) / "runs" / job.key


@contextlib.contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send this process's stdout and stderr to ``path`` while a job runs in a worker.

    File descriptors 1 and 2 are redirected, so C libraries' messages go there too.
    """
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
    """Train and evaluate one job in ``folder`` (resuming a checkpoint); never raises.

    Runs in a worker process (local pool or a Ray worker); the caller writes the outcome.
    The job's output (warnings, C libraries' messages) goes to ``folder/output.log``.
    """
    with _output_to(Path(folder) / "output.log"):
        return _train_and_evaluate(job, folder, threads)


def _train_and_evaluate(job: Job, folder: str, threads: int) -> JobOutcome:
    import torch

    torch.set_num_threads(threads)
    try:
        from acrl_bench.callbacks import read_episodes
        from acrl_bench.config import CONFIG_FILE
        from acrl_bench.evaluate import evaluate_run
        from acrl_bench.train import train, train_run

        run_dir = Path(folder) / "run"
        if (run_dir / CONFIG_FILE).exists():
            report = train_run(run_dir, progress_bar=False)
        else:  # checked whole first: a bad config makes no run/ folder
            report = train(job.config, run_dir=run_dir, progress_bar=False)
        evaluation = evaluate_run(run_dir, episodes=job.eval_episodes)
        result = {
            "label": job.label,
            "env": job.env,
            "seed": job.seed,
            "train": report.summary(),
            "eval": evaluation,
            "episodes": read_episodes(run_dir / "episodes.csv"),
        }
        return {"key": job.key, "status": "done", "result": result}
    except BaseException as exc:  # a crashed job is recorded; the sweep goes on
        if isinstance(exc, KeyboardInterrupt):
            raise
        return {
            "key": job.key,
            "status": "failed",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }


def _record(out: Path, job: Job, outcome: JobOutcome) -> None:
    folder = job_dir(out, job)
    if outcome["status"] == "done":
        write_text_atomic(folder / RESULT_FILE, json.dumps(outcome["result"]))
        (folder / ERROR_FILE).unlink(missing_ok=True)
    else:
        write_text_atomic(folder / ERROR_FILE, json.dumps(outcome, indent=2))


def _local(jobs: list[tuple[Job, str]], workers: int, **_: Any) -> Iterable[tuple[Job, JobOutcome]]:
    """Jobs on a process pool (spawned workers, one torch thread each)."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = {pool.submit(run_job, job, folder): job for job, folder in jobs}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _ray(
    jobs: list[tuple[Job, str]], workers: int, address: str | None = None, **_: Any
) -> Iterable[tuple[Job, JobOutcome]]:
    """Jobs as Ray tasks (one CPU each) on a cluster (``address``) or a local Ray instance."""
    try:
        import ray
    except ImportError as exc:
        raise BenchError("the Ray backend needs Ray: pip install 'acrl-bench[ray]'") from exc
    started = not ray.is_initialized()
    if started:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
        )
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(run_job)
        pending = {remote.remote(job, folder): job for job, folder in jobs}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                job = pending.pop(ref)
                yield job, ray.get(ref)
    finally:
        if started:
            ray.shutdown()


BACKENDS: dict[str, Callable[..., Iterable[tuple[Job, JobOutcome]]]] = {
    "local": _local,
    "ray": _ray,
}
"""``--backend`` name -> function running ``[(job, folder)]`` and yielding outcomes."""


def run_suite(
    suite: Suite,
    out: str | Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    echo: Callable[[str], None] = print,
) -> dict[str, int]:
    """Run the unfinished jobs of ``suite`` into ``out``; returns counts by status.

    Args:
        suite: the suite.
        out: output folder (shared by all workers: a cluster needs a shared filesystem
            for the run folders; results come back to the driver, which writes them).
        backend: ``"local"`` or ``"ray"``.
        workers: parallel jobs (local) or CPUs of a local Ray instance; default: CPU count.
        address: a Ray cluster's address (``ray://host:10001`` or ``auto``).
        echo: where progress lines go.
    """
    if backend not in BACKENDS:
        raise BenchError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    out = Path(out).resolve()
    todo = [
        (job, str(job_dir(out, job)))
        for job in suite.jobs
        if not (job_dir(out, job) / RESULT_FILE).exists()
    ]
    counts = {"skipped": len(suite.jobs) - len(todo), "done": 0, "failed": 0}
    echo(
        f"{suite.name}: {len(suite.jobs)} jobs, {counts['skipped']} already finished, "
        f"{len(todo)} to run on {backend}"
    )
    if not todo:
        return counts
    workers = workers or os.cpu_count() or 1
    for job, outcome in BACKENDS[backend](todo, workers, address=address):
        _record(out, job, outcome)
        counts[outcome["status"]] += 1
        tail = "" if outcome["status"] == "done" else f": {outcome['error']}"
        echo(
            f"[{counts['done'] + counts['failed']}/{len(todo)}] {job.key} {outcome['status']}{tail}"
        )
    return counts
