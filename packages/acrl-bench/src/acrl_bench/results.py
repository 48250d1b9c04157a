"""A job's ``result.json``: what it holds, and whether it answers the job a suite asks for.

Every result holds the job's full resolved settings (``settings.run``: the run's
``config.yml``; ``settings.eval_episodes``) and the package versions that produced it, so a
finished run is reused only for the very job it ran: :func:`job_state` compares them with
the requested job (every setting but ``save_freq``, which only decides when checkpoints
are written). Results written before settings were recorded (``format`` absent) are
matched on what they do record: algorithm, task, enforcement, steps trained and
evaluation episodes.

Layout of a job folder (``<out>/runs/<task>/<method>/seed<k>/``)::

    run/            the run directory (acrl train layout)
    result.json     training + evaluation + settings + versions (written by the driver)
    error.json      the traceback of a job that crashed (retried on the next run)
    output.log      what the job printed
    previous-<n>/   an earlier run of this job with other settings, moved aside
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acrl_bench.config import CONFIG_FILE, RunConfig, read_config

__all__ = [
    "ERROR_FILE",
    "RESULT_FILE",
    "RESULT_FORMAT",
    "JobState",
    "comparable",
    "job_dir",
    "job_settings",
    "job_state",
    "read_result",
    "settings_difference",
    "supersede",
]

RESULT_FILE = "result.json"
ERROR_FILE = "error.json"
RESULT_FORMAT = "acrl-bench-result/2"
_NOT_COMPARED = ("save_freq",)
_MOVED = (RESULT_FILE, ERROR_FILE, "run", "output.log")


def job_dir(out: str | Path, job: Any) -> Path:
    """The folder of ``job`` (a :class:`~acrl_bench.suite.Job`) under a suite's output folder."""
    return Path(out) / "runs" / job.key


def comparable(config: RunConfig | dict[str, Any]) -> dict[str, Any]:
    """A run config as plain JSON data, without the settings that do not change results.

    Example:
        >>> sorted(comparable(RunConfig()))[:3]
        ['algo', 'constraint', 'enforce']
    """
    data = config.to_dict() if isinstance(config, RunConfig) else dict(config)
    data = json.loads(json.dumps(data))  # tuples -> lists, as read back from JSON
    return {key: value for key, value in data.items() if key not in _NOT_COMPARED}


def job_settings(config: RunConfig, eval_episodes: int) -> dict[str, Any]:
    """The settings a result records: the resolved run and the evaluation episodes."""
    return {"run": config.to_dict(), "eval_episodes": eval_episodes}


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in data.items():
        if isinstance(value, dict) and key in ("hyperparams", "env_kwargs", "wrapper_kwargs"):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def settings_difference(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    """``key found -> expected`` for every setting that differs.

    Example:
        >>> settings_difference({"steps": 300, "seed": 0}, {"steps": 1, "seed": 0})
        ['steps 1 -> 300']
    """
    want, have = _flatten(expected), _flatten(found)
    missing = object()
    return [
        f"{key} {have.get(key, '(unset)')!s} -> {want.get(key, '(unset)')!s}"
        for key in sorted(set(want) | set(have))
        if want.get(key, missing) != have.get(key, missing)
    ]


def read_result(folder: Path) -> dict[str, Any] | None:
    """The job's ``result.json`` (``None`` if absent or unreadable)."""
    try:
        return json.loads((folder / RESULT_FILE).read_text())
    except (OSError, json.JSONDecodeError):
        return None


@dataclass(frozen=True)
class JobState:
    """Where a job stands in its folder.

    Attributes:
        status: ``"finished"`` (a result for this very job), ``"legacy"`` (a result from
            before settings were recorded, matching on what it records), ``"stale"`` (a
            result or an unfinished run with other settings: re-run), ``"partial"`` (an
            unfinished run of this job: resumed), ``"new"``.
        differences: for ``"stale"``: what differs, ``key old -> new``.
        result: the result of a finished or legacy job.
    """

    status: str
    differences: tuple[str, ...] = ()
    result: dict[str, Any] | None = None


def _expected(config: RunConfig, eval_episodes: int) -> dict[str, Any]:
    return {**comparable(config), "eval_episodes": eval_episodes}


def _legacy_difference(config: RunConfig, eval_episodes: int, result: dict[str, Any]) -> list[str]:
    """Differences on what a result from before settings were recorded holds."""
    train, evaluation = result.get("train", {}), result.get("eval", {})
    found = {
        "algo": train.get("algo"),
        "env": train.get("env"),
        "enforce": train.get("enforce"),
        "eval_episodes": evaluation.get("episodes"),
    }
    expected = {
        "algo": config.algo,
        "env": config.env,
        "enforce": config.enforce,
        "eval_episodes": eval_episodes,
    }
    differences = settings_difference(expected, found)
    trained = train.get("steps")
    n_steps = config.hyperparams.get("n_steps", 1)
    rollout = config.n_envs * (n_steps if isinstance(n_steps, int) else 1)
    if not isinstance(trained, int) or not 0 <= trained - config.steps < max(1, rollout):
        differences.append(f"steps {trained} -> {config.steps}")
    return differences


def job_state(folder: Path, config: RunConfig, eval_episodes: int) -> JobState:
    """Compare what ``folder`` holds with the job (``config`` resolved).

    Example:
        >>> import tempfile
        >>> job_state(Path(tempfile.mkdtemp()), RunConfig(), 10).status
        'new'
    """
    result = read_result(folder)
    if result is not None:
        settings = result.get("settings")
        if settings is None:
            differences = _legacy_difference(config, eval_episodes, result)
            status = "legacy" if not differences else "stale"
        else:
            found = {**comparable(settings["run"]), "eval_episodes": settings.get("eval_episodes")}
            differences = settings_difference(_expected(config, eval_episodes), found)
            status = "finished" if not differences else "stale"
        return JobState(status, tuple(differences), result if status != "stale" else None)
    if (folder / "run" / CONFIG_FILE).exists():
        try:
            found = comparable(read_config(folder / "run"))
        except Exception:  # an unreadable config: start again (the old one is kept aside)
            return JobState("stale", ("run/config.yml unreadable",))
        differences = settings_difference(comparable(config), found)
        return JobState("partial" if not differences else "stale", tuple(differences))
    return JobState("new")


def supersede(folder: Path) -> Path:
    """Move an earlier run of a job out of the way, into ``folder/previous-<n>/``; returns it."""
    n = 1
    while (folder / f"previous-{n}").exists():
        n += 1
    target = folder / f"previous-{n}"
    target.mkdir(parents=True)
    for name in _MOVED:
        if (folder / name).exists():
            (folder / name).rename(target / name)
    return target
