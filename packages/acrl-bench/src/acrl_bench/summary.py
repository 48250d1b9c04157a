"""A suite's results gathered and summarised as data: what every report file is written from.

- :func:`summarize` — reads each job's ``result.json`` that answers the job as the suite
  now asks for it (:func:`~acrl_bench.results.job_state`), and computes per task and
  method: each metric per seed, mean ± std, IQM with a 95 % interval
  (:mod:`acrl_bench.statistics`), the paper's figures, the steps actually trained;
- :class:`SuiteSummary` — the result, with :meth:`~SuiteSummary.to_dict` (``summary.json``)
  and :meth:`~SuiteSummary.csv_rows` (``summary.csv``).

Results whose settings differ from the suite's jobs are not used, and are listed; results
written before settings were recorded are used when they match on what they record, and
counted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from acrl_bench.metrics import Metric, columns, run_value
from acrl_bench.results import ERROR_FILE, job_dir, job_state
from acrl_bench.statistics import CONFIDENCE, REPS, Estimate, estimate_cells, library_version
from acrl_bench.suite import Job, Suite

__all__ = ["MethodSummary", "SuiteSummary", "TaskSummary", "summarize"]


@dataclass
class MethodSummary:
    """One method on one task.

    Attributes:
        label: the method's label.
        planned: the suite's seeds for it.
        runs: the finished runs' results, by seed.
        values: each metric's value per run (same order as ``runs``).
        estimates: each metric with values: n, mean, std, IQM, interval.
        paper: the paper's figures for it, by metric.
    """

    label: str
    planned: int
    runs: list[dict[str, Any]] = field(default_factory=list)
    values: dict[str, list[float | None]] = field(default_factory=dict)
    estimates: dict[str, Estimate] = field(default_factory=dict)
    paper: dict[str, Any] = field(default_factory=dict)


@dataclass
class TaskSummary:
    """One task: its metrics, the steps its runs trained, and its methods."""

    env: str
    cost_limit: float | None
    metrics: list[Metric]
    budget: list[int]
    methods: list[MethodSummary]
    paper_source: str | None = None


@dataclass
class SuiteSummary:
    """Everything the report says, as data."""

    suite: Suite
    tasks: list[TaskSummary]
    failures: list[dict[str, Any]]
    unused: list[dict[str, Any]]
    legacy: int
    results: int
    versions: dict[str, list[str]]

    def to_dict(self) -> dict[str, Any]:
        """``summary.json``: per task and method, per-seed values and their statistics."""
        return {
            "suite": self.suite.name,
            "description": self.suite.description,
            "statistics": {
                "point": "interquartile mean (rliable metrics.aggregate_iqm)",
                "interval": f"{CONFIDENCE:.0%} percentile interval, rliable stratified "
                f"bootstrap over seeds, {REPS} resamples, seed 0",
                "rliable": library_version(),
            },
            "tasks": [_task_dict(task) for task in self.tasks],
            "failures": self.failures,
            "not_used": self.unused,
            "results_without_settings": self.legacy,
            "versions": self.versions,
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        """``summary.csv``: one row per task, method and metric with values."""
        rows = []
        for task in self.tasks:
            for method in task.methods:
                for metric in task.metrics:
                    e = method.estimates.get(metric.name)
                    if e is None and metric.name not in method.paper:
                        continue
                    rows.append(_csv_row(task.env, method, metric, e))
        return rows


CSV_FIELDS = ("task", "method", "metric", "seeds", "mean", "std", "iqm", "ci_low", "ci_high")
"""Columns of ``summary.csv`` (then ``sum`` for summed metrics and ``paper``)."""


def _csv_row(env: str, method: MethodSummary, metric: Metric, e: Estimate | None) -> dict[str, Any]:
    row: dict[str, Any] = {"task": env, "method": method.label, "metric": metric.name}
    if e is not None:
        row.update(seeds=e.n, mean=e.mean, std=e.std, iqm=e.iqm, ci_low=e.low, ci_high=e.high)
        if metric.total:
            row["sum"] = sum(v for v in method.values[metric.name] if v is not None)
    row["paper"] = method.paper.get(metric.name)
    return row


def _task_dict(task: TaskSummary) -> dict[str, Any]:
    return {
        "env": task.env,
        "cost_limit": task.cost_limit,
        "steps_trained": task.budget,
        "paper_source": task.paper_source,
        "methods": [
            {
                "label": m.label,
                "seeds": f"{len(m.runs)}/{m.planned}",
                "metrics": {name: e.to_dict() for name, e in m.estimates.items()},
                "paper": m.paper,
                "runs": [
                    {
                        "seed": run["seed"],
                        "steps": run["train"]["steps"],
                        "settings_recorded": "settings" in run,
                        **{name: values[i] for name, values in m.values.items()},
                    }
                    for i, run in enumerate(m.runs)
                ],
            }
            for m in task.methods
        ],
    }


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        return {"error": f"unreadable {path.name}: {exc}"}


def _collect(suite: Suite, out: Path) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], ...]:
    """Results answering each job; failures; results not used; results without settings."""
    runs: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    failures, unused, legacy = [], [], []
    for job in suite.jobs:
        folder = job_dir(out, job)
        state = job_state(folder, job.config.resolved(), job.eval_episodes)
        if state.result is not None:
            runs[(job.env, job.label)].append(state.result)
            if state.status == "legacy":
                legacy.append(job.key)
        elif state.status == "stale" and (folder / "result.json").exists():
            unused.append({"key": job.key, "differences": list(state.differences)})
        elif (folder / ERROR_FILE).exists():
            failures.append({"key": job.key, **_read_json(folder / ERROR_FILE)})
    return runs, failures, unused, legacy


def _method(suite: Suite, env: str, label: str, runs: list[dict[str, Any]]) -> MethodSummary:
    limit = suite.cost_limits.get(env)
    planned = sum(1 for job in suite.jobs if job.env == env and job.label == label)
    runs = sorted(runs, key=lambda r: r["seed"])
    metrics = columns(suite, env)
    values = {m.name: [run_value(m, run, limit) for run in runs] for m in metrics}
    estimates = estimate_cells(values)
    paper = suite.paper.get(env, {}).get(label, {})
    return MethodSummary(label, planned, runs, values, estimates, dict(paper))


def _versions(results: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for result in results:
        for dist, version in (result.get("versions") or {}).items():
            found[dist].add(str(version))
    return {dist: sorted(versions) for dist, versions in sorted(found.items())}


def summarize(suite: Suite, out: str | Path) -> SuiteSummary:
    """Gather and summarise the results of ``suite`` under ``out`` (see the module docstring)."""
    runs, failures, unused, legacy = _collect(suite, Path(out))
    tasks = []
    for env in suite.tasks:
        labels = [lb for lb in suite.methods if any(_is(job, env, lb) for job in suite.jobs)]
        methods = [_method(suite, env, label, runs.get((env, label), [])) for label in labels]
        steps = sorted({int(r["train"]["steps"]) for m in methods for r in m.runs})
        tasks.append(
            TaskSummary(
                env,
                suite.cost_limits.get(env),
                columns(suite, env),
                steps,
                methods,
                suite.paper_sources.get(env),
            )
        )
    every = [r for results in runs.values() for r in results]
    return SuiteSummary(suite, tasks, failures, unused, len(legacy), len(every), _versions(every))


def _is(job: Job, env: str, label: str) -> bool:
    return job.env == env and job.label == label
