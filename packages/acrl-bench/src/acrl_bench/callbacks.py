"""Callbacks of ``acrl train``: the per-episode log behind the curves, and checkpoints."""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from acrl_bench.checkpoint import save_checkpoint
from acrl_bench.config import RunConfig
from acrl_policies.common.safety_net import safety_net_counts

__all__ = ["EPISODE_FIELDS", "Checkpointer", "EpisodeLog", "read_episodes"]

EPISODE_FIELDS = ("steps", "seconds", "return", "length", "cost", "valid_rate")
"""Columns of ``episodes.csv``: agent steps so far, training seconds so far, task return,
simulator steps, summed ``info["cost"]``, fraction of feasible proposals in the episode."""


class EpisodeLog(BaseCallback):
    """Appends one row per finished episode to ``episodes.csv`` (see :data:`EPISODE_FIELDS`).

    The return and length are ``Monitor``'s (the task's); the cost and the valid rate
    count every agent step of the episode, self-loops included. For a method that checks
    its own proposals (ARAM, FlowPG, CV-Flow: the wrapper then only sees feasible actions)
    the valid rate is that of the proposals the method checked during the episode, from its
    :class:`~acrl_policies.common.safety_net.SafetyNetCounts` (shared evenly between the
    envs of a step when ``n_envs > 1``). Training seconds continue from the last row, so a
    resumed run's curve against wall-clock has no gap.

    Args:
        path: the CSV file (appended to if it exists).
    """

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._cost: np.ndarray | None = None
        self._proposals: np.ndarray | None = None
        self._feasible: np.ndarray | None = None
        self._offset = 0.0
        self._start = 0.0
        self._handle: Any = None
        self._net_seen = (0, 0)

    def _on_training_start(self) -> None:
        n = self.training_env.num_envs
        self._cost, self._proposals, self._feasible = np.zeros(n), np.zeros(n), np.zeros(n)
        rows = read_episodes(self.path)
        self._offset = rows[-1]["seconds"] if rows else 0.0
        new = not self.path.exists()
        self._handle = self.path.open("a", newline="")
        self._writer = csv.writer(self._handle)
        if new:
            self._writer.writerow(EPISODE_FIELDS)
        self._start = time.perf_counter()
        net = safety_net_counts(self.model)
        self._net_seen = (0, 0) if net is None else (net.proposals, net.infeasible)

    def _net_step(self) -> tuple[float, float] | None:
        """Proposals and feasible ones the method checked itself since the last step."""
        net = safety_net_counts(self.model)
        if net is None:
            return None
        proposals, infeasible = (
            net.proposals - self._net_seen[0],
            net.infeasible - self._net_seen[1],
        )
        self._net_seen = (net.proposals, net.infeasible)
        if proposals <= 0:
            return None  # e.g. warm-up actions, checked by the wrapper
        n = self.training_env.num_envs
        return proposals / n, (proposals - infeasible) / n

    def _on_step(self) -> bool:
        assert self._cost is not None and self._proposals is not None and self._feasible is not None
        net = self._net_step()
        for i, (info, done) in enumerate(
            zip(self.locals["infos"], self.locals["dones"], strict=True)
        ):
            self._cost[i] += float(info.get("cost", 0.0))
            found = info.get("constraint")
            if net is not None:
                self._proposals[i] += net[0]
                self._feasible[i] += net[1]
            else:
                self._proposals[i] += 1
                self._feasible[i] += 1 if found is None else bool(found["feasible"])
            episode = info.get("episode")
            if done and episode is not None:
                seconds = self._offset + time.perf_counter() - self._start
                self._writer.writerow(
                    [
                        self.num_timesteps,
                        round(seconds, 3),
                        float(episode["r"]),
                        int(episode["l"]),
                        float(self._cost[i]),
                        round(self._feasible[i] / self._proposals[i], 6),
                    ]
                )
                self._handle.flush()
            if done:
                self._cost[i] = self._proposals[i] = self._feasible[i] = 0.0
        return True

    def _on_training_end(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


def read_episodes(path: str | Path) -> list[dict[str, float]]:
    """The rows of an ``episodes.csv`` as dicts of floats (``[]`` if there is no file).

    A last line cut short by a kill is skipped.
    """
    path = Path(path)
    if not path.exists():
        return []
    rows = []
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                rows.append({key: float(row[key]) for key in EPISODE_FIELDS})
            except (TypeError, ValueError, KeyError):
                continue
    return rows


class Checkpointer(BaseCallback):
    """Saves a checkpoint (model and replay buffer) every ``save_freq`` env steps.

    It saves when a rollout starts: after SB3 stored the last transition in the replay
    buffer and trained on it, so the checkpoint's buffer holds every collected step and
    an on-policy algorithm has learnt from every finished rollout.

    Args:
        run_dir: the run directory.
        config: the run's config (recorded in the checkpoint).
        totals: returns the run's counters so far, stored with each checkpoint.
    """

    def __init__(
        self,
        run_dir: str | Path,
        config: RunConfig,
        totals: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.config = config
        self.totals = totals
        self._next = 0

    def _on_training_start(self) -> None:
        every = self.config.save_freq
        self._next = (self.num_timesteps // every + 1) * every

    def _on_rollout_start(self) -> None:
        if self.num_timesteps >= self._next:
            totals = None if self.totals is None else self.totals()
            save_checkpoint(self.run_dir, self.model, self.config, totals)
            every = self.config.save_freq
            self._next = (self.num_timesteps // every + 1) * every

    def _on_step(self) -> bool:
        return True
