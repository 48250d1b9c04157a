"""Benchmark suites as data: a YAML mapping expanded into independent jobs.

A suite (``acrl_bench/suites/<name>.yaml``, or any mapping a plugin registers with
``register_suites``)::

    description: what the suite reproduces
    anchors:                    # optional: YAML anchors (&name) reused below (*name, <<: *name)
      small_net: &small_net {policy_kwargs: {net_arch: [64, 64]}}
    seeds: 3                    # a count (0, 1, 2) or a list of seeds
    eval_episodes: 10           # acrl evaluate's episodes per run
    cost_limit: 25              # optional: adds cost regret to the tables
    defaults:                   # RunConfig fields shared by every run
      steps: 20000
      hyperparams: {learning_starts: 1000}
    tasks:                      # the report's sections
      - env: ACRL/ReacherL2-v0
        steps: 15000            # any RunConfig field, for this task only
      - env: ACRL/SafeHopperVelocity-v1
        cost_limit: 25          # overrides the suite's cost_limit for this task
    methods:                    # the table's rows
      - label: SAC + ProjectAction
        algo: sac
        enforce: project
      - label: ARAM
        algo: aram
        per_task:               # RunConfig fields for one task only
          ACRL/ReacherL2-v0: {hyperparams: {reward_offset: 1.0}}
      - label: C-TRPO
        algo: ctrpo
        tasks: [ACRL/SafeHopperVelocity-v1]   # only these tasks (default: all)
    paper:                      # optional: the paper's own figures, shown beside ours
      source: C-TRPO, arXiv 2411.02957 (10M steps, 5 seeds)
      ACRL/SafeHopperVelocity-v1:           # task
        C-TRPO: {return: 1622, cost regret: 800}   # method label: {report metric: value}

Every (method, task, seed) is one :class:`Job`. ``hyperparams`` and ``wrapper_kwargs``
are merged key by key from ``defaults``, the task, the method and ``per_task``, in that
order. Overrides (``seeds``, ``steps``, ``scale``, ``eval_episodes``) and every value are
checked here, before any job runs. :func:`find_suite` takes a registered name or the
path of a YAML file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from acrl_bench.config import RunConfig
from acrl_bench.errors import SuiteError
from acrl_bench.suite_checks import (
    check_overrides,
    cost_limit,
    paper_figures,
    scaled_steps,
    seed_list,
)

__all__ = [
    "Job",
    "Suite",
    "find_suite",
    "load_suite",
    "load_suite_file",
    "read_builtin_suite",
    "registered_suite",
    "slug",
]

_MERGED = ("hyperparams", "wrapper_kwargs", "env_kwargs")
_TOP_LEVEL = {
    "description",
    "anchors",
    "seeds",
    "eval_episodes",
    "cost_limit",
    "defaults",
    "tasks",
    "methods",
    "paper",
}


def slug(text: str) -> str:
    """A folder-safe name: ``"SAC + ProjectAction"`` -> ``"sac-projectaction"``.

    Example:
        >>> slug("ACRL/ReacherL2-v0"), slug("SAC + ProjectAction")
        ('acrl-reacherl2-v0', 'sac-projectaction')
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass(frozen=True)
class Job:
    """One training run of a suite, evaluated when it ends.

    Attributes:
        label: the method's label (a table row).
        env: the task (a table group).
        seed: the seed.
        config: the run's full config.
        eval_episodes: evaluation episodes.
    """

    label: str
    env: str
    seed: int
    config: RunConfig
    eval_episodes: int = 10

    @property
    def key(self) -> str:
        """``<task>/<method>/seed<k>``: the job's folder under the suite's ``runs/``."""
        return f"{slug(self.env)}/{slug(self.label)}/seed{self.seed}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON-safe), for a worker process."""
        return {
            "label": self.label,
            "env": self.env,
            "seed": self.seed,
            "config": self.config.to_dict(),
            "eval_episodes": self.eval_episodes,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Job:
        """The job from :meth:`to_dict`'s output."""
        return cls(
            str(data["label"]),
            str(data["env"]),
            int(data["seed"]),
            RunConfig.from_dict(data["config"]),
            int(data["eval_episodes"]),
        )


@dataclass(frozen=True)
class Suite:
    """A named set of jobs and how to report them.

    Attributes:
        name: the suite's name.
        description: one line.
        jobs: the expanded jobs.
        cost_limits: each task's episode-cost limit (cost columns are reported when set).
        methods: method labels in table order.
        tasks: task ids in table order.
        paper: the paper's own figures, ``{task: {method label: {metric: value}}}``.
        paper_sources: where each task's paper figures come from (one line).
    """

    name: str
    description: str
    jobs: tuple[Job, ...]
    cost_limits: dict[str, float | None]
    methods: tuple[str, ...]
    tasks: tuple[str, ...]
    paper: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    paper_sources: dict[str, str] = field(default_factory=dict)


def _merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key in _MERGED:
                out[key] = {**out.get(key, {}), **(value or {})}
            else:
                out[key] = value
    return out


def load_suite(
    name: str,
    data: Mapping[str, Any],
    *,
    seeds: Any = None,
    steps: int | None = None,
    scale: float | None = None,
    eval_episodes: int | None = None,
) -> Suite:
    """Expand a suite mapping into jobs, with optional overrides.

    Args:
        name: the suite's name.
        data: the mapping (see the module docstring).
        seeds: replaces the suite's seeds (a count or a list).
        steps: replaces every run's step budget.
        scale: multiplies every run's step budget (after ``steps``).
        eval_episodes: replaces the evaluation episodes.

    Raises:
        SuiteError: a malformed suite (names the key and the problem).

    Example:
        >>> data = {"seeds": 2, "defaults": {"steps": 1000},
        ...         "tasks": [{"env": "ACRL/ReacherL2-v0"}],
        ...         "methods": [{"label": "SAC", "algo": "sac"}, {"label": "PPO", "algo": "ppo"}]}
        >>> suite = load_suite("demo", data, scale=0.5)
        >>> [(job.label, job.seed, job.config.steps) for job in suite.jobs]
        [('SAC', 0, 500), ('SAC', 1, 500), ('PPO', 0, 500), ('PPO', 1, 500)]
    """
    if not isinstance(data, Mapping):
        raise SuiteError(f"suite {name!r} must be a mapping, got {type(data).__name__}")
    unknown = set(data) - _TOP_LEVEL
    if unknown:
        raise SuiteError(
            f"suite {name!r} has unknown keys {sorted(unknown)}; known: "
            f"{', '.join(sorted(_TOP_LEVEL))}"
        )
    for key in ("tasks", "methods"):
        if not isinstance(data.get(key), list) or not data[key]:
            raise SuiteError(f"suite {name!r} needs a non-empty list {key!r}")
    check_overrides(steps, scale, eval_episodes)
    seed_values = seed_list(data.get("seeds", 3) if seeds is None else seeds)
    episodes = data.get("eval_episodes", 10) if eval_episodes is None else eval_episodes
    check_overrides(None, None, episodes)
    defaults = dict(data.get("defaults") or {})
    jobs = []
    limits = {}
    for task in data["tasks"]:
        if not isinstance(task, Mapping) or "env" not in task:
            raise SuiteError(f"suite {name!r}: every task needs an 'env', got {task!r}")
        limits[task["env"]] = cost_limit(name, task.get("cost_limit", data.get("cost_limit")))
    for method in data["methods"]:
        if not isinstance(method, Mapping):
            raise SuiteError(f"suite {name!r}: every method must be a mapping, got {method!r}")
        method = dict(method)
        label = method.pop("label", None) or method.get("algo")
        per_task = method.pop("per_task", {}) or {}
        only = method.pop("tasks", None)
        for task in data["tasks"]:
            task = {k: v for k, v in task.items() if k != "cost_limit"}
            if only is not None and task["env"] not in only:
                continue
            fields = _merge(defaults, task, method, per_task.get(task["env"], {}))
            if steps is not None:
                fields["steps"] = steps
            if scale is not None:
                fields["steps"] = scaled_steps(
                    name, str(label), task["env"], fields.get("steps", RunConfig.steps), scale
                )
            for seed in seed_values:
                try:
                    config = RunConfig.from_dict({**fields, "seed": seed})
                except Exception as exc:
                    raise SuiteError(f"suite {name!r}, method {label!r}: {exc}") from exc
                jobs.append(Job(str(label), task["env"], seed, config, episodes))
    methods = tuple(dict.fromkeys(job.label for job in jobs))
    tasks = tuple(dict.fromkeys(job.env for job in jobs))
    paper, sources = paper_figures(name, data.get("paper"), tasks, methods)
    return Suite(
        name=name,
        description=str(data.get("description", "")),
        jobs=tuple(jobs),
        cost_limits=limits,
        methods=methods,
        tasks=tasks,
        paper=paper,
        paper_sources=sources,
    )


def read_builtin_suite(name: str) -> dict[str, Any]:
    """The mapping of a suite shipped in ``acrl_bench/suites/<name>.yaml``."""
    text = resources.files("acrl_bench").joinpath("suites", f"{name}.yaml").read_text()
    return yaml.safe_load(text)


def load_suite_file(path: str | Path, **overrides: Any) -> Suite:
    """The suite in a YAML file, named after the file (``my-suite.yaml`` -> ``my-suite``).

    Raises:
        SuiteError: an unreadable or malformed file.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise SuiteError(
            f"cannot read the suite file {path}: {' '.join(str(exc).split())}"
        ) from exc
    return load_suite(path.stem, data, **overrides)


def find_suite(name_or_path: str, **overrides: Any) -> Suite:
    """A registered suite by name, or the suite in a ``.yaml`` / ``.yml`` file by path.

    Raises:
        SuiteError: unknown name, missing file, or a malformed suite.
    """
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") or path.is_file():
        if not path.is_file():
            raise SuiteError(
                f"no suite file {path}; pass an existing .yaml file or a suite name "
                "(acrl bench --list)"
            )
        return load_suite_file(path, **overrides)
    return registered_suite(name_or_path, **overrides)


def registered_suite(name: str, **overrides: Any) -> Suite:
    """The suite registered under ``name`` (by acrl-bench or a plugin), expanded.

    Raises:
        SuiteError: unknown name (close matches suggested) or a malformed suite.
    """
    from acrl_wrappers.errors import UnknownNameError
    from acrl_wrappers.plugins import default_host

    try:
        entry = default_host().registry("suite").get(name)
    except UnknownNameError as exc:
        raise SuiteError(str(exc)) from exc
    target = entry.load()
    data = target() if callable(target) else target
    return load_suite(entry.name, data, **overrides)
