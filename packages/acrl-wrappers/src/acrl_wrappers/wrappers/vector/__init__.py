"""Enforcement wrappers for vector envs: all sub-envs checked and projected in one call.

- Gymnasium 1.x ``VectorEnv``: :class:`VectorProjectAction`, :class:`VectorRejectAction`,
  :class:`VectorConstraintMonitor` (``gymnasium.vector.VectorWrapper`` subclasses).
- SB3 ``VecEnv``: ``VecProjectAction``, ``VecRejectAction``, ``VecConstraintMonitor`` in
  :mod:`acrl_wrappers.wrappers.vector.sb3_vec_env` (exported by :mod:`acrl_wrappers.sb3`;
  imported only when an SB3 ``VecEnv`` is wrapped).
- :func:`wrap_vector` — what :func:`acrl_wrappers.wrap` calls for either kind.

**AutoMDP and vector envs.** ARAM's augmented MDP answers a rejected action with a
self-loop: that env is *not* stepped and no time passes, while the others act. A vector
env steps all its sub-envs together, so a wrapper around the whole vector env cannot
self-loop one of them: it could only step it anyway (not the augmented MDP any more) or
hold every sub-env back (not sound either). So ``enforce="automdp"`` on a vector env is
refused with the two sound alternatives: an :class:`~acrl_wrappers.AutoMDP` inside each
sub-env (``gym.make_vec("ACRL/...", num_envs=n, vectorization_mode="sync",
enforce="automdp")``, or SB3's ``make_vec_env(env_id, n_envs=n,
wrapper_class=acrl.AutoMDP, wrapper_kwargs=...)``), which keeps the exact semantics per
sub-env, or the batched ``"project"`` / ``"reject"`` wrappers here.
"""

from __future__ import annotations

from typing import Any

from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.wrappers.vector.enforcer import BatchEnforcer, StepPlan
from acrl_wrappers.wrappers.vector.gymnasium_vector import (
    VectorConstraintMonitor,
    VectorProjectAction,
    VectorRejectAction,
)

__all__ = [
    "AUTOMDP_ON_VECTOR_ENV",
    "BatchEnforcer",
    "StepPlan",
    "VectorConstraintMonitor",
    "VectorProjectAction",
    "VectorRejectAction",
    "is_sb3_vec_env",
    "is_vector_env",
    "vector_wrappers_for",
    "wrap_vector",
]

AUTOMDP_ON_VECTOR_ENV = (
    "enforce='automdp' cannot wrap a vector env as a whole: AutoMDP answers a rejected action "
    "with a self-loop (that env is not stepped, no time passes), and a vector env steps all "
    "sub-envs together. Put AutoMDP inside each sub-env instead: gym.make_vec('ACRL/...', "
    "num_envs=n, vectorization_mode='sync', enforce='automdp'), or SB3's make_vec_env(env_id, "
    "n_envs=n, wrapper_class=acrl.AutoMDP, wrapper_kwargs={...}); or use enforce='project' | "
    "'reject' | 'monitor' for the batched vector wrappers"
)
"""The message for ``acrl.wrap(vector_env, ..., enforce="automdp")``."""


def is_vector_env(env: Any) -> bool:
    """Whether ``env`` is a Gymnasium ``VectorEnv`` (or a ``VectorWrapper``).

    Example:
        >>> import gymnasium as gym
        >>> envs = gym.make_vec("Pendulum-v1", num_envs=2)
        >>> is_vector_env(envs), is_vector_env(gym.make("Pendulum-v1"))
        (True, False)
    """
    from gymnasium.vector import VectorEnv

    return isinstance(env, VectorEnv)


def is_sb3_vec_env(env: Any) -> bool:
    """Whether ``env`` looks like an SB3 ``VecEnv`` (checked without importing SB3)."""
    return all(hasattr(env, name) for name in ("step_async", "step_wait", "env_method", "num_envs"))


def vector_wrappers_for(env: Any) -> dict[str, type]:
    """``enforce`` name -> vector wrapper class for this kind of vector env."""
    if is_vector_env(env):
        return {
            "project": VectorProjectAction,
            "reject": VectorRejectAction,
            "monitor": VectorConstraintMonitor,
        }
    from acrl_wrappers.wrappers.vector.sb3_vec_env import (
        VecConstraintMonitor,
        VecProjectAction,
        VecRejectAction,
    )

    return {"project": VecProjectAction, "reject": VecRejectAction, "monitor": VecConstraintMonitor}


def wrap_vector(env: Any, constraint: Any, enforce: str, **options: Any) -> Any:
    """The batched vector wrapper for a Gymnasium ``VectorEnv`` or an SB3 ``VecEnv``.

    Args:
        env: the vector env.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        enforce: ``"project"``, ``"reject"`` or ``"monitor"`` (normalised by :func:`wrap`).
        **options: the wrapper's keyword arguments.

    Raises:
        ConstraintError: ``enforce="automdp"`` (see :data:`AUTOMDP_ON_VECTOR_ENV`), an
            option the wrapper does not take, or hook values missing from the sub-envs'
            observations.

    Example:
        >>> import gymnasium as gym
        >>> envs = gym.make_vec("Pendulum-v1", num_envs=4, vectorization_mode="sync")
        >>> type(wrap_vector(envs, {"name": "box", "dim": 1}, "project")).__name__
        'VectorProjectAction'
    """
    if enforce == "automdp":
        raise ConstraintError(AUTOMDP_ON_VECTOR_ENV)
    c: Constraint = make_constraint(constraint)
    _check_hooks(env, c)
    return vector_wrappers_for(env)[enforce](env, c, **options)


def _check_hooks(env: Any, c: Constraint) -> None:
    space = getattr(env, "single_observation_space", None) or getattr(
        env, "observation_space", None
    )
    size = space.shape[0] if getattr(space, "shape", None) else 0
    missing = sorted(k for k, v in c.hook_parameters.items() if max(v) >= size)
    if missing:
        raise ConstraintError(
            f"the constraint reads the env's hook values {missing}, which the sub-envs' "
            "observations lack; put acrl.ObserveParameters inside each sub-env (e.g. "
            "gym.make_vec(id, num_envs=n, wrappers=[lambda e: acrl.ObserveParameters.for_"
            "constraint(e, constraint)]))"
        )
