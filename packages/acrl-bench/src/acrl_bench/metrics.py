"""The report's metrics: one number per finished run, read from its ``result.json``.

- :data:`METRICS` — every report column by name (the names a suite's ``paper:`` section
  uses), with its format, how runs combine (mean or sum) and when it applies;
- :func:`columns` — the metrics a task's table shows;
- :func:`run_value` — one run's value of a metric;
- :func:`cost_regret` — Σ max(0, J_c − limit) per 20,000 env steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from acrl_bench.suite import Suite

__all__ = ["METRICS", "Metric", "columns", "cost_regret", "run_value"]

_REGRET_EPOCH = 20_000
WINDOW = 50
"""Training episodes behind the final training cost and each regret term."""
_SELF_ENFORCING = ("aram", "flowpg", "cvflow_sac")  # methods that keep actions feasible themselves


def cost_regret(episodes: list[dict[str, float]], limit: float) -> float:
    """Σ max(0, J_c − limit) · Δsteps / 20,000 over training, J_c over the last 50 episodes.

    Example:
        >>> rows = [{"steps": 10_000.0, "cost": 45.0}, {"steps": 20_000.0, "cost": 5.0}]
        >>> cost_regret(rows, 25.0)  # 20 * 0.5, then J_c = 25: nothing
        10.0
    """
    regret, previous = 0.0, 0.0
    for i, row in enumerate(episodes):
        recent = [r["cost"] for r in episodes[max(0, i + 1 - WINDOW) : i + 1]]
        regret += (
            max(0.0, float(np.mean(recent)) - limit) * (row["steps"] - previous) / _REGRET_EPOCH
        )
        previous = row["steps"]
    return regret


def _final_cost(result: dict[str, Any], limit: float | None) -> float | None:
    rows = result.get("episodes") or []
    return float(np.mean([r["cost"] for r in rows[-WINDOW:]])) if rows else None


def _regret(result: dict[str, Any], limit: float | None) -> float | None:
    return None if limit is None else cost_regret(result.get("episodes") or [], limit)


def _projections(result: dict[str, Any], limit: float | None) -> float:
    train = result["train"]
    return 1000 * train["projections"] / max(train["steps"], 1)


def _eval(key: str) -> Callable[[dict[str, Any], float | None], Any]:
    return lambda result, limit: result["eval"].get(key)


def _train(key: str) -> Callable[[dict[str, Any], float | None], Any]:
    return lambda result, limit: result["train"].get(key)


@dataclass(frozen=True)
class Metric:
    """One report column.

    Attributes:
        name: the column header (and the key in ``summary.csv`` / ``summary.json``).
        fmt: how a value is printed.
        applies: ``"always"``, ``"constrained"`` (tasks with an action constraint) or
            ``"cost"`` (tasks with a cost limit).
        total: runs are summed (executed violations), not averaged.
        interval: gets an IQM and a bootstrap confidence interval across seeds.
        value: one run's value from its result and the task's cost limit.
    """

    name: str
    fmt: str
    applies: str
    value: Callable[[dict[str, Any], float | None], Any]
    total: bool = False
    interval: bool = False


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("return", ".1f", "always", _eval("return_mean"), interval=True),
        Metric("episode cost", ".1f", "cost", _eval("episode_cost"), interval=True),
        Metric(
            "valid-action rate", ".3f", "constrained", _eval("valid_action_rate"), interval=True
        ),
        Metric("executed violations", "d", "constrained", _eval("executed_violations"), total=True),
        Metric("projections / 1k steps", ".1f", "constrained", _projections),
        Metric("µs / action", ".0f", "always", _eval("us_per_action")),
        Metric("steps/s", ".0f", "always", _train("steps_per_second")),
        Metric("final training cost", ".1f", "cost", _final_cost, interval=True),
        Metric("cost regret", ".1f", "cost", _regret, interval=True),
    )
}
"""Every report metric by column name, in table order."""


def _enforced(job: Any) -> bool:
    """Whether a job's actions are checked against a constraint (by a wrapper or itself)."""
    enforce = job.config.enforce
    if enforce is None:  # not resolved yet: the task's own constraint is projected
        enforce = "project" if job.config.task_constraint() is not None else "none"
    return enforce != "none" or job.config.algo in _SELF_ENFORCING


def _constrained(suite: Suite, env: str) -> bool:
    return any(_enforced(j) for j in suite.jobs if j.env == env)


def columns(suite: Suite, env: str) -> list[Metric]:
    """The metrics of ``env``'s table: constraint ones if it is enforced, cost ones if limited."""
    limited = suite.cost_limits.get(env) is not None
    constrained = _constrained(suite, env)
    return [
        m
        for m in METRICS.values()
        if m.applies == "always"
        or (m.applies == "cost" and limited)
        or (m.applies == "constrained" and constrained)
    ]


def run_value(metric: Metric, result: dict[str, Any], limit: float | None) -> float | None:
    """``metric`` of one run (``None`` where it has none, or it is not finite)."""
    value = metric.value(result, limit)
    if value is None or not np.isfinite(value):
        return None
    return value
