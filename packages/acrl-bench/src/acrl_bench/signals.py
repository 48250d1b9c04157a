"""Ctrl-C (SIGINT) in a sweep: the driver's stop request and the jobs' one graceful stop.

- :class:`StopRequest` — installed by the sweep's driver: the first SIGINT asks the sweep
  to stop (no new job starts; running jobs are told to save a checkpoint and end), a
  second one asks it to stop now (running jobs are killed; their last periodic checkpoint
  stays).
- :func:`interrupt_once` — installed around a job: the first SIGINT raises
  ``KeyboardInterrupt`` (training saves a checkpoint and ends), later ones are ignored so
  nothing interrupts the checkpoint being written.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

__all__ = ["StopRequest", "interrupt_once"]


class StopRequest:
    """The sweep driver's view of Ctrl-C: ``requested`` after one SIGINT, ``forced`` after two.

    Use as a context manager; outside the main thread (where Python cannot handle
    signals) it installs nothing and only :meth:`request` sets it. The handler only sets
    flags: the sweep's loop notices them and prints (printing inside a signal handler can
    collide with a write in progress).

    Example:
        >>> import os, signal
        >>> with StopRequest() as stop:
        ...     os.kill(os.getpid(), signal.SIGINT)
        >>> stop.requested, stop.forced
        (True, False)
    """

    def __init__(self) -> None:
        self.requested = False
        self.forced = False
        self._previous: Any = None
        self._installed = False

    def request(self) -> None:
        """Ask the sweep to stop (what the first SIGINT does)."""
        self.requested = True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            self.forced = True
            return
        self.request()

    def __enter__(self) -> StopRequest:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


@contextlib.contextmanager
def interrupt_once() -> Iterator[None]:
    """Within the block, the first SIGINT raises ``KeyboardInterrupt``; later ones are ignored.

    The handler that was there before is restored afterwards. Outside the main thread
    (a Ray task's thread, say) nothing is installed: Ray raises ``KeyboardInterrupt``
    itself when the task is cancelled.

    Example:
        >>> import os, signal
        >>> with interrupt_once():
        ...     try:
        ...         os.kill(os.getpid(), signal.SIGINT)
        ...     except KeyboardInterrupt:
        ...         os.kill(os.getpid(), signal.SIGINT)  # ignored: the job is saving
        ...         print("stopping")
        stopping
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
