"""``EpisodeCosts``: the undiscounted cost of training episodes, over a moving window."""

from __future__ import annotations

from collections import deque

import numpy as np

__all__ = ["EpisodeCosts"]


class EpisodeCosts:
    """Sums ``info["cost"]`` per episode and averages the last ``window`` finished episodes.

    This is C-TRPO's J_c: the reference code (the authors' ``algorithms/c-trpo.py``,
    github.com/milosen/ctrpo) takes the undiscounted episode cost averaged over the last
    50 completed training episodes, and the Lagrangian baselines compare the same number
    with the limit. Before any episode has finished, :meth:`mean` returns the mean of the
    running (incomplete) sums, a lower bound on the episode cost.

    Args:
        n_envs: number of parallel envs.
        window: finished episodes in the average.

    Example:
        >>> tracker = EpisodeCosts(n_envs=2, window=50)
        >>> tracker.update(np.array([1.0, 0.0]), np.array([False, False]))
        >>> tracker.update(np.array([1.0, 1.0]), np.array([True, False]))
        >>> tracker.mean(), list(tracker.finished)
        (2.0, [2.0])

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(self, n_envs: int, window: int = 50) -> None:
        self.window = int(window)
        self.running = np.zeros(n_envs, dtype=np.float64)
        self.finished: deque[float] = deque(maxlen=self.window)
        self.total_finished = 0  # episodes closed since creation (not capped by the window)

    def update(self, costs: np.ndarray, dones: np.ndarray) -> None:
        """Add one vectorised step's costs; close the episodes that ended.

        Args:
            costs: ``(n_envs,)`` per-step costs.
            dones: ``(n_envs,)`` whether each env's episode ended at this step.
        """
        self.running += costs
        for idx in np.flatnonzero(dones):
            self.finished.append(float(self.running[idx]))
            self.total_finished += 1
            self.running[idx] = 0.0

    def reset_running(self) -> None:
        """Forget the running sums (the envs were reset)."""
        self.running[:] = 0.0

    def mean(self) -> float:
        """Mean cost of the last ``window`` finished episodes (running sums if none)."""
        if self.finished:
            return float(np.mean(self.finished))
        return float(np.mean(self.running))
