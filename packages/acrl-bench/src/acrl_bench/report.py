"""The report of a suite: ``summary.md`` with paper-style tables and PNG learning curves.

Tables (one per task, one row per method, mean ± std over the finished seeds):

- return, episode cost and valid-action rate of the evaluation (``acrl evaluate``);
- executed violations (summed over seeds), projections per 1,000 training steps (the
  enforcement wrapper's and the method's own safety net), inference µs per action
  (batch 1), training steps/s;
- with a ``cost_limit``: the final training cost (mean of the last 50 training episodes)
  and the cost regret, Σ max(0, J_c − limit) with J_c the mean cost of the last 50
  episodes, one term per 20,000 env steps (the C-TRPO reference's epoch).

Curves (one PNG per task): training return, episode cost and valid-action rate against
env steps and against wall-clock seconds, up to where the shortest seed ends; the line is
the mean over seeds of a moving average over 10 episodes (a quarter of the episodes in
short runs), the band spans the seeds' minimum and maximum.
"""

from __future__ import annotations

import json
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from acrl_bench.config import write_text_atomic
from acrl_bench.suite import Suite, slug
from acrl_bench.sweep import ERROR_FILE, RESULT_FILE, job_dir

__all__ = ["cost_regret", "write_report"]

_REGRET_EPOCH = 20_000
_WINDOW = 50
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
        recent = [r["cost"] for r in episodes[max(0, i + 1 - _WINDOW) : i + 1]]
        regret += (
            max(0.0, float(np.mean(recent)) - limit) * (row["steps"] - previous) / _REGRET_EPOCH
        )
        previous = row["steps"]
    return regret


def _collect(
    suite: Suite, out: Path
) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], list[dict[str, Any]]]:
    results: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    failures = []
    for job in suite.jobs:
        folder = job_dir(out, job)
        if (folder / RESULT_FILE).exists():
            results[(job.env, job.label)].append(json.loads((folder / RESULT_FILE).read_text()))
        elif (folder / ERROR_FILE).exists():
            failures.append({"key": job.key, **json.loads((folder / ERROR_FILE).read_text())})
    return results, failures


def _mean_std(values: list[float | None], fmt: str) -> str:
    clean = [v for v in values if v is not None and np.isfinite(v)]
    if not clean:
        return "-"
    if len(clean) == 1:
        return format(clean[0], fmt)
    return f"{format(float(np.mean(clean)), fmt)} ± {format(float(np.std(clean)), fmt)}"


def _columns(suite: Suite, env: str) -> list[str]:
    """The table's columns for ``env``: constraint columns if it is enforced, cost if limited."""
    constrained = any(
        j.config.enforce not in (None, "none") or j.config.algo in _SELF_ENFORCING
        for j in suite.jobs
        if j.env == env
    )
    columns = ["return"]
    if suite.cost_limits.get(env) is not None:
        columns.append("episode cost")
    if constrained:
        columns += ["valid-action rate", "executed violations", "projections / 1k steps"]
    columns += ["µs / action", "steps/s"]
    if suite.cost_limits.get(env) is not None:
        columns += ["final training cost", "cost regret"]
    return columns


def _cell(column: str, runs: list[dict[str, Any]], limit: float | None) -> str:
    ev = [r["eval"] for r in runs]
    tr = [r["train"] for r in runs]
    if column == "return":
        return _mean_std([e["return_mean"] for e in ev], ".1f")
    if column == "episode cost":
        return _mean_std([e["episode_cost"] for e in ev], ".1f")
    if column == "valid-action rate":
        return _mean_std([e["valid_action_rate"] for e in ev], ".3f")
    if column == "executed violations":
        counts = [e["executed_violations"] for e in ev if e["executed_violations"] is not None]
        return str(sum(counts)) if counts else "-"
    if column == "projections / 1k steps":
        return _mean_std([1000 * t["projections"] / max(t["steps"], 1) for t in tr], ".1f")
    if column == "µs / action":
        return _mean_std([e["us_per_action"] for e in ev], ".0f")
    if column == "steps/s":
        return _mean_std([t["steps_per_second"] for t in tr], ".0f")
    assert limit is not None
    if column == "final training cost":
        final = [
            float(np.mean([e["cost"] for e in r["episodes"][-_WINDOW:]]))
            for r in runs
            if r["episodes"]
        ]
        return _mean_std(final, ".1f")
    return _mean_std([cost_regret(r["episodes"], limit) for r in runs], ".1f")


