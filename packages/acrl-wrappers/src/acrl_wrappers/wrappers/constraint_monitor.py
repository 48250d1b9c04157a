"""``ConstraintMonitor``: measure how often a policy violates a constraint, change nothing."""

from __future__ import annotations

import math
from typing import Any, SupportsFloat

import gymnasium as gym

from acrl_wrappers.errors import ProjectionError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.wrappers.base import (
    ConstraintLike,
    ConstraintWrapper,
    Enforcement,
    constraint_info,
)
from acrl_wrappers.wrappers.faults import checked_projection

__all__ = ["ConstraintMonitor"]


class ConstraintMonitor(ConstraintWrapper, gym.utils.RecordConstructorArgs):
    """Measures constraint violations of any policy without enforcing anything.

    What reaches the simulator: the proposed action, unchanged — including infeasible
    ones, which are recorded (``info["cost"] = 1``, ``info["constraint"]["feasible"] =
    False``), never hidden. Use it to evaluate policies trained without constraints, or
    inside another wrapper's fallback. With ``measure_distance`` the distance from an
    infeasible action to its projection is measured too (one projection per violation).

    Vector version: :class:`~acrl_wrappers.VectorConstraintMonitor` (Gymnasium) and
    ``acrl_wrappers.sb3.VecConstraintMonitor`` (SB3).

    At the end of an episode ``info["constraint_episode"]`` holds ``steps``,
    ``violations``, ``violation_rate`` and ``mean_distance`` of that episode;
    :attr:`violation_rate` and :attr:`mean_distance` cover every step since creation.

    Args:
        env: env with a 1-D ``Box`` action space.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        measure_distance: also project infeasible actions to report their distance.
        projector: force a projector by name (default: the best available).

    Example:
        >>> import gymnasium as gym
        >>> box = {"name": "box", "dim": 1, "low": -1.0, "high": 1.0}
        >>> env = ConstraintMonitor(gym.make("Pendulum-v1"), box)
        >>> _ = env.reset(seed=0)
        >>> _ = env.step([1.5]); _ = env.step([0.5])
        >>> env.violation_rate, env.mean_distance
        (0.5, 0.5)

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        constraint: ConstraintLike,
        *,
        measure_distance: bool = True,
        projector: str | None = None,
    ) -> None:
        c = make_constraint(constraint)
        gym.utils.RecordConstructorArgs.__init__(
            self, constraint=c.spec, measure_distance=measure_distance, projector=projector
        )
        gym.Wrapper.__init__(self, env)
        self._setup(c, projector)
        self.measure_distance = bool(measure_distance)
        self.steps = 0  # every step since creation
        self.violations = 0
        self._distance_sum = 0.0
        self._episode = [0, 0, 0.0]  # steps, violations, summed distance

    @property
    def violation_rate(self) -> float:
        """Fraction of all steps so far whose action was infeasible."""
        return self.violations / self.steps if self.steps else 0.0

    @property
    def mean_distance(self) -> float:
        """Mean projection distance of the infeasible actions so far (0 if none)."""
        return self._distance_sum / self.violations if self.violations else 0.0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and the episode counters."""
        self._episode = [0, 0, 0.0]
        return super().reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Execute the action unchanged and record whether it was feasible."""
        a, violation = self._check(action)
        feasible = violation <= self._constraint.tol
        solves, distance = 0, 0.0
        if not feasible and self.measure_distance:
            try:
                a64 = a.astype(float, copy=False)
                projector = self._projector or self._build_projector
                _, distance = checked_projection(
                    projector, self._constraint, a64, self._obs, violation
                )
                solves = 1
            except ProjectionError:  # a failed or faulty projector: the distance is unknown
                distance = math.nan
        info_c = constraint_info(violation, feasible, Enforcement.NONE, solves, distance)
        obs, reward, terminated, truncated, info = self._execute(
            action, info_c, float(not feasible)
        )
        self.steps += 1
        self._episode[0] += 1
        if not feasible:
            self.violations += 1
            self._episode[1] += 1
            if not math.isnan(distance):
                self._distance_sum += distance
                self._episode[2] += distance
        if terminated or truncated:
            steps, violations, distances = self._episode
            info["constraint_episode"] = {
                "steps": steps,
                "violations": violations,
                "violation_rate": violations / steps,
                "mean_distance": distances / violations if violations else 0.0,
            }
        return obs, reward, terminated, truncated, info
