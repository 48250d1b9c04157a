"""The report of a suite: ``summary.md``, ``summary.csv``, ``summary.json`` and PNG curves.

Per task (:mod:`acrl_bench.summary` gathers the numbers, :mod:`acrl_bench.metrics` defines
them):

- the budget line: the env steps the runs actually trained, read from their results;
- a table, one row per method, mean ± std over the finished seeds (executed violations
  summed): return, episode cost, valid-action rate, executed violations, projections per
  1,000 steps, µs per action, steps/s, final training cost and cost regret, where they
  apply;
- a table across seeds: the IQM and its 95 % stratified-bootstrap interval (rliable) of
  return, costs and valid-action rate, and the paper's figures where the suite declares
  them (``paper:``);
- a per-seed table, and one PNG of learning curves (:mod:`acrl_bench.plots`).

Then the failed runs, and the results not used because their settings differ from the
suite's jobs. ``summary.csv`` and ``summary.json`` hold the same numbers for programs.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from acrl_bench.errors import BenchError
from acrl_bench.files import write_text_atomic
from acrl_bench.metrics import Metric, cost_regret
from acrl_bench.plots import plot_task
from acrl_bench.results import ERROR_FILE
from acrl_bench.statistics import REPS
from acrl_bench.suite import Suite
from acrl_bench.summary import CSV_FIELDS, MethodSummary, SuiteSummary, TaskSummary, summarize

__all__ = ["cost_regret", "write_report"]


def _format(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return format(int(value) if fmt == "d" else value, fmt)


def _paper_value(value: Any, fmt: str) -> str:
    """A paper's figure as the suite gives it: integers as written, decimals in the format."""
    return str(value) if isinstance(value, int) else _format(value, fmt)


def _mean_std(method: MethodSummary, metric: Metric) -> str:
    e = method.estimates.get(metric.name)
    if e is None:
        return "-"
    if metric.total:
        return str(int(sum(v for v in method.values[metric.name] if v is not None)))
    if e.n == 1:
        return _format(e.mean, metric.fmt)
    return f"{_format(e.mean, metric.fmt)} ± {_format(e.std, metric.fmt)}"


def _iqm(method: MethodSummary, metric: Metric) -> str:
    e = method.estimates.get(metric.name)
    if e is None:
        return "-"
    if e.low is None:
        return f"{_format(e.iqm, metric.fmt)} (1 seed)"
    low, high = _format(e.low, metric.fmt), _format(e.high, metric.fmt)
    return f"{_format(e.iqm, metric.fmt)} [{low}, {high}]"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    return [_row(head), "|" + "---|" * len(head), *map(_row, rows)]


def _means_table(task: TaskSummary) -> list[str]:
    rows = [
        [m.label, *(_mean_std(m, metric) for metric in task.metrics), f"{len(m.runs)}/{m.planned}"]
        for m in task.methods
    ]
    return _table(["method", *(metric.name for metric in task.metrics), "seeds"], rows)


def _interval_table(task: TaskSummary) -> list[str]:
    shown = [metric for metric in task.metrics if metric.interval]
    declared = {name for m in task.methods for name in m.paper}
    paper = [metric for metric in task.metrics if metric.name in declared]
    head = ["method", *(f"{metric.name} IQM [95 % CI]" for metric in shown)]
    head += [f"paper: {metric.name}" for metric in paper]
    rows = [
        [
            m.label,
            *(_iqm(m, metric) for metric in shown),
            *(_paper_value(m.paper.get(metric.name), metric.fmt) for metric in paper),
        ]
        for m in task.methods
    ]
    lines = _table(head, rows)
    if paper and task.paper_source:
        lines += ["", f"Paper figures: {task.paper_source}."]
    return lines


def _per_seed_table(task: TaskSummary) -> list[str]:
    rows = [
        [
            m.label,
            str(run["seed"]),
            f"{int(run['train']['steps']):,}",
            *(_format(m.values[metric.name][i], metric.fmt) for metric in task.metrics),
        ]
        for m in task.methods
        for i, run in enumerate(m.runs)
    ]
    if not rows:
        return []
    head = ["method", "seed", "steps", *(metric.name for metric in task.metrics)]
    return [
        "<details><summary>Per-seed results</summary>",
        "",
        *_table(head, rows),
        "",
        "</details>",
    ]