def _table(
    suite: Suite, env: str, results: dict[tuple[str, str], list[dict[str, Any]]]
) -> list[str]:
    columns = _columns(suite, env)
    head = ["method", *columns, "seeds"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in suite.methods:
        n_seeds = sum(1 for job in suite.jobs if job.env == env and job.label == label)
        if n_seeds == 0:
            continue  # the method does not run on this task
        runs = results.get((env, label), [])
        cells = [_cell(c, runs, suite.cost_limits.get(env)) if runs else "-" for c in columns]
        lines.append("| " + " | ".join([label, *cells, f"{len(runs)}/{n_seeds}"]) + " |")
    return lines


def _budget(suite: Suite, env: str) -> str:
    steps = sorted({job.config.steps for job in suite.jobs if job.env == env})
    return " / ".join(f"{s:,}" for s in steps)


def write_report(suite: Suite, out: str | Path) -> Path:
    """Write ``summary.md`` and one ``curves-<task>.png`` per task into ``out``; returns the md."""
    out = Path(out)
    results, failures = _collect(suite, out)
    lines = [f"# {suite.name}", "", suite.description, ""]
    n = suite.jobs[0].eval_episodes
    lines += [
        "Generated by `acrl bench` (acrl-bench). Evaluation columns come from `acrl evaluate` "
        f"({n} deterministic episode{'' if n == 1 else 's'} per run; valid-action rate from "
        "100 policy samples per visited state); mean ± std over seeds. Column meanings: "
        "acrl-bench's README, section Reports.",
        "",
    ]
    for env in suite.tasks:
        lines += [f"## {env}", "", f"Training budget: {_budget(suite, env)} env steps per run.", ""]
        lines += _table(suite, env, results)
        png = _plot(suite, env, results, out)
        if png is not None:
            lines += ["", f"![learning curves on {env}]({png.name})"]
        lines.append("")
    if failures:
        lines += ["## Failed runs", ""]
        lines += [
            f"- `{f['key']}`: {f['error']} (traceback in `runs/{f['key']}/{ERROR_FILE}`)"
            for f in failures
        ]
        lines.append("")
    path = out / "summary.md"
    write_text_atomic(path, "\n".join(lines))
    return path


def _smoothed(
    runs: list[dict[str, Any]], x_key: str, y_key: str, grid: np.ndarray
) -> np.ndarray | None:
    curves = []
    for run in runs:
        rows = run["episodes"]
        if len(rows) < 2:
            continue
        x = np.array([r[x_key] for r in rows])
        y = np.array([r[y_key] for r in rows])
        k = max(1, min(10, len(y) // 4))  # short runs (10 long episodes) keep a curve
        y = np.convolve(y, np.ones(k) / k, mode="valid")
        x = x[k - 1 :]
        curves.append(np.interp(grid, x, y, left=np.nan, right=np.nan))
    return np.array(curves) if curves else None


def _plot(
    suite: Suite, env: str, results: dict[tuple[str, str], list[dict[str, Any]]], out: Path
) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs_by_label = {label: results.get((env, label), []) for label in suite.methods}
    if not any(runs_by_label.values()):
        return None
    columns = _columns(suite, env)
    panels = [("return", "return")]
    if "episode cost" in columns:
        panels.append(("cost", "episode cost"))
    if "valid-action rate" in columns:
        panels.append(("valid_rate", "valid-action rate (training proposals)"))
    fig, axes = plt.subplots(2, len(panels), figsize=(5 * len(panels), 8), squeeze=False)
    for row, (x_key, x_label) in enumerate(
        (("steps", "env steps"), ("seconds", "wall-clock seconds"))
    ):
        for col, (y_key, y_label) in enumerate(panels):
            ax = axes[row][col]
            drawn = False
            for label, runs in runs_by_label.items():
                ends = [run["episodes"][-1][x_key] for run in runs if len(run["episodes"]) >= 2]
                if not ends:
                    continue
                grid = np.linspace(0, min(ends), 200)  # where every seed has data
                curves = _smoothed(runs, x_key, y_key, grid)
                if curves is None:
                    continue
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN grid points
                    mean = np.nanmean(curves, axis=0)
                    low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
                (line,) = ax.plot(grid, mean, label=label)
                ax.fill_between(grid, low, high, alpha=0.2, color=line.get_color())
                drawn = True
            if not drawn:
                ax.text(
                    0.5,
                    0.5,
                    "fewer than 2 finished training episodes per run",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                )
            ax.set_xlabel(x_label)
            ax.set_ylabel(y_label)
            ax.grid(alpha=0.3)
            if suite.cost_limits.get(env) is not None and y_key == "cost":
                ax.axhline(
                    suite.cost_limits[env],
                    color="k",
                    linestyle="--",
                    linewidth=1,
                    label="cost limit",
                )
    if axes[0][0].get_legend_handles_labels()[0]:
        axes[0][0].legend(fontsize=8)
    fig.suptitle(f"{suite.name}: {env}")
    fig.tight_layout()
    path = out / f"curves-{slug(env)}.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
