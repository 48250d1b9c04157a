"""``acrl train``: a run directory with the model, its config, logs and checkpoints.

Layout (zoo-like: ``runs/<algo>/<env>_<n>/``)::

    config.yml          the resolved RunConfig and package versions
    model.zip           the trained model (written when training ends)
    vecnormalize.pkl    normalisation statistics (runs with normalize)
    episodes.csv        one row per episode: return, cost, valid-action rate vs steps/seconds
    monitor/            SB3 Monitor CSVs, one per env
    logs/<segment>/     SB3 logger output: progress.csv (constraint/* metrics), TensorBoard
    checkpoints/        model + replay buffer every save_freq steps (see checkpoint.py)
    train.json          the summary printed at the end

The whole config (names, the env with its enforcement wrapper, the model with its
hyperparameters) is checked before the run directory is created (:func:`check_run`); a
run that crashes later keeps its directory (config, logs, checkpoints). Ctrl-C saves a
checkpoint; ``acrl train --resume RUN_DIR`` continues from the newest one.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecNormalize

from acrl_bench.algorithms import algorithm_class
from acrl_bench.callbacks import Checkpointer, EpisodeLog, read_episodes
from acrl_bench.checkpoint import CHECKPOINTS, latest_checkpoint, save_checkpoint
from acrl_bench.config import (
    CONFIG_FILE,
    RunConfig,
    read_config,
    write_text_atomic,
    write_yaml_atomic,
)
from acrl_bench.envs import make_vec_env
from acrl_bench.errors import BenchError
from acrl_bench.hyperparams import materialize
from acrl_bench.run_check import build_checked, check_run, one_line
from acrl_bench.run_dir import create_run_dir, next_run_dir, package_versions, refuse_existing_run
from acrl_policies.common.safety_net import safety_net_counts

__all__ = [
    "TrainReport",
    "TrainingFailed",
    "TrainingInterrupted",
    "check_run",
    "new_run",
    "next_run_dir",
    "train",
    "train_run",
]

_COUNTERS = ("seconds", "proposals", "violations", "projections", "self_loops", "qp_solves")


class TrainingInterrupted(BenchError):
    """Training stopped by Ctrl-C after a checkpoint was saved (the message says how to resume)."""


class TrainingFailed(BenchError):
    """Training crashed after it started (the cause is chained).

    The message names the step and the cause, and says what was kept: the run directory
    with its newest checkpoint (``acrl train --resume`` continues), or, for a run that
    crashed before its first checkpoint, that its config and logs are kept (nothing a
    run produced is deleted).
    """


@dataclass
class TrainReport:
    """What a finished training run did (also saved as ``train.json``).

    Attributes:
        run_dir: the run directory.
        config: its config.
        steps: env steps trained (self-loops included).
        totals: counters over the whole run: the enforcement wrapper's (``seconds``,
            ``proposals``, ``violations``, ``projections``, ``self_loops``, ``qp_solves``)
            and, for a method with its own safety net (ARAM, FlowPG, CV-Flow), its
            ``net_proposals``, ``net_infeasible``, ``net_projections``, ``net_self_loops``.
        episodes: rows of ``episodes.csv``.

    The violation and self-loop rates are over the policy's proposals: those the method
    checked itself if it has a safety net (the wrapper then only sees feasible actions),
    else those the wrapper checked. Projections and QP solves add both.
    """

    run_dir: Path
    config: RunConfig
    steps: int
    totals: dict[str, float]
    episodes: list[dict[str, float]] = field(repr=False, default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        returns = [row["return"] for row in self.episodes]
        costs = [row["cost"] for row in self.episodes]
        t = self.totals
        own = t.get("net_proposals", 0.0) > 0
        proposals = t["net_proposals"] if own else t.get("proposals", 0.0)
        violations = t["net_infeasible"] if own else t.get("violations", 0.0)
        self_loops = t["net_self_loops"] if own else t.get("self_loops", 0.0)
        own_projections = int(t.get("net_projections", 0))
        return {
            "run_dir": str(self.run_dir),
            "algo": self.config.algo,
            "env": self.config.env,
            "enforce": self.config.enforce,
            "steps": self.steps,
            "seconds": self.totals.get("seconds", 0.0),
            "steps_per_second": self.steps / max(self.totals.get("seconds", 0.0), 1e-9),
            "episodes": len(self.episodes),
            "return_last10": float(np.mean(returns[-10:])) if returns else None,
            "cost_last10": float(np.mean(costs[-10:])) if costs else None,
            "violation_rate": violations / proposals if proposals else None,
            "self_loop_rate": self_loops / proposals if proposals else None,
            "projections": int(t.get("projections", 0)) + own_projections,
            "qp_solves": int(t.get("qp_solves", 0)) + own_projections,
        }

    def text(self) -> str:
        """The short report ``acrl train`` prints."""
        s = self.summary()
        c = self.config
        lines = [
            ("run", s["run_dir"]),
            (
                "task",
                f"{c.algo} on {c.env} (constraint {_constraint_name(c)}, enforce {c.enforce})",
            ),
            ("steps", f"{s['steps']} ({s['steps_per_second']:.0f} steps/s)"),
            ("episodes", str(s["episodes"])),
        ]
        if s["return_last10"] is not None:
            lines.append(
                ("return", f"{s['return_last10']:.2f} (task return, mean of the last 10 episodes)")
            )
        if any(row["cost"] for row in self.episodes):
            meaning = "infeasible proposals" if c.task_constraint() is not None else "info['cost']"
            lines.append(
                (
                    "episode cost",
                    f"{s['cost_last10']:.1f} ({meaning} per episode, last 10 episodes)",
                )
            )
        if s["violation_rate"] is not None:
            lines.append(
                (
                    "violation rate",
                    f"{s['violation_rate']:.3f} of the policy's proposals infeasible",
                )
            )
            lines.append(("learning", _learning_line(self.episodes)))
            if c.enforce == "automdp" or self.totals.get("net_self_loops", 0) > 0:
                lines.append(("self-loop rate", f"{s['self_loop_rate']:.3f}"))
            lines.append(("projections", f"{s['projections']} (QP solves: {s['qp_solves']})"))
        lines.append(("executed actions", _executed_line(c, self.totals)))
        lines.append(("evaluate with", f"acrl evaluate {s['run_dir']}"))
        return "\n".join(f"{key + ':':<18} {value}" for key, value in lines)


def _constraint_name(config: RunConfig) -> str:
    constraint = config.task_constraint()
    if constraint is None:
        return "none"
    return constraint if isinstance(constraint, str) else json.dumps(constraint)


def _learning_line(episodes: list[dict[str, float]]) -> str:
    if len(episodes) < 2:
        return "too few episodes to compare"
    k = max(1, min(10, len(episodes) // 2))
    first = np.mean([row["valid_rate"] for row in episodes[:k]])
    last = np.mean([row["valid_rate"] for row in episodes[-k:]])
    return f"valid-action rate {first:.3f} in the first {k} episodes, {last:.3f} in the last {k}"


def _executed_line(config: RunConfig, totals: dict[str, float]) -> str:
    if config.enforce in ("project", "reject", "automdp"):
        return (
            f"all feasible (the {config.enforce} wrapper never steps the simulator with an "
            "infeasible one)"
        )
    if config.enforce == "monitor":
        violations = int(totals.get("violations", 0))
        return f"{violations} infeasible executed (--enforce monitor only measures)"
    return "not checked (no action constraint is enforced)"


def new_run(
    config: RunConfig, run_dir: str | Path | None = None, log_root: str | Path = "runs"
) -> Path:
    """Check ``config`` completely (:func:`check_run`), then create its run directory.

    Nothing is created for a config that fails the checks. :func:`train` does this and
    trains, building the model only once.

    Raises:
        ConfigError: a bad config, or ``run_dir`` already holds a run.
    """
    config = config.resolved()
    refuse_existing_run(run_dir)
    config = check_run(config)
    return create_run_dir(config, run_dir, log_root)


class _Totals(BaseCallback):
    """Counters of the whole run: those of earlier sessions plus this one's.

    The wrapper's counters are summed from ``info["constraint"]``; a method that checks
    its own proposals (ARAM, flows) keeps cumulative :class:`SafetyNetCounts` in the
    model, which are read as they are (``net_*`` keys).
    """

    def __init__(self, base: dict[str, float], model: BaseAlgorithm) -> None:
        super().__init__()
        self.base = {key: float(base.get(key, 0.0)) for key in _COUNTERS}
        self.session = dict.fromkeys(_COUNTERS, 0.0)
        self.counted_model = model
        self._start = time.perf_counter()

    def _on_training_start(self) -> None:
        self._start = time.perf_counter()

    def _on_step(self) -> bool:
        for info in self.locals["infos"]:
            found = info.get("constraint")
            if found is None:
                continue
            self.session["proposals"] += 1
            self.session["violations"] += not found["feasible"]
            self.session["projections"] += found["enforcement"] in ("projected", "fallback")
            self.session["self_loops"] += found["enforcement"] == "rejected"
            self.session["qp_solves"] += found["qp_solves"]
        return True

    def __call__(self) -> dict[str, float]:
        self.session["seconds"] = time.perf_counter() - self._start
        totals = {key: self.base[key] + self.session[key] for key in _COUNTERS}
        net = safety_net_counts(self.counted_model)
        if net is not None:
            totals.update({f"net_{key}": float(value) for key, value in asdict(net).items()})
        return totals


def train_run(
    run_dir: str | Path, *, steps: int | None = None, progress_bar: bool = True
) -> TrainReport:
    """Train the run in ``run_dir`` to its step budget, from its newest checkpoint if any.

    Args:
        run_dir: a directory made by :func:`new_run`.
        steps: a new total step budget (to extend a finished run); checked before
            ``config.yml`` is rewritten.
        progress_bar: SB3's progress bar.

    Raises:
        TrainingInterrupted: Ctrl-C; a checkpoint was saved first.
        TrainingFailed: training crashed; the run directory is left as it was (with its
            newest checkpoint, if any).
        CheckpointError: a corrupt or foreign checkpoint (nothing half-loaded is used).
        ConfigError: a bad ``steps``.
    """
    return _train_session(Path(run_dir), steps=steps, progress_bar=progress_bar)


def _train_session(
    run_dir: Path,
    *,
    steps: int | None = None,
    progress_bar: bool = True,
    model: BaseAlgorithm | None = None,
) -> TrainReport:
    """One training session of ``run_dir``; ``model``: the one a new run's check built."""
    import acrl_wrappers as acrl
    from acrl_wrappers.sb3 import ConstraintMetricsCallback

    acrl.load_plugins()
    config = read_config(run_dir)
    if steps is not None and steps != config.steps:
        config.replace(steps=steps).resolved()  # a bad budget is refused before it is saved
        config = config.replace(steps=steps)
        write_yaml_atomic(
            run_dir / CONFIG_FILE, {"run": config.to_dict(), "versions": package_versions()}
        )
    checkpoint = latest_checkpoint(run_dir, config)
    venv = make_vec_env(config, monitor_dir=run_dir / "monitor", append=checkpoint is not None)
    algorithm = algorithm_class(config.algo)
    if checkpoint is not None:
        venv = checkpoint.load_normalization(venv)
        model = checkpoint.load_model(algorithm, venv)
    else:
        if config.normalize:
            options = config.normalize if isinstance(config.normalize, dict) else {}
            venv = VecNormalize(venv, **options)
        if model is None:
            model = algorithm(
                config.policy, venv, seed=config.seed, **materialize(config.hyperparams)
            )
        else:  # built on in-memory envs while the config was checked: move it to the real ones
            probe = model.get_env()
            model.set_env(venv)
            if probe is not None:
                probe.close()
    segment = len(list((run_dir / "logs").glob("*"))) if (run_dir / "logs").exists() else 0
    model.set_logger(configure(str(run_dir / "logs" / str(segment)), ["csv", "tensorboard"]))
    totals = _Totals(checkpoint.meta.get("totals", {}) if checkpoint is not None else {}, model)
    callbacks: list[BaseCallback] = [
        totals,
        EpisodeLog(run_dir / "episodes.csv"),
        Checkpointer(run_dir, config, totals),
    ]
    if config.enforce != "none":
        callbacks.append(ConstraintMetricsCallback())
    remaining = config.steps - model.num_timesteps
    try:
        if remaining > 0:
            model.learn(
                remaining,
                callback=CallbackList(callbacks),
                progress_bar=progress_bar,
                reset_num_timesteps=checkpoint is None,
            )
    except KeyboardInterrupt:
        saved = save_checkpoint(run_dir, model, config, totals())
        raise TrainingInterrupted(
            f"interrupted at {saved.steps} steps; checkpoint saved in {saved.path}. "
            f"Continue with: acrl train --resume {run_dir}"
        ) from None
    except Exception as exc:
        kept = latest_checkpoint(run_dir, config)
        tail = (
            f"; the checkpoint of step {kept.steps} is kept: continue with acrl train --resume "
            f"{run_dir}"
            if kept is not None
            else ""
        )
        raise TrainingFailed(
            f"training failed at step {model.num_timesteps}: {one_line(exc)}{tail}"
        ) from exc
    finally:
        venv.close()
    model.logger.dump(model.num_timesteps)  # what was recorded since the last dump
    return _finish(run_dir, model, config, totals())


