"""Running a suite: independent jobs on local worker processes or Ray, resumable, stoppable.

Output layout (``--out``, default ``bench/<suite>/``): see :mod:`acrl_bench.results`.

:func:`run_suite` first checks every job (names, types and ranges of every setting; an
error names the job and nothing is created) and prints the warnings of settings that will
not do what they suggest. A job whose ``result.json`` answers it exactly is skipped; one
whose result or unfinished run has other settings is re-run, its old run moved to
``previous-<n>/``; an unfinished run of the same job resumes from its newest checkpoint.
At most ``workers`` jobs run at once and none is queued anywhere else, so Ctrl-C (SIGINT)
stops the sweep at once: no further job starts, each running job saves a checkpoint and
ends, finished ones are recorded, and :class:`~acrl_bench.errors.SweepInterrupted` is
raised (a second Ctrl-C kills the running jobs). One crashed job is recorded in
``error.json`` and the others continue.

Safe to call from a script without an ``if __name__ == "__main__":`` guard: local jobs run
in fresh interpreters (:mod:`acrl_bench.worker`), which never import the caller's script.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acrl_bench.backends import BACKENDS
from acrl_bench.errors import BenchError, SuiteError, SweepInterrupted
from acrl_bench.files import write_text_atomic
from acrl_bench.jobs import JobOutcome, run_job
from acrl_bench.results import ERROR_FILE, RESULT_FILE, JobState, job_dir, job_state, supersede
from acrl_bench.signals import StopRequest
from acrl_bench.suite import Job, Suite
from acrl_bench.validation import check_count, run_warnings

__all__ = [
    "BACKENDS",
    "ERROR_FILE",
    "RESULT_FILE",
    "JobOutcome",
    "SweepCounts",
    "job_dir",
    "plan",
    "run_job",
    "run_suite",
]

_WAIT = 0.2


@dataclass
class SweepCounts:
    """What a sweep did with its jobs.

    Attributes:
        total: the suite's jobs.
        skipped: already finished with these settings.
        done: trained and evaluated now (``result.json`` written).
        failed: crashed (``error.json`` written; retried on the next run).
        rerun: of those run now, how many replaced a run with other settings.
        interrupted: stopped by Ctrl-C with a checkpoint (resume on the next run).
        cancelled: not started because of Ctrl-C.
    """

    total: int = 0
    skipped: int = 0
    done: int = 0
    failed: int = 0
    rerun: int = 0
    interrupted: int = 0
    cancelled: int = 0

    def as_dict(self) -> dict[str, int]:
        """The counts as a plain dict."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Planned:
    job: Job
    folder: Path
    state: JobState


def _resolved(suite: Suite, job: Job) -> Job:
    try:
        return dataclasses.replace(job, config=job.config.resolved())
    except Exception as exc:
        message = " ".join(str(exc).split())
        raise SuiteError(f"suite {suite.name!r}, {job.label!r} on {job.env}: {message}") from exc


def plan(
    suite: Suite, out: str | Path, echo: Callable[[str], None] = print
) -> tuple[list[_Planned], int]:
    """Check every job and compare it with ``out``; returns (jobs to run, jobs finished).

    Nothing is created. Warnings and re-runs are printed with ``echo``.

    Raises:
        SuiteError: a job whose settings cannot work (it names the job).
    """
    jobs = [_resolved(suite, job) for job in suite.jobs]  # every job before any runs
    warned: set[tuple[str, str]] = set()
    for job in jobs:
        if (job.label, job.env) not in warned:
            warned.add((job.label, job.env))
            for message in run_warnings(job.config):
                echo(f"Warning: {job.label} on {job.env}: {message}")
    todo, finished, legacy = [], 0, 0
    for job in jobs:
        folder = job_dir(out, job)
        state = job_state(folder, job.config, job.eval_episodes)
        if state.status in ("finished", "legacy"):
            finished += 1
            legacy += state.status == "legacy"
            continue
        if state.status == "stale":
            echo(f"{job.key}: settings changed ({', '.join(state.differences)}); re-running it")
        todo.append(_Planned(job, folder, state))
    if legacy:
        echo(
            f"{legacy} finished results predate recorded settings: reused because algorithm, "
            "task, enforcement, steps and evaluation episodes match"
        )
    return todo, finished


def _record(out: Path, job: Job, outcome: JobOutcome) -> None:
    folder = job_dir(out, job)
    if outcome["status"] == "done":
        write_text_atomic(folder / RESULT_FILE, json.dumps(outcome["result"]))
        (folder / ERROR_FILE).unlink(missing_ok=True)
    elif outcome["status"] == "failed":
        write_text_atomic(folder / ERROR_FILE, json.dumps(outcome, indent=2))


