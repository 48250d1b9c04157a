"""Where a sweep's jobs run: local worker processes, or Ray tasks.

Both backends do the same five things for :func:`acrl_bench.sweep.run_suite`: start a job,
say how many are running, hand back those that ended, ask the running ones to stop with a
checkpoint (:meth:`interrupt`), and kill them (:meth:`kill`).

- :class:`LocalBackend` — each job in a fresh ``python -m acrl_bench.worker`` process in a
  session of its own (so a terminal Ctrl-C reaches only the driver, which forwards one
  SIGINT to each job); one torch thread each by default.
- :class:`RayBackend` — each job a Ray task (1 CPU) on a Ray instance started on this
  machine, or on the cluster at ``address``; :meth:`~RayBackend.interrupt` is
  ``ray.cancel``, which raises ``KeyboardInterrupt`` inside the task.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from acrl_bench.errors import BenchError
from acrl_bench.jobs import OUTCOME_FILE, JobOutcome, run_job
from acrl_bench.suite import Job

__all__ = ["BACKENDS", "LocalBackend", "RayBackend"]

_POLL = 0.1


def _no_outcome(job: Job, error: str, interrupted: bool) -> JobOutcome:
    return {
        "key": job.key,
        "status": "interrupted" if interrupted else "failed",
        "error": error,
        "traceback": "",
    }


class LocalBackend:
    """Jobs in worker processes on this machine (see the module docstring).

    Args:
        capacity: jobs that may run at once.
        threads: torch threads per job.
    """

    def __init__(self, capacity: int, threads: int = 1, **_: Any) -> None:
        self.capacity = capacity
        self.threads = threads
        self._procs: dict[subprocess.Popen[bytes], tuple[Job, Path, IO[bytes]]] = {}
        self._interrupted = False

    def start(self, job: Job, folder: Path) -> None:
        """Start ``job`` in ``folder`` (its output appended to ``folder/output.log``)."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / OUTCOME_FILE).unlink(missing_ok=True)
        log = (folder / "output.log").open("ab")
        command = [sys.executable, "-m", "acrl_bench.worker", str(folder), str(self.threads)]
        proc = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(job.to_dict()).encode())
        proc.stdin.close()
        self._procs[proc] = (job, folder, log)

    def running(self) -> int:
        """Jobs started and not yet handed back."""
        return len(self._procs)

    def wait(self, timeout: float) -> list[tuple[Job, JobOutcome]]:
        """The jobs that ended, waiting up to ``timeout`` seconds for one."""
        deadline = time.monotonic() + timeout
        while True:
            ended = [proc for proc in self._procs if proc.poll() is not None]
            if ended or time.monotonic() >= deadline:
                return [self._collect(proc) for proc in ended]
            time.sleep(_POLL)

    def _collect(self, proc: subprocess.Popen[bytes]) -> tuple[Job, JobOutcome]:
        job, folder, log = self._procs.pop(proc)
        log.close()
        path = folder / OUTCOME_FILE
        try:
            outcome = json.loads(path.read_text())
            path.unlink()
        except (OSError, json.JSONDecodeError):
            outcome = _no_outcome(
                job,
                f"the job's process ended with status {proc.returncode} before it wrote an "
                f"outcome (see {folder / 'output.log'})",
                self._interrupted,
            )
        return job, outcome

    def interrupt(self) -> None:
        """Send each running job one SIGINT: training saves a checkpoint and ends."""
        self._interrupted = True
        for proc in self._procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)

    def kill(self) -> None:
        """Kill the running jobs now (their last periodic checkpoint stays)."""
        self._interrupted = True
        for proc in self._procs:
            if proc.poll() is None:
                proc.kill()

    def close(self) -> None:
        """Kill and reap whatever still runs."""
        self.kill()
        for proc, (_, _, log) in list(self._procs.items()):
            proc.wait()
            log.close()
        self._procs.clear()


class RayBackend:
    """Jobs as Ray tasks (see the module docstring).

    Args:
        capacity: jobs that may run at once (default: the cluster's CPUs).
        threads: torch threads per job.
        address: a Ray cluster (``ray://host:10001`` or ``auto``); ``None`` starts Ray here
            with ``capacity`` CPUs.
    """

    def __init__(self, capacity: int | None, threads: int = 1, address: str | None = None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise BenchError("the Ray backend needs Ray: pip install 'acrl-bench[ray]'") from exc
        self._ray = ray
        self._started = not ray.is_initialized()
        if self._started:
            ray.init(
                address=address,
                num_cpus=None if address else capacity,
                include_dashboard=False,
                log_to_driver=False,
            )
        self.capacity = capacity or max(1, int(ray.cluster_resources().get("CPU", 1)))
        self.threads = threads
        self._remote = ray.remote(num_cpus=1, max_retries=0)(run_job)
        self._pending: dict[Any, Job] = {}
        self._interrupted = False

    def start(self, job: Job, folder: Path) -> None:
        """Submit ``job`` (the folder must be on a filesystem the workers share)."""
        self._pending[self._remote.remote(job, str(folder), self.threads)] = job

    def running(self) -> int:
        """Tasks submitted and not yet handed back."""
        return len(self._pending)

    def wait(self, timeout: float) -> list[tuple[Job, JobOutcome]]:
        """The tasks that ended, waiting up to ``timeout`` seconds for one."""
        if not self._pending:
            return []
        done, _ = self._ray.wait(list(self._pending), num_returns=1, timeout=timeout)
        return [self._collect(ref) for ref in done]

    def _collect(self, ref: Any) -> tuple[Job, JobOutcome]:
        job = self._pending.pop(ref)
        try:
            return job, self._ray.get(ref)
        except Exception as exc:  # cancelled before it ran, worker died, ...
            return job, _no_outcome(job, f"{type(exc).__name__}: {exc}", self._interrupted)

    def interrupt(self) -> None:
        """``ray.cancel`` each task: ``KeyboardInterrupt`` in it, so training checkpoints."""
        self._interrupted = True
        for ref in self._pending:
            self._ray.cancel(ref, force=False)

    def kill(self) -> None:
        """Kill the running tasks' workers now."""
        self._interrupted = True
        for ref in self._pending:
            self._ray.cancel(ref, force=True)

    def close(self) -> None:
        """Shut down the Ray instance this backend started (a cluster is left running)."""
        if self._pending:
            self.kill()
        if self._started:
            self._ray.shutdown()


BACKENDS: dict[str, type[LocalBackend] | type[RayBackend]] = {
    "local": LocalBackend,
    "ray": RayBackend,
}
"""``--backend`` name -> backend class."""
