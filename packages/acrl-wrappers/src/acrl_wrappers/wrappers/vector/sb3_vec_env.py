"""Enforcement wrappers for SB3 ``VecEnv`` (``VecEnvWrapper``): one batched check per step.

- :class:`VecProjectAction` — every sub-env executes the nearest feasible action.
- :class:`VecRejectAction` — infeasible actions are never executed; the fallback is.
- :class:`VecConstraintMonitor` — measures, changes nothing.

They are what :func:`acrl_wrappers.wrap` returns for an SB3 ``VecEnv``; this module
imports stable-baselines3, so it is imported only then (and by :mod:`acrl_wrappers.sb3`,
which re-exports the classes). Each sub-env's
``info`` dict gets exactly the keys its single-env wrapper would write (``cost``,
``constraint``, ``reward_vector``), so :class:`~acrl_wrappers.sb3.ConstraintMetricsCallback`
and SB3's own ``Monitor`` / ``ep_info_buffer`` work unchanged. Put them *inside*
``VecNormalize`` (the constraint must see raw observations).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper, unwrap_vec_normalize

from acrl_wrappers._arrays import float_scalar
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.wrappers.base import ConstraintLike, check_spaces
from acrl_wrappers.wrappers.vector.enforcer import BatchEnforcer, FallbackFn, StepPlan
from acrl_wrappers.wrappers.vector.gymnasium_vector import check_vector_reject

__all__ = ["VecConstraintMonitor", "VecProjectAction", "VecRejectAction"]

_ACCEPTED = {
    "violation": 0.0,
    "feasible": True,
    "enforcement": "none",
    "qp_solves": 0,
    "distance": 0.0,
}  # info["constraint"] of an accepted action (copied per sub-env, never handed out)


class _VecConstraintWrapper(VecEnvWrapper):
    """The batched step shared by the SB3 vector wrappers."""

    penalty = 0.0
    reports_reward_vector = True

    def _setup(self, constraint: ConstraintLike, mode: str, **options: Any) -> None:
        c = make_constraint(constraint)
        check_spaces(c, self.venv.action_space, self.venv.observation_space)
        if c.obs_dim and unwrap_vec_normalize(self.venv) is not None:
            raise ConstraintError(
                "the constraint reads observations but this VecEnv normalises them "
                "(VecNormalize is inside the acrl wrapper); put the acrl wrapper inside: "
                "VecNormalize(acrl.wrap(vec_env, constraint, ...))"
            )
        self._enforcer = BatchEnforcer(c, self.venv.num_envs, mode=mode, **options)
        self._plan: StepPlan | None = None

    @property
    def constraint(self) -> Any:
        """The constraint enforced on every sub-env."""
        return self._enforcer.constraint

    @property
    def projector(self) -> Any:
        """The projector (built on first use)."""
        return self._enforcer.projector

    def reset(self) -> Any:
        """Reset every sub-env and remember the observations the constraint reads."""
        obs = self.venv.reset()
        self._enforcer.observe(obs)
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        """Check all actions in one call, enforce, and send what may be executed."""
        self._plan = self._enforcer.plan(actions)
        self.venv.step_async(self._plan.actions)

    def step_wait(self) -> Any:
        """Collect the step and add the constraint keys to each sub-env's ``info``."""
        obs, rewards, dones, infos = self.venv.step_wait()
        plan = self._plan
        assert plan is not None, "step_wait() called before step_async()"
        self._enforcer.observe(obs)
        if self.penalty and plan.distance.any():
            rewards = rewards - (self.penalty * plan.distance).astype(rewards.dtype)
        self._add_infos(infos, plan, rewards)
        return obs, rewards, dones, infos

    def _add_infos(self, infos: list[dict[str, Any]], plan: StepPlan, rewards: Any) -> None:
        if plan.accepted:
            self._add_accepted(infos, plan, rewards)
            return
        violation, feasible = plan.violation.tolist(), plan.feasible.tolist()
        enforcement, solves = plan.enforcement.tolist(), plan.qp_solves.tolist()
        distance, cost = plan.distance.tolist(), plan.cost.tolist()
        shaping = (0.0 - self.penalty * plan.distance).tolist()  # 0.0, not -0.0
        task = (np.asarray(rewards, dtype=np.float64) - shaping).tolist()
        for i, info in enumerate(infos):
            found = {
                "violation": violation[i],
                "feasible": feasible[i],
                "enforcement": enforcement[i],
                "qp_solves": solves[i],
                "distance": distance[i],
            }
            if i in plan.errors:
                found["error"], found["error_detail"] = plan.errors[i]
            info["cost"] = cost[i]
            info["constraint"] = found
            if self.reports_reward_vector:
                info["reward_vector"] = [task[i], shaping[i]]

    def _add_accepted(self, infos: list[dict[str, Any]], plan: StepPlan, rewards: Any) -> None:
        """The keys for a step whose actions were all feasible (the hot path).

        Each sub-env gets its own ``constraint`` dict, a copy of a constant one (cheaper
        than building it key by key).
        """
        task = np.asarray(rewards, dtype=np.float64).tolist()
        vector = self.reports_reward_vector
        for info, violation, reward in zip(infos, plan.violation.tolist(), task, strict=True):
            found = _ACCEPTED.copy()
            found["violation"] = violation
            info["cost"] = 0.0
            info["constraint"] = found
            if vector:
                info["reward_vector"] = [reward, 0.0]


