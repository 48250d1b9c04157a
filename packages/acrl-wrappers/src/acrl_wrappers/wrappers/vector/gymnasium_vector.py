"""Enforcement wrappers for Gymnasium 1.x vector envs (``gymnasium.vector.VectorWrapper``).

- :class:`VectorProjectAction` — every sub-env executes the nearest feasible action.
- :class:`VectorRejectAction` — infeasible actions are never executed; the fallback
  (projection, safe action or a callable) is, or ``on_reject="raise"`` stops the step.
- :class:`VectorConstraintMonitor` — measures, changes nothing.

One batched ``violation`` call and (when some row is infeasible) one batched projection
per step for all sub-envs. ``info`` has the single-env keys in Gymnasium's vector form
(an array per key with a ``_key`` mask, one mask array shared by a step's keys):
``info["cost"][i]``,
``info["constraint"]["violation"][i]``, ... are what sub-env ``i``'s single-env wrapper
would report, and ``info["reward_vector"]`` is an ``(N, 2)`` array. With next-step
autoreset (Gymnasium's default) the step that resets a sub-env ignores its action, so
nothing is enforced or reported for it (its masks are ``False``).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from acrl_wrappers._arrays import float_scalar
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.wrappers.base import ConstraintLike, check_spaces
from acrl_wrappers.wrappers.vector.enforcer import BatchEnforcer, FallbackFn, StepPlan

__all__ = ["VectorConstraintMonitor", "VectorProjectAction", "VectorRejectAction"]


class _VectorConstraintWrapper(VectorWrapper):
    """What the Gymnasium vector wrappers share: the batched step and the ``info`` schema."""

    penalty = 0.0

    def _setup(self, constraint: ConstraintLike, mode: str, **options: Any) -> None:
        c = make_constraint(constraint)
        check_spaces(c, self.env.single_action_space, self.env.single_observation_space)
        self._enforcer = BatchEnforcer(c, self.env.num_envs, mode=mode, **options)
        mode_value = self.env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        self._next_step_reset = str(getattr(mode_value, "value", mode_value)) == "NextStep"
        self._resetting = np.zeros(self.env.num_envs, dtype=bool)
        self._any_resetting = False
        self._all = np.ones(self.env.num_envs, dtype=bool)

    @property
    def constraint(self) -> Any:
        """The constraint enforced on every sub-env."""
        return self._enforcer.constraint

    @property
    def projector(self) -> Any:
        """The projector (built on first use)."""
        return self._enforcer.projector

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the sub-envs and remember the observations the constraint reads."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._enforcer.observe(obs)
        self._resetting = np.zeros(self.env.num_envs, dtype=bool)
        self._any_resetting = False
        return obs, info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """One batched check and projection, then the vector step."""
        active = ~self._resetting if self._any_resetting else None
        plan = self._enforcer.plan(actions, active)
        obs, reward, terminated, truncated, info = self.env.step(plan.actions)
        self._enforcer.observe(obs)
        if self._next_step_reset:
            self._resetting = np.logical_or(terminated, truncated)
            self._any_resetting = bool(self._resetting.any())
        reward = self._reward(reward, plan)
        self._add_info(info, plan, reward)
        return obs, reward, terminated, truncated, info

    def _reward(self, reward: Any, plan: StepPlan) -> Any:
        if self.penalty and plan.distance.any():
            return np.asarray(reward, dtype=np.float64) - self.penalty * plan.distance
        return reward

    def _add_info(self, info: dict[str, Any], plan: StepPlan, reward: Any) -> None:
        n = self.env.num_envs
        mask = self._all.copy() if plan.active is None else plan.active.copy()
        if plan.accepted:  # fresh arrays (the plan's are shared constants)
            feasible, enforcement = np.ones(n, dtype=bool), self._enforcer._none.copy()
            solves, (distance, cost) = np.zeros(n, dtype=np.int64), np.zeros((2, n))
        else:
            feasible, enforcement, solves = plan.feasible, plan.enforcement, plan.qp_solves
            distance, cost = plan.distance, plan.cost
        constraint: dict[str, Any] = {
            "violation": plan.violation,
            "_violation": mask,
            "feasible": feasible,
            "_feasible": mask,
            "enforcement": enforcement,
            "_enforcement": mask,
            "qp_solves": solves,
            "_qp_solves": mask,
            "distance": distance,
            "_distance": mask,
        }
        if plan.errors:
            errors = np.full(n, None, dtype=object)
            details = errors.copy()
            for i, (status, detail) in plan.errors.items():
                errors[i], details[i] = status, detail
            error_mask = np.zeros(n, dtype=bool)
            error_mask[list(plan.errors)] = True
            constraint.update(error=errors, _error=error_mask, error_detail=details)
            constraint["_error_detail"] = error_mask
        info["cost"], info["_cost"] = cost, mask
        info["constraint"], info["_constraint"] = constraint, mask
        if self.reports_reward_vector:
            vector = np.zeros((n, 2))
            vector[:, 0] = reward
            if self.penalty and not plan.accepted:  # reward was shaped: restore the task part
                vector[:, 0] += self.penalty * plan.distance
                vector[:, 1] -= self.penalty * plan.distance
            info["reward_vector"], info["_reward_vector"] = vector, mask

    reports_reward_vector = True


class VectorProjectAction(_VectorConstraintWrapper, gym.utils.RecordConstructorArgs):
    """Every sub-env executes its proposed action if feasible, else the nearest feasible one.

    The vector version of :class:`~acrl_wrappers.ProjectAction`: one batched
    ``violation`` call and one batched projection per step; ``penalty`` shapes the reward
    by the projection distance as there. A failed projection falls back to the
    constraint's safe action for that sub-env (``enforcement="fallback"``, with
    ``error``); if that fails too, the step raises before anything is executed.

    Args:
        env: a Gymnasium ``VectorEnv`` with 1-D ``Box`` single action (and observation) spaces.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        penalty: coefficient on the projection distance subtracted from the reward, ``>= 0``.
        projector: force a projector by name (default: the best available).

    Example:
        >>> import gymnasium as gym
        >>> envs = gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync")
        >>> envs = VectorProjectAction(envs, {"name": "box", "dim": 1, "high": 0.5})
        >>> _ = envs.reset(seed=0)
        >>> _, _, _, _, info = envs.step(np.array([[1.0], [0.2]], dtype=np.float32))
        >>> info["cost"].tolist(), info["constraint"]["enforcement"].tolist()
        ([1.0, 0.0], ['projected', 'none'])

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: VectorEnv,
        constraint: ConstraintLike,
        *,
        penalty: float = 0.0,
        projector: str | None = None,
    ) -> None:
        c = make_constraint(constraint)
        penalty = float_scalar(penalty, "penalty", minimum=0.0)
        gym.utils.RecordConstructorArgs.__init__(
            self, constraint=c.spec, penalty=penalty, projector=projector
        )
        VectorWrapper.__init__(self, env)
        self._setup(c, "project", projector=projector)
        self.penalty = penalty


