"""``ConstraintMetricsCallback``: constraint metrics in the SB3 logger."""

from __future__ import annotations

from collections import deque

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback

from acrl_wrappers.errors import ConstraintError

__all__ = ["ConstraintMetricsCallback"]


class ConstraintMetricsCallback(BaseCallback):
    """Logs what the acrl wrappers report in ``info`` to the SB3 logger.

    Keys (means over the steps since the last log dump, except where noted):

    - ``constraint/violation_rate`` — fraction of proposed actions that were infeasible;
    - ``constraint/projection_rate`` — fraction projected (or replaced by a fallback);
    - ``constraint/self_loop_rate`` — fraction answered by a self-loop (rejected);
    - ``constraint/qp_solves`` — projection problems solved since training started;
    - ``rollout/ep_cost_mean`` — mean summed ``info["cost"]`` of the last ``window``
      episodes (with ``AutoMDP`` an episode ends on a real terminal step).

    Works with any number of envs (``DummyVecEnv``, ``SubprocVecEnv``) and with any
    algorithm, since it only reads ``self.locals["infos"]`` and ``self.locals["dones"]``.
    Totals since training started are kept as attributes: :attr:`steps`,
    :attr:`violations`, :attr:`projections`, :attr:`self_loops`, :attr:`qp_solves`.

    Args:
        window: episodes in ``rollout/ep_cost_mean`` (SB3 uses 100 for ``ep_rew_mean``).
        verbose: SB3 verbosity.

    Raises:
        ConstraintError: at the first step, if the env reports no ``info["constraint"]``
            (it is not wrapped by an acrl wrapper).

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3 import PPO
        >>> import acrl_wrappers as acrl
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1, "high": 0.5})
        >>> model = PPO("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0)
        >>> metrics = ConstraintMetricsCallback()
        >>> _ = model.learn(128, callback=metrics)
        >>> metrics.steps, 0.0 < metrics.violations / metrics.steps < 1.0
        (128, True)
    """

    def __init__(self, window: int = 100, verbose: int = 0) -> None:
        super().__init__(verbose)
        self.window = window
        self.episode_costs: deque[float] = deque(maxlen=window)
        self.steps = 0
        self.violations = 0
        self.projections = 0
        self.self_loops = 0
        self.qp_solves = 0
        self._running_cost: np.ndarray | None = None

    def _on_training_start(self) -> None:
        self._running_cost = np.zeros(self.training_env.num_envs)

    def _on_step(self) -> bool:
        infos = self.locals["infos"]
        dones = self.locals["dones"]
        assert self._running_cost is not None
        record = self.logger.record_mean
        for i, info in enumerate(infos):
            found = info.get("constraint")
            if found is None:
                raise ConstraintError(
                    "ConstraintMetricsCallback found no info['constraint']: the env is not wrapped "
                    "by an acrl wrapper; use acrl.wrap(env, constraint, enforce=...)"
                )
            infeasible = not found["feasible"]
            projected = found["enforcement"] in ("projected", "fallback")
            self_loop = found["enforcement"] == "rejected"
            record("constraint/violation_rate", float(infeasible))
            record("constraint/projection_rate", float(projected))
            record("constraint/self_loop_rate", float(self_loop))
            self.steps += 1
            self.violations += infeasible
            self.projections += projected
            self.self_loops += self_loop
            self.qp_solves += found["qp_solves"]
            self._running_cost[i] += info.get("cost", 0.0)
            if dones[i]:
                self.episode_costs.append(float(self._running_cost[i]))
                self._running_cost[i] = 0.0
        self.logger.record("constraint/qp_solves", self.qp_solves)
        if self.episode_costs:
            self.logger.record("rollout/ep_cost_mean", float(np.mean(self.episode_costs)))
        return True
