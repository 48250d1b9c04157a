"""acrl-bench: ``acrl train``, ``acrl evaluate`` and ``acrl bench`` for acrl.

- :func:`train` / :class:`RunConfig` — a run directory with model, config, logs and
  checkpoints (:mod:`acrl_bench.train`);
- :func:`evaluate_run` — return, cost, valid-action rate the papers' way, executed
  violations, projections, inference time (:mod:`acrl_bench.evaluate`);
- :func:`find_suite` / :func:`load_suite` / :func:`run_suite` / :func:`write_report` —
  benchmark suites as data (registered or in a YAML file), run on local worker processes
  or Ray, stoppable with Ctrl-C, reported as tables (mean ± std, IQM with bootstrap
  intervals), CSV/JSON and learning curves.

Example:
    >>> from acrl_bench import RunConfig
    >>> RunConfig(algo="ppo", env="ACRL/HopperM10-v0").resolved().enforce
    'project'
"""

from __future__ import annotations

from acrl_bench.config import DEFAULT_RUN, RunConfig
from acrl_bench.errors import (
    BenchError,
    BudgetWarning,
    CheckpointError,
    ConfigError,
    SuiteError,
    SweepInterrupted,
)
from acrl_bench.evaluate import evaluate_run
from acrl_bench.report import write_report
from acrl_bench.suite import Job, Suite, find_suite, load_suite, load_suite_file, registered_suite
from acrl_bench.sweep import SweepCounts, run_suite
from acrl_bench.train import TrainingFailed, TrainingInterrupted, TrainReport, train, train_run

__all__ = [
    "DEFAULT_RUN",
    "BenchError",
    "BudgetWarning",
    "CheckpointError",
    "ConfigError",
    "Job",
    "RunConfig",
    "Suite",
    "SuiteError",
    "SweepCounts",
    "SweepInterrupted",
    "TrainReport",
    "TrainingFailed",
    "TrainingInterrupted",
    "evaluate_run",
    "find_suite",
    "load_suite",
    "load_suite_file",
    "registered_suite",
    "run_suite",
    "train",
    "train_run",
    "write_report",
]