def _line(position: int, total: int, job: Job, outcome: JobOutcome) -> str:
    status = outcome["status"]
    if status == "done":
        return f"[{position}/{total}] {job.key} done"
    if status == "interrupted":
        saved = outcome.get("checkpoint")
        where = f"checkpoint {saved} kept" if saved else "no checkpoint yet"
        return f"[{position}/{total}] {job.key} interrupted ({where}; it resumes on the next run)"
    return f"[{position}/{total}] {job.key} failed: {outcome['error']}"


def _drive(
    runner: Any,
    todo: list[_Planned],
    out: Path,
    stop: StopRequest,
    counts: SweepCounts,
    echo: Callable[[str], None],
) -> None:
    queue = deque(todo)
    interrupted = killed = False
    ended = 0
    while queue or runner.running():
        if stop.requested and not interrupted:
            interrupted = True
            counts.cancelled = len(queue)
            queue.clear()
            echo(
                f"\nCtrl-C: stopping; {counts.cancelled} queued jobs will not start, "
                f"{runner.running()} running jobs save a checkpoint and end (Ctrl-C again to "
                "kill them now)"
            )
            runner.interrupt()
        if stop.forced and not killed:
            killed = True
            echo("Ctrl-C again: killing the running jobs (their last periodic checkpoint stays)")
            runner.kill()
        while queue and runner.running() < runner.capacity and not stop.requested:
            planned = queue.popleft()
            if planned.state.status == "stale":
                supersede(planned.folder)
                counts.rerun += 1
            runner.start(planned.job, planned.folder)
        for job, outcome in runner.wait(_WAIT):
            _record(out, job, outcome)
            ended += 1
            status = outcome["status"]
            setattr(counts, status, getattr(counts, status) + 1)
            echo(_line(ended, len(todo), job, outcome))


def run_suite(
    suite: Suite,
    out: str | Path,
    *,
    backend: str = "local",
    workers: int | None = None,
    address: str | None = None,
    threads: int = 1,
    echo: Callable[[str], None] = print,
) -> SweepCounts:
    """Run the jobs of ``suite`` that ``out`` does not hold yet; returns what happened.

    Args:
        suite: the suite (:func:`~acrl_bench.suite.find_suite`, :func:`~acrl_bench.load_suite`).
        out: output folder (shared by all workers: a cluster needs a shared filesystem
            for the run folders; results come back to the driver, which writes them).
        backend: ``"local"`` or ``"ray"``.
        workers: jobs at once (local) or CPUs of a local Ray instance; default: the CPU
            count (a Ray cluster: its CPUs).
        address: a Ray cluster's address (``ray://host:10001`` or ``auto``).
        threads: torch threads per job.
        echo: where progress lines go.

    Raises:
        SuiteError: a job that cannot work; nothing was created.
        SweepInterrupted: Ctrl-C; running jobs saved a checkpoint, finished ones are
            recorded (``.counts`` says how many); call again to continue.

    Example:
        >>> import tempfile
        >>> from acrl_bench import load_suite
        >>> suite = load_suite("demo", {"seeds": 1, "eval_episodes": 1,
        ...     "tasks": [{"env": "ACRL/ReacherL2-v0"}],
        ...     "methods": [{"label": "SAC", "algo": "sac", "steps": 60,
        ...                  "hyperparams": {"learning_starts": 50, "batch_size": 16}}]})
        >>> counts = run_suite(suite, tempfile.mkdtemp(), workers=1, echo=lambda line: None)
        >>> counts.done, counts.failed
        (1, 0)
    """
    if backend not in BACKENDS:
        raise BenchError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if workers is not None:
        check_count("workers", workers, flag="-j/--jobs")
    check_count("threads", threads, flag="--threads")
    out = Path(out).resolve()
    todo, finished = plan(suite, out, echo)
    counts = SweepCounts(total=len(suite.jobs), skipped=finished)
    echo(
        f"{suite.name}: {counts.total} jobs, {finished} already finished, {len(todo)} to run "
        f"on {backend}"
    )
    if not todo:
        return counts
    capacity = workers if backend == "ray" else (workers or os.cpu_count() or 1)
    runner = BACKENDS[backend](capacity, threads=threads, address=address)
    with StopRequest() as stop:
        try:
            _drive(runner, todo, out, stop, counts, echo)
        finally:
            runner.close()
    if stop.requested:
        raise SweepInterrupted(
            f"stopped by Ctrl-C: {counts.done} jobs finished and recorded, {counts.interrupted} "
            f"interrupted with a checkpoint, {counts.cancelled} not started; run the sweep "
            "again with the same settings to continue",
            counts,
        )
    return counts
