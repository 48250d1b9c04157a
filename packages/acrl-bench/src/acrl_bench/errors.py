"""Errors and warnings of acrl-bench; each message names the problem and the fix."""

from __future__ import annotations

from acrl_wrappers.errors import AcrlError

__all__ = [
    "BenchError",
    "BudgetWarning",
    "CheckpointError",
    "ConfigError",
    "SuiteError",
    "SweepInterrupted",
]


class BenchError(AcrlError):
    """Base class of acrl-bench's errors."""


class ConfigError(BenchError, ValueError):
    """A run configuration that cannot work: unknown names, bad hyperparameters, bad YAML."""


class CheckpointError(BenchError):
    """A run directory or checkpoint that is missing, corrupt or from another run."""


class SuiteError(BenchError, ValueError):
    """A benchmark suite that is unknown or malformed."""


class SweepInterrupted(BenchError):
    """A sweep stopped by Ctrl-C (SIGINT) after its running jobs saved a checkpoint.

    Attributes:
        counts: the sweep's :class:`~acrl_bench.sweep.SweepCounts` when it stopped.
    """

    def __init__(self, message: str, counts: object) -> None:
        super().__init__(message)
        self.counts = counts


class BudgetWarning(UserWarning):
    """Valid settings that will not do what they suggest; the message names the fix.

    For example a budget below ``learning_starts`` or a rollout longer than the run.
    """
