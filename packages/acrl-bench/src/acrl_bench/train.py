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

Ctrl-C saves a checkpoint; ``acrl train --resume RUN_DIR`` continues from the newest one.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecNormalize

from acrl_bench.algorithms import algorithm_class
from acrl_bench.callbacks import Checkpointer, EpisodeLog, read_episodes
from acrl_bench.checkpoint import latest_checkpoint, save_checkpoint
from acrl_bench.config import (
    CONFIG_FILE,
    RunConfig,
    read_config,
    write_text_atomic,
    write_yaml_atomic,
)
from acrl_bench.envs import make_vec_env
from acrl_bench.errors import BenchError, ConfigError
from acrl_bench.hyperparams import materialize
from acrl_policies.common.safety_net import safety_net_counts

__all__ = ["TrainReport", "TrainingInterrupted", "new_run", "next_run_dir", "train", "train_run"]

_VERSIONED = (
    "acrl-wrappers",
    "acrl-policies",
    "acrl-bench",
    "stable-baselines3",
    "sb3-contrib",
    "gymnasium",
    "torch",
    "mujoco",
)
_COUNTERS = ("seconds", "proposals", "violations", "projections", "self_loops", "qp_solves")


class TrainingInterrupted(BenchError):
    """Training stopped by Ctrl-C after a checkpoint was saved (the message says how to resume)."""


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


# ---------------------------------------------------------------------- run directories
def next_run_dir(log_root: str | Path, config: RunConfig) -> Path:
    """``<log_root>/<algo>/<env>_<n>`` with the first unused ``n`` (``/`` in ids becomes ``-``).

    Example:
        >>> import tempfile
        >>> next_run_dir(tempfile.mkdtemp(), RunConfig(env="ACRL/ReacherL2-v0")).name
        'ACRL-ReacherL2-v0_1'
    """
    parent = Path(log_root) / config.algo
    stem = config.env.replace("/", "-")
    n = 1
    while (parent / f"{stem}_{n}").exists():
        n += 1
    return parent / f"{stem}_{n}"


def new_run(
    config: RunConfig, run_dir: str | Path | None = None, log_root: str | Path = "runs"
) -> Path:
    """Check ``config`` and create its run directory with ``config.yml``.

    Raises:
        ConfigError: a bad config, or ``run_dir`` already holds a run.
    """
    config = config.resolved()
    path = Path(run_dir) if run_dir is not None else next_run_dir(log_root, config)
    if (path / CONFIG_FILE).exists():
        raise ConfigError(
            f"{path} already holds a run; continue it with acrl train --resume {path}, or pick "
            "another --log-dir"
        )
    path.mkdir(parents=True, exist_ok=True)
    write_yaml_atomic(path / CONFIG_FILE, {"run": config.to_dict(), "versions": _versions()})
    return path


def _versions() -> dict[str, str]:
    versions = {}
    for dist in _VERSIONED:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


# ---------------------------------------------------------------------- training
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
        steps: a new total step budget (to extend a finished run).
        progress_bar: SB3's progress bar.

    Raises:
        TrainingInterrupted: Ctrl-C; a checkpoint was saved first.
        CheckpointError: a corrupt or foreign checkpoint (nothing half-loaded is used).
    """
    import acrl_wrappers as acrl
    from acrl_wrappers.sb3 import ConstraintMetricsCallback

    acrl.load_plugins()
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    if steps is not None and steps != config.steps:
        config = config.replace(steps=steps)
        write_yaml_atomic(run_dir / CONFIG_FILE, {"run": config.to_dict(), "versions": _versions()})
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
        model = algorithm(config.policy, venv, seed=config.seed, **materialize(config.hyperparams))
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
) -> TrainReport:
    """Make a run directory for ``config`` and train it (``acrl train``).

    Example:
        >>> import tempfile
        >>> config = RunConfig(algo="sac", env="ACRL/ReacherL2-v0", steps=200,
        ...                    hyperparams={"learning_starts": 100})
        >>> report = train(config, log_root=tempfile.mkdtemp(), progress_bar=False)
        >>> report.steps, (report.run_dir / "model.zip").exists()
        (200, True)
    """
    path = new_run(config, run_dir, log_root)
    return train_run(path, progress_bar=progress_bar)
