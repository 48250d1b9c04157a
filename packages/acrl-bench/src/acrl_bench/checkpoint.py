"""Checkpoints of a run: model, replay buffer and normalisation statistics, saved atomically.

Layout inside a run directory::

    checkpoints/
        LATEST                      # name of the newest complete checkpoint
        step-00012000/
            checkpoint.json         # format, steps, algorithm, env
            model.zip
            replay_buffer.pkl       # off-policy algorithms
            vecnormalize.pkl        # runs with normalize

A checkpoint is written into a temporary folder and renamed; ``LATEST`` is replaced only
afterwards, so a kill at any moment leaves the previous checkpoint usable.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from acrl_bench.config import RunConfig, write_text_atomic
from acrl_bench.errors import CheckpointError

__all__ = ["CHECKPOINT_FORMAT", "Checkpoint", "latest_checkpoint", "save_checkpoint"]

CHECKPOINT_FORMAT = "acrl-bench-checkpoint/1"
CHECKPOINTS = "checkpoints"
_KEEP = 2  # complete checkpoints kept (the newest and one before it)


@dataclass(frozen=True)
class Checkpoint:
    """A complete checkpoint on disk.

    Attributes:
        path: its folder.
        steps: env steps trained when it was written.
        meta: the content of ``checkpoint.json``.
    """

    path: Path
    steps: int
    meta: dict[str, Any]

    def load_model(self, algorithm: type[BaseAlgorithm], env: VecEnv) -> BaseAlgorithm:
        """The model with its replay buffer, on ``env``.

        Raises:
            CheckpointError: a file is missing or unreadable; nothing half-loaded is returned.
        """
        try:
            model = algorithm.load(self.path / "model.zip", env=env)
            buffer = self.path / "replay_buffer.pkl"
            if isinstance(model, OffPolicyAlgorithm):
                if not buffer.exists():
                    raise FileNotFoundError(buffer)
                model.load_replay_buffer(buffer)
        except Exception as exc:
            raise CheckpointError(
                f"checkpoint {self.path} cannot be loaded ({type(exc).__name__}: {exc}); "
                "delete that folder to resume from the one before, or start a new run"
            ) from exc
        return model

    def load_normalization(self, env: VecEnv) -> VecEnv:
        """``env`` wrapped in the saved ``VecNormalize`` statistics (if the run had them)."""
        stats = self.path / "vecnormalize.pkl"
        return VecNormalize.load(str(stats), env) if stats.exists() else env


def save_checkpoint(
    run_dir: str | Path,
    model: BaseAlgorithm,
    config: RunConfig,
    totals: dict[str, float] | None = None,
) -> Checkpoint:
    """Write a checkpoint of ``model`` (and its replay buffer) and point ``LATEST`` at it.

    Args:
        run_dir: the run directory.
        model: the model being trained.
        config: its run config.
        totals: counters of the run so far (seconds, QP solves, ...), restored on resume.
    """
    root = Path(run_dir) / CHECKPOINTS
    name = f"step-{model.num_timesteps:08d}"
    tmp = root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save(tmp / "model.zip")
    if isinstance(model, OffPolicyAlgorithm) and model.replay_buffer is not None:
        model.save_replay_buffer(tmp / "replay_buffer.pkl")
    venv = model.get_vec_normalize_env()
    if venv is not None:
        venv.save(str(tmp / "vecnormalize.pkl"))
    meta = {
        "format": CHECKPOINT_FORMAT,
        "steps": int(model.num_timesteps),
        "algo": config.algo,
        "env": config.env,
        "seed": config.seed,
        "totals": dict(totals or {}),
    }
    (tmp / "checkpoint.json").write_text(json.dumps(meta, indent=2))
    final = root / name
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    write_text_atomic(root / "LATEST", name)
    for old in sorted(p for p in root.glob("step-*") if p.is_dir())[:-_KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return Checkpoint(final, meta["steps"], meta)


def latest_checkpoint(run_dir: str | Path, config: RunConfig) -> Checkpoint | None:
    """The newest complete checkpoint of ``run_dir`` (``None`` if there is none).

    Raises:
        CheckpointError: ``LATEST`` points at a missing, foreign or corrupt checkpoint.
    """
    root = Path(run_dir) / CHECKPOINTS
    pointer = root / "LATEST"
    if not pointer.exists():
        return None
    path = root / pointer.read_text().strip()
    try:
        meta = json.loads((path / "checkpoint.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CheckpointError(
            f"checkpoint {path} is missing or corrupt ({exc}); delete {pointer} to start over"
        ) from exc
    if meta.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(
            f"{path} has format {meta.get('format')!r}, expected {CHECKPOINT_FORMAT!r}"
        )
    if (meta.get("algo"), meta.get("env")) != (config.algo, config.env):
        raise CheckpointError(
            f"{path} is a checkpoint of {meta.get('algo')} on {meta.get('env')}, but the run "
            f"is {config.algo} on {config.env}"
        )
    return Checkpoint(path, int(meta["steps"]), meta)
