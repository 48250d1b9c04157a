"""Learning curves of a suite's report: one PNG per task (:func:`plot_task`).

Training return, episode cost and valid-action rate against env steps and against
wall-clock seconds, up to where the shortest seed ends; the line is the mean over seeds of
a moving average over 10 episodes (a quarter of the episodes in short runs), the band
spans the seeds' minimum and maximum.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np

from acrl_bench.metrics import columns
from acrl_bench.suite import Suite, slug

__all__ = ["plot_task"]


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


def plot_task(
    suite: Suite, env: str, results: dict[tuple[str, str], list[dict[str, Any]]], out: Path
) -> Path | None:
    """Draw ``env``'s learning curves into ``out/curves-<task>.png`` (``None``: no runs)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs_by_label = {label: results.get((env, label), []) for label in suite.methods}
    if not any(runs_by_label.values()):
        return None
    shown = {metric.name for metric in columns(suite, env)}
    panels = [("return", "return")]
    if "episode cost" in shown:
        panels.append(("cost", "episode cost"))
    if "valid-action rate" in shown:
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
