"""Errors of acrl-bench; each message names the problem and the fix."""

from __future__ import annotations

from acrl_wrappers.errors import AcrlError

__all__ = ["BenchError", "CheckpointError", "ConfigError", "SuiteError"]


class BenchError(AcrlError):
    """Base class of acrl-bench's errors."""


class ConfigError(BenchError, ValueError):
    """A run configuration that cannot work: unknown names, bad hyperparameters, bad YAML."""


class CheckpointError(BenchError):
    """A run directory or checkpoint that is missing, corrupt or from another run."""


class SuiteError(BenchError, ValueError):
    """A benchmark suite that is unknown or malformed."""