def _budget(task: TaskSummary) -> str:
    if not task.budget:
        return "no finished runs yet."
    steps = " / ".join(f"{s:,}" for s in task.budget)
    return f"{steps} env steps per run (steps trained, from the results)."


def _intro(summary: SuiteSummary) -> list[str]:
    suite = summary.suite
    n = suite.jobs[0].eval_episodes
    lines = [
        f"# {suite.name}",
        "",
        suite.description,
        "",
        "Generated by `acrl bench` (acrl-bench). Evaluation columns come from `acrl evaluate` "
        f"({n} episode{'' if n == 1 else 's'} per run; valid-action rate from 100 policy "
        "samples per visited state). The first table of each task is mean ± std over seeds; "
        "the second the interquartile mean (IQM) with its 95 % stratified-bootstrap "
        f"confidence interval over seeds (rliable, {REPS:,} resamples; with fewer than 4 "
        "seeds the IQM equals the mean and the interval is coarse). Column meanings: "
        "acrl-bench's README, section Reports. The same numbers: `summary.csv`, "
        "`summary.json`.",
        "",
    ]
    if summary.legacy:
        lines += [
            f"{summary.legacy} of the {summary.results} results were written before "
            "`result.json` recorded each job's settings and package versions: they are matched "
            "to the suite's jobs on algorithm, task, enforcement, steps trained and evaluation "
            "episodes only, and their package versions are unknown.",
            "",
        ]
    if summary.versions:
        shown = ", ".join(f"{d} {' / '.join(v)}" for d, v in summary.versions.items())
        lines += [f"Package versions (from the results): {shown}.", ""]
    return lines


def _task_section(task: TaskSummary, suite: Suite, out: Path) -> list[str]:
    lines = [f"## {task.env}", "", f"Training budget: {_budget(task)}", ""]
    lines += _means_table(task)
    if any(m.runs for m in task.methods):
        lines += ["", "Across seeds:", "", *_interval_table(task), ""]
        lines += _per_seed_table(task)
    png = plot_task(suite, task.env, {(task.env, m.label): m.runs for m in task.methods}, out)
    if png is not None:
        lines += ["", f"![learning curves on {task.env}]({png.name})"]
    return [*lines, ""]


def _problems(summary: SuiteSummary) -> list[str]:
    lines = []
    if summary.failures:
        lines += ["## Failed runs", ""]
        lines += [
            f"- `{f['key']}`: {f.get('error', '?')} (traceback in `runs/{f['key']}/{ERROR_FILE}`)"
            for f in summary.failures
        ]
        lines.append("")
    if summary.unused:
        lines += [
            "## Results not used",
            "",
            "Their settings differ from the suite's jobs as now requested; the next "
            "`acrl bench` run re-runs them (the old run is kept in `previous-<n>/`).",
            "",
        ]
        lines += [f"- `{u['key']}`: {', '.join(u['differences'])}" for u in summary.unused]
        lines.append("")
    return lines


def _csv(summary: SuiteSummary) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[*CSV_FIELDS, "sum", "paper"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(summary.csv_rows())
    return buffer.getvalue()


def write_report(suite: Suite, out: str | Path) -> Path:
    """Write ``summary.md``, ``summary.csv``, ``summary.json`` and the PNGs; returns the md.

    Raises:
        BenchError: ``out`` holds no result and no failure of ``suite`` (nothing is written,
            so an existing report is not replaced by an empty one).
    """
    out = Path(out)
    summary = summarize(suite, out)
    if not (summary.results or summary.failures or summary.unused):
        raise BenchError(
            f"{out} holds no finished run of suite {suite.name!r} (no runs/*/*/seed*/"
            f"result.json matching its jobs), so there is nothing to report; run it first: "
            f"acrl bench {suite.name} --out {out}"
        )
    lines = _intro(summary)
    for task in summary.tasks:
        lines += _task_section(task, suite, out)
    lines += _problems(summary)
    path = out / "summary.md"
    write_text_atomic(path, "\n".join(lines))
    write_text_atomic(out / "summary.csv", _csv(summary))
    write_text_atomic(out / "summary.json", json.dumps(summary.to_dict(), indent=2))
    return path
