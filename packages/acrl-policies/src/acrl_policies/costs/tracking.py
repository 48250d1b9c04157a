"""Cost tracking shared by the on- and off-policy cost-aware algorithms.

- :func:`read_costs` — the per-step costs of a vectorised step, or a
  :class:`~acrl_policies.errors.MissingCostError` that names the providers.
- :func:`check_cost_limit` — validates a cost limit.
- :class:`CostTracking` — the part of the cost plumbing that does not depend on how the
  base algorithm collects data: the cost limit, the episode costs J_c
  (:class:`~acrl_policies.costs.EpisodeCosts`), their reset in ``_setup_learn``, the
  ``rollout/ep_cost_mean`` log, and the wrapper's ``constraint/*`` metrics
  (a :class:`~acrl_wrappers.sb3.ConstraintMetricsCallback` added in ``_setup_learn`` when
  the env has an acrl wrapper and no such callback was passed).
  :class:`~acrl_policies.costs.CostOnPolicyAlgorithm` and
  :class:`~acrl_policies.costs.CostOffPolicyAlgorithm` build on it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.type_aliases import MaybeCallback

from acrl_policies.common.callbacks import with_constraint_metrics
from acrl_policies.costs.episode_costs import EpisodeCosts
from acrl_policies.errors import InvalidCostLimitError, MissingCostError, PolicyError

__all__ = ["CostTracking", "check_cost_limit", "read_costs"]

_COST_PROVIDERS = (
    "Cost-aware algorithms learn from a per-step CMDP cost in info['cost']. Use a task "
    "that reports it, such as gym.make('ACRL/SafeHopperVelocity-v1') (or another "
    "ACRL/Safe*Velocity-v1 task), or an action-constrained task with an enforcement wrapper, "
    "gym.make('ACRL/HopperM10-v0', enforce='project') or acrl.wrap(env, constraint, "
    "enforce='project' | 'reject' | 'automdp' | 'monitor') (ConstraintMonitor only "
    "measures), whose cost is 1.0 on each step whose proposed action was infeasible."
)


def read_costs(infos: Sequence[dict[str, Any]]) -> np.ndarray:
    """The ``info["cost"]`` of each env of a vectorised step, as a float array.

    Args:
        infos: the ``infos`` list a ``VecEnv.step`` returned.

    Raises:
        MissingCostError: an env's ``info`` has no ``"cost"``, or it is NaN or inf.

    Example:
        >>> read_costs([{"cost": 1.0}, {"cost": 0.0}]).tolist()
        [1.0, 0.0]
        >>> read_costs([{"x_velocity": 0.3}])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_policies.errors.MissingCostError: env 0 reported no info['cost'] (its info has ...
    """
    costs = np.empty(len(infos), dtype=np.float64)
    for idx, info in enumerate(infos):
        cost = info.get("cost")
        if cost is None:
            raise MissingCostError(
                f"env {idx} reported no info['cost'] (its info has keys {sorted(info)}). "
                + _COST_PROVIDERS
            )
        costs[idx] = float(cost)
        if not math.isfinite(costs[idx]):
            raise MissingCostError(
                f"env {idx} reported info['cost'] = {cost!r}; costs must be finite"
            )
    return costs


def check_cost_limit(cost_limit: float, name: str = "cost_limit") -> float:
    """Return ``cost_limit`` as a float if it is finite and positive.

    Args:
        cost_limit: limit on the expected undiscounted episode cost.
        name: the parameter's name, for the message.

    Raises:
        InvalidCostLimitError: the limit is not a finite positive number.

    Example:
        >>> check_cost_limit(25)
        25.0
        >>> check_cost_limit(0.0)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_policies.errors.InvalidCostLimitError: cost_limit must be a finite number > 0 ...
    """
    try:
        value = float(cost_limit)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InvalidCostLimitError(
            f"{name} must be a finite number > 0 (the allowed expected episode cost, e.g. 25 "
            f"for the ACRL/Safe*Velocity-v1 tasks), got {cost_limit!r}"
        )
    return value


class CostTracking(BaseAlgorithm):
    """Episode-cost bookkeeping for an SB3 algorithm, placed before its base class.

    Validates ``cost_limit`` and ``cost_window_size``, keeps an
    :class:`~acrl_policies.costs.EpisodeCosts` sized to the env (rebuilt at the start of
    ``learn`` unless ``reset_num_timesteps=False``, when only the running sums are dropped
    if the envs are reset), exposes :attr:`episode_cost_mean` and logs it as
    ``rollout/ep_cost_mean``. Subclasses feed it through :meth:`_track_step_costs`; the
    on- and off-policy mixins do that from their own hook into data collection.

    Args:
        *args: positional arguments of the algorithm.
        cost_limit: limit b on the expected undiscounted episode cost (> 0).
        cost_window_size: finished episodes averaged into J_c.
        **kwargs: keyword arguments of the algorithm.

    Raises:
        InvalidCostLimitError: ``cost_limit`` is ≤ 0, NaN or inf.
        PolicyError: ``cost_window_size`` < 1.

    Example:
        >>> from acrl_policies.costs import CostOnPolicyAlgorithm, CostOffPolicyAlgorithm
        >>> issubclass(CostOnPolicyAlgorithm, CostTracking)
        True
        >>> issubclass(CostOffPolicyAlgorithm, CostTracking)
        True

    Change logs:
        - v0.1.0 - Initially added (split out of ``CostOnPolicyAlgorithm``).
    """

    def __init__(
        self, *args: Any, cost_limit: float = 25.0, cost_window_size: int = 50, **kwargs: Any
    ) -> None:
        self.cost_limit = check_cost_limit(cost_limit)
        if int(cost_window_size) < 1:
            raise PolicyError(f"cost_window_size must be >= 1, got {cost_window_size!r}")
        self.cost_window_size = int(cost_window_size)
        self.episode_costs: EpisodeCosts | None = None
        super().__init__(*args, **kwargs)

    @property
    def episode_cost_mean(self) -> float:
        """J_c: mean undiscounted cost of the last ``cost_window_size`` finished episodes."""
        return 0.0 if self.episode_costs is None else self.episode_costs.mean()

    def _ensure_episode_costs(self) -> None:
        """Create the episode-cost tracker if missing or sized for another number of envs."""
        if self.episode_costs is None or len(self.episode_costs.running) != self.n_envs:
            self.episode_costs = EpisodeCosts(self.n_envs, self.cost_window_size)

    def _track_step_costs(self, infos: Sequence[dict[str, Any]], dones: np.ndarray) -> np.ndarray:
        """Read one vectorised step's costs and add them to the episode costs.

        Raises:
            MissingCostError: an env reported no ``info["cost"]``.
        """
        costs = read_costs(infos)
        self._ensure_episode_costs()
        assert self.episode_costs is not None
        self.episode_costs.update(costs, np.asarray(dones, dtype=bool))
        return costs

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        env_reset = reset_num_timesteps or self._last_obs is None
        callback = with_constraint_metrics(self.env, callback)  # constraint/* under a wrapper
        result = super()._setup_learn(
            total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar
        )
        if reset_num_timesteps or self.episode_costs is None:
            self.episode_costs = EpisodeCosts(self.n_envs, self.cost_window_size)
        elif env_reset:
            self.episode_costs.reset_running()
        return result

    def dump_logs(self, *args: Any, **kwargs: Any) -> None:
        """SB3's logs plus ``rollout/ep_cost_mean`` (J_c)."""
        if self.episode_costs is not None and self.episode_costs.finished:
            self.logger.record("rollout/ep_cost_mean", self.episode_cost_mean)
        super().dump_logs(*args, **kwargs)  # type: ignore[misc]
