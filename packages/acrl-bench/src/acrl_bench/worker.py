"""``python -m acrl_bench.worker FOLDER``: one job of a local sweep, in a fresh interpreter.

The local backend starts one such process per job (at most ``-j`` at a time), in a
session of its own, so a Ctrl-C at the terminal reaches only the driver, which forwards
one SIGINT to each running job. The job is read as JSON from standard input; the
outcome is written atomically to ``FOLDER/.outcome.json``; what the job prints goes to
``FOLDER/output.log`` (the driver opens it as this process's stdout and stderr).

A fresh interpreter never imports the caller's ``__main__``, so a sweep started from a
script without an ``if __name__ == "__main__":`` guard works (``multiprocessing``'s
spawned pools re-run such a script in every worker and break).
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Run the job given on stdin in folder ``argv[0]``; 0 once its outcome is written."""
    from acrl_bench.files import write_json_atomic
    from acrl_bench.jobs import OUTCOME_FILE, execute_job
    from acrl_bench.signals import interrupt_once
    from acrl_bench.suite import Job

    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0])
    threads = int(args[1]) if len(args) > 1 else 1
    with interrupt_once():
        job = Job.from_dict(json.loads(sys.stdin.read()))
        outcome = execute_job(job, str(folder), threads)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the outcome is written, come what may
        write_json_atomic(folder / OUTCOME_FILE, outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