class VecProjectAction(_VecConstraintWrapper):
    """SB3 ``VecEnv`` version of :class:`~acrl_wrappers.ProjectAction` (one batched call per step).

    Args:
        venv: the SB3 ``VecEnv`` (``DummyVecEnv``, ``SubprocVecEnv``, ...).
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        penalty: coefficient on the projection distance subtracted from the reward, ``>= 0``.
        projector: force a projector by name (default: the best available).

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3.common.vec_env import DummyVecEnv
        >>> venv = DummyVecEnv([lambda: gym.make("Pendulum-v1")] * 2)
        >>> venv = VecProjectAction(venv, {"name": "box", "dim": 1, "high": 0.5})
        >>> _ = venv.reset()
        >>> _, _, _, infos = venv.step(np.array([[1.0], [0.2]], dtype=np.float32))
        >>> [i["constraint"]["enforcement"] for i in infos], [i["cost"] for i in infos]
        (['projected', 'none'], [1.0, 0.0])
    """

    def __init__(
        self,
        venv: VecEnv,
        constraint: ConstraintLike,
        *,
        penalty: float = 0.0,
        projector: str | None = None,
    ) -> None:
        super().__init__(venv)
        self._setup(constraint, "project", projector=projector)
        self.penalty = float_scalar(penalty, "penalty", minimum=0.0)


class VecRejectAction(_VecConstraintWrapper):
    """SB3 ``VecEnv`` version of :class:`~acrl_wrappers.RejectAction` (fallback or raise).

    ``on_reject="self_loop"`` / ``"terminate"`` are refused (a vector env cannot leave a
    sub-env unstepped): wrap each sub-env instead,
    ``make_vec_env(env_id, wrapper_class=acrl.RejectAction, wrapper_kwargs=...)``.

    Args:
        venv: the SB3 ``VecEnv``.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        on_reject: ``"fallback"`` or ``"raise"``.
        fallback: ``"project"``, ``"safe"`` or a callable ``(action, obs) -> action``.
        projector: force a projector by name (default: the best available).

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3.common.vec_env import DummyVecEnv
        >>> venv = DummyVecEnv([lambda: gym.make("Pendulum-v1")] * 2)
        >>> venv = VecRejectAction(venv, {"name": "box", "dim": 1, "high": 0.5})
        >>> _ = venv.reset()
        >>> _, _, _, infos = venv.step(np.array([[1.0], [0.2]], dtype=np.float32))
        >>> [i["constraint"]["enforcement"] for i in infos]
        ['fallback', 'none']
    """

    def __init__(
        self,
        venv: VecEnv,
        constraint: ConstraintLike,
        *,
        on_reject: str = "fallback",
        fallback: str | FallbackFn = "project",
        projector: str | None = None,
    ) -> None:
        check_vector_reject(on_reject, fallback)
        super().__init__(venv)
        self._setup(
            constraint, "reject", on_reject=on_reject, fallback=fallback, projector=projector
        )


class VecConstraintMonitor(_VecConstraintWrapper):
    """SB3 ``VecEnv`` version of :class:`~acrl_wrappers.ConstraintMonitor`.

    Args:
        venv: the SB3 ``VecEnv``.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        measure_distance: also project infeasible actions to report their distance.
        projector: force a projector by name (default: the best available).

    Example:
        >>> import gymnasium as gym
        >>> from stable_baselines3.common.vec_env import DummyVecEnv
        >>> venv = DummyVecEnv([lambda: gym.make("Pendulum-v1")] * 2)
        >>> venv = VecConstraintMonitor(venv, {"name": "box", "dim": 1, "high": 0.5})
        >>> _ = venv.reset()
        >>> _, _, _, infos = venv.step(np.array([[1.0], [0.2]], dtype=np.float32))
        >>> [i["cost"] for i in infos], [i["constraint"]["distance"] for i in infos]
        ([1.0, 0.0], [0.5, 0.0])
    """

    reports_reward_vector = False

    def __init__(
        self,
        venv: VecEnv,
        constraint: ConstraintLike,
        *,
        measure_distance: bool = True,
        projector: str | None = None,
    ) -> None:
        super().__init__(venv)
        self._setup(
            constraint, "monitor", measure_distance=bool(measure_distance), projector=projector
        )