class VectorRejectAction(_VectorConstraintWrapper, gym.utils.RecordConstructorArgs):
    """No sub-env executes an infeasible action; it executes the fallback instead.

    The vector version of :class:`~acrl_wrappers.RejectAction` with
    ``on_reject="fallback"`` (default) or ``"raise"``. A vector env steps all sub-envs
    together, so a rejected sub-env cannot be left unstepped: ``"self_loop"`` and
    ``"terminate"`` are refused (wrap each sub-env with :class:`~acrl_wrappers.RejectAction`
    for them). ``fallback``: ``"project"`` (nearest feasible action, one batched call),
    ``"safe"`` (:meth:`Constraint.safe_action`) or ``fallback(action, obs) -> action``
    (called per infeasible sub-env, result checked).

    Args:
        env: a Gymnasium ``VectorEnv``.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        on_reject: ``"fallback"`` or ``"raise"``.
        fallback: ``"project"``, ``"safe"`` or a callable.
        projector: force a projector by name (default: the best available).

    Raises:
        ConstraintError: ``on_reject`` other than ``"fallback"`` / ``"raise"`` (names the
            per-sub-env alternative), or an unknown ``fallback``.

    Example:
        >>> import gymnasium as gym
        >>> envs = gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync")
        >>> envs = VectorRejectAction(envs, {"name": "box", "dim": 1, "high": 0.5}, fallback="safe")
        >>> _ = envs.reset(seed=0)
        >>> _, _, _, _, info = envs.step(np.array([[1.0], [0.2]], dtype=np.float32))
        >>> info["constraint"]["enforcement"].tolist(), info["constraint"]["distance"].tolist()
        (['fallback', 'none'], [1.0, 0.0])

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: VectorEnv,
        constraint: ConstraintLike,
        *,
        on_reject: str = "fallback",
        fallback: str | FallbackFn = "project",
        projector: str | None = None,
    ) -> None:
        check_vector_reject(on_reject, fallback)
        c = make_constraint(constraint)
        gym.utils.RecordConstructorArgs.__init__(
            self, constraint=c.spec, on_reject=on_reject, fallback=fallback, projector=projector
        )
        VectorWrapper.__init__(self, env)
        self._setup(c, "reject", on_reject=on_reject, fallback=fallback, projector=projector)


class VectorConstraintMonitor(_VectorConstraintWrapper, gym.utils.RecordConstructorArgs):
    """Measures the sub-envs' constraint violations without enforcing anything.

    The vector version of :class:`~acrl_wrappers.ConstraintMonitor`: every proposed
    action is executed; infeasible ones are recorded (``info["cost"]``,
    ``info["constraint"]``) and, with ``measure_distance``, projected in one batched
    call to report their distance. :attr:`violation_rate` and :attr:`mean_distance`
    cover every sub-env step since creation.

    Args:
        env: a Gymnasium ``VectorEnv``.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        measure_distance: also project infeasible actions to report their distance.
        projector: force a projector by name (default: the best available).

    Example:
        >>> import gymnasium as gym
        >>> envs = gym.make_vec("Pendulum-v1", num_envs=2, vectorization_mode="sync")
        >>> envs = VectorConstraintMonitor(envs, {"name": "box", "dim": 1, "high": 0.5})
        >>> _ = envs.reset(seed=0)
        >>> _ = envs.step(np.array([[1.0], [0.2]], dtype=np.float32))
        >>> envs.violation_rate, envs.mean_distance
        (0.5, 0.5)

    Change logs:
        - v0.1.0 - Initially added.
    """

    reports_reward_vector = False

    def __init__(
        self,
        env: VectorEnv,
        constraint: ConstraintLike,
        *,
        measure_distance: bool = True,
        projector: str | None = None,
    ) -> None:
        c = make_constraint(constraint)
        gym.utils.RecordConstructorArgs.__init__(
            self, constraint=c.spec, measure_distance=measure_distance, projector=projector
        )
        VectorWrapper.__init__(self, env)
        self._setup(c, "monitor", measure_distance=bool(measure_distance), projector=projector)
        self.steps = 0  # sub-env steps since creation
        self.violations = 0
        self._distance_sum = 0.0

    @property
    def violation_rate(self) -> float:
        """Fraction of all sub-env steps so far whose action was infeasible."""
        return self.violations / self.steps if self.steps else 0.0

    @property
    def mean_distance(self) -> float:
        """Mean projection distance of the infeasible actions so far (0 if none)."""
        return self._distance_sum / self.violations if self.violations else 0.0

    def _add_info(self, info: dict[str, Any], plan: StepPlan, reward: Any) -> None:
        super()._add_info(info, plan, reward)
        active = self._all if plan.active is None else plan.active
        self.steps += int(active.sum())
        infeasible = ~plan.feasible
        self.violations += int(infeasible.sum())
        self._distance_sum += float(np.nansum(plan.distance[infeasible]))


def check_vector_reject(on_reject: str, fallback: Any) -> None:
    """Validate ``on_reject`` and ``fallback`` of a vector ``RejectAction``.

    Raises:
        ConstraintError: naming the per-sub-env wrapper for self-loops and termination.
    """
    if on_reject in ("self_loop", "terminate"):
        raise ConstraintError(
            f"on_reject={on_reject!r} needs a sub-env left unstepped, which a vector env cannot "
            "do; use on_reject='fallback' or 'raise' here, or wrap each sub-env with "
            "acrl.RejectAction(env, constraint, on_reject=...) inside the vector env"
        )
    if on_reject not in ("fallback", "raise"):
        raise ConstraintError(f"`on_reject` must be 'fallback' or 'raise', got {on_reject!r}")
    if not (callable(fallback) or fallback in ("project", "safe")):
        raise ConstraintError(
            f"`fallback` must be 'project', 'safe' or a callable (action, obs) -> action, "
            f"got {fallback!r}"
        )