def _finish(
    run_dir: Path, model: BaseAlgorithm, config: RunConfig, totals: dict[str, float]
) -> TrainReport:
    """Final checkpoint, ``model.zip``, ``train.json``; the report."""
    save_checkpoint(run_dir, model, config, totals)
    tmp = run_dir / ".model.tmp.zip"
    model.save(tmp)
    os.replace(tmp, run_dir / "model.zip")
    venv = model.get_vec_normalize_env()
    if venv is not None:
        venv.save(str(run_dir / "vecnormalize.pkl"))
    report = TrainReport(
        run_dir, config, int(model.num_timesteps), totals, read_episodes(run_dir / "episodes.csv")
    )
    write_text_atomic(run_dir / "train.json", json.dumps(report.summary(), indent=2))
    return report


def train(
    config: RunConfig,
    *,
    run_dir: str | Path | None = None,
    log_root: str | Path = "runs",
    progress_bar: bool = True,
    on_start: Callable[[Path, RunConfig], None] | None = None,
) -> TrainReport:
    """Check ``config``, make its run directory and train it (``acrl train``).

    The whole config is checked first (:func:`check_run`: names, the env with its
    enforcement wrapper, the model with its hyperparameters); a bad one raises before any
    file is created. If training then fails before its first checkpoint, what this call
    created is removed again (files that were in ``run_dir`` before stay); after a
    checkpoint the run directory is kept for ``acrl train --resume``.

    Args:
        config: the run.
        run_dir: the run directory (default: the next ``<log_root>/<algo>/<env>_<n>``).
        log_root: parent of the default run directories.
        progress_bar: SB3's progress bar.
        on_start: called with the run directory and the resolved config once it exists.

    Raises:
        ConfigError, AcrlError: a bad config (nothing was created).
        TrainingFailed: a crash during training (the message says what was kept).
        TrainingInterrupted: Ctrl-C; a checkpoint was saved first.

    Example:
        >>> import tempfile
        >>> config = RunConfig(algo="sac", env="ACRL/ReacherL2-v0", steps=200,
        ...                    hyperparams={"learning_starts": 100})
        >>> report = train(config, log_root=tempfile.mkdtemp(), progress_bar=False)
        >>> report.steps, (report.run_dir / "model.zip").exists()
        (200, True)
    """
    refuse_existing_run(run_dir)
    config, model = build_checked(config)
    try:
        path = create_run_dir(config, run_dir, log_root)
    except BaseException:
        model.get_env().close()
        raise
    try:
        if on_start is not None:
            on_start(path, config)
        return _train_session(path, progress_bar=progress_bar, model=model)
    except TrainingFailed as exc:
        if (path / CHECKPOINTS / "LATEST").exists():
            raise
        raise TrainingFailed(
            f"{exc}; no checkpoint was saved yet, so there is nothing to resume: its config and "
            f"logs are kept in {path}"
        ) from exc.__cause__
