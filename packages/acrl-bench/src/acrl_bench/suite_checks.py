"""Checks of a suite's values and overrides, before any job runs (:mod:`acrl_bench.suite`).

- :func:`seed_list` — ``seeds:`` / ``--seeds``: a positive count or distinct seeds.
- :func:`check_overrides` / :func:`scaled_steps` — ``--steps``, ``--scale``,
  ``--eval-episodes``; a scale that leaves a run under one step is refused.
- :func:`cost_limit` — a task's ``cost_limit``.
- :func:`paper_figures` — the ``paper:`` section: known tasks, method labels and report
  metrics, numbers or text.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from acrl_bench.errors import SuiteError
from acrl_bench.validation import MAX_SEED

__all__ = ["check_overrides", "cost_limit", "paper_figures", "scaled_steps", "seed_list"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def seed_list(value: Any) -> list[int]:
    """The seeds of ``seeds:`` / ``--seeds``: a count ``n`` is ``0 .. n-1``.

    Example:
        >>> seed_list(3), seed_list([0, 4, 7])
        ([0, 1, 2], [0, 4, 7])
    """
    if _is_int(value) and value > 0:
        return list(range(value))
    if (
        isinstance(value, Sequence)
        and not isinstance(value, str)
        and value
        and all(_is_int(s) and 0 <= s <= MAX_SEED for s in value)
        and len(set(value)) == len(value)
    ):
        return list(value)
    raise SuiteError(
        f"seeds must be a positive count (3) or a list of distinct integers from 0 to "
        f"{MAX_SEED} (0,4,7), got {value!r}"
    )


def check_overrides(steps: Any, scale: Any, eval_episodes: Any) -> None:
    """Raise for a ``--steps``, ``--scale`` or ``--eval-episodes`` that cannot work.

    Example:
        >>> check_overrides(-5, None, None)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_bench.errors.SuiteError: --steps must be a positive integer, got -5; ...
    """
    if steps is not None and (not _is_int(steps) or steps < 1):
        raise SuiteError(f"--steps must be a positive integer, got {steps!r}; pass --steps 1000")
    if scale is not None and (
        isinstance(scale, bool)
        or not isinstance(scale, (int, float))
        or not math.isfinite(scale)
        or scale <= 0
    ):
        raise SuiteError(
            f"--scale must be a positive number, got {scale!r}; pass e.g. --scale 0.1 for a "
            "trial at a tenth of the budget"
        )
    if eval_episodes is not None and (not _is_int(eval_episodes) or eval_episodes < 1):
        raise SuiteError(
            f"--eval-episodes must be a positive integer, got {eval_episodes!r}; pass "
            "--eval-episodes 1 or more"
        )


def scaled_steps(name: str, label: str, env: str, steps: Any, scale: float) -> int:
    """``steps × scale`` rounded; a run left under one step is refused."""
    if not _is_int(steps):
        return steps  # RunConfig's checks name the bad value
    scaled = round(steps * scale)
    if scaled < 1:
        raise SuiteError(
            f"suite {name!r}: --scale {scale:g} leaves {label!r} on {env} {steps:,} x {scale:g} "
            f"= {steps * scale:.3g} steps, under 1; pass a larger --scale or --steps N"
        )
    return scaled


def cost_limit(name: str, value: Any) -> float | None:
    """A task's ``cost_limit`` as a float (``None``: no cost columns)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SuiteError(f"suite {name!r}: cost_limit must be a positive number, got {value!r}")
    return float(value)


def paper_figures(
    name: str, data: Any, tasks: tuple[str, ...], methods: tuple[str, ...]
) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, str]]:
    """The ``paper:`` section checked: known tasks, method labels and report metrics."""
    from acrl_bench.metrics import METRICS

    if data is None:
        return {}, {}
    if not isinstance(data, Mapping):
        raise SuiteError(f"suite {name!r}: paper must be a mapping of tasks, got {data!r}")
    source = str(data.get("source", ""))
    figures: dict[str, dict[str, dict[str, Any]]] = {}
    sources = {}
    for env, by_method in data.items():
        if env == "source":
            continue
        if env not in tasks:
            raise SuiteError(
                f"suite {name!r}: paper figures for {env!r}, which is not among its tasks "
                f"{list(tasks)}"
            )
        if not isinstance(by_method, Mapping):
            raise SuiteError(f"suite {name!r}: paper.{env} must map method labels to figures")
        sources[env] = str(by_method.get("source", source))
        for label, values in by_method.items():
            if label == "source":
                continue
            if label not in methods:
                raise SuiteError(
                    f"suite {name!r}: paper figures for method {label!r}, not one of "
                    f"{list(methods)}"
                )
            if not isinstance(values, Mapping):
                raise SuiteError(f"suite {name!r}: paper.{env}.{label} must map metrics to values")
            for metric, value in values.items():
                if metric not in METRICS:
                    raise SuiteError(
                        f"suite {name!r}: paper metric {metric!r} is not a report metric; use "
                        f"one of {', '.join(METRICS)}"
                    )
                if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                    raise SuiteError(
                        f"suite {name!r}: paper.{env}.{label}.{metric} must be a number or text"
                    )
            figures.setdefault(env, {})[str(label)] = dict(values)
    return figures, sources
