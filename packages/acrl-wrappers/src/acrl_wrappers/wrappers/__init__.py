"""Enforcement wrappers: what reaches the simulator when an agent proposes an action.

- :class:`ProjectAction` — execute the nearest feasible action (SPre / DPre baselines).
- :class:`RejectAction` — never execute an infeasible action; self-loop, fall back,
  terminate or raise.
- :class:`AutoMDP` — ARAM's augmented MDP: rejected actions are self-loops with a penalty.
- :class:`ConstraintMonitor` — measure violations, change nothing.
- :class:`PreviousAction` — the last executed action(s) in the observation (for
  history-dependent limits such as ``slew-rate``).
- :class:`ObserveParameters` — the env's hook values
  (:class:`ConstraintParameterSource`) in the observation.
- :mod:`~acrl_wrappers.wrappers.vector` — the same enforcement for a whole Gymnasium
  ``VectorEnv`` or SB3 ``VecEnv``, one batched call per step.
- :func:`wrap` — pick one by name (single env or vector env); :func:`find_constraint` —
  the constraint of a wrapped env, vector env or SB3 VecEnv.

Every wrapper writes ``info["cost"]``, ``info["constraint"]`` and (except the monitor)
``info["reward_vector"]``; see :mod:`acrl_wrappers.wrappers.base`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from acrl_wrappers._env_attrs import env_attr
from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.wrappers.auto_mdp import AutoMDP
from acrl_wrappers.wrappers.base import ConstraintLike, ConstraintWrapper, Enforcement
from acrl_wrappers.wrappers.constraint_monitor import ConstraintMonitor
from acrl_wrappers.wrappers.observe_parameters import ConstraintParameterSource, ObserveParameters
from acrl_wrappers.wrappers.previous_action import PreviousAction
from acrl_wrappers.wrappers.project_action import ProjectAction
from acrl_wrappers.wrappers.reject_action import RejectAction
from acrl_wrappers.wrappers.vector import (
    VectorConstraintMonitor,
    VectorProjectAction,
    VectorRejectAction,
    is_sb3_vec_env,
    is_vector_env,
    vector_wrappers_for,
    wrap_vector,
)

__all__ = [
    "ENFORCEMENTS",
    "AutoMDP",
    "ConstraintMonitor",
    "ConstraintParameterSource",
    "ConstraintWrapper",
    "Enforcement",
    "ObserveParameters",
    "PreviousAction",
    "ProjectAction",
    "RejectAction",
    "VectorConstraintMonitor",
    "VectorProjectAction",
    "VectorRejectAction",
    "find_constraint",
    "wrap",
]

ENFORCEMENTS: dict[str, Callable[..., ConstraintWrapper]] = {
    "project": ProjectAction,
    "reject": RejectAction,
    "automdp": AutoMDP,
    "monitor": ConstraintMonitor,
}
"""Names accepted by :func:`wrap` (and by ``enforce=`` of registered tasks)."""
_ALIASES = {
    "projection": "project",
    "rejection": "reject",
    "auto-mdp": "automdp",
    "auto_mdp": "automdp",
    "aram": "automdp",
    "none": "monitor",
}


def wrap(env: Any, constraint: ConstraintLike, enforce: str = "project", **options: Any) -> Any:
    """Wrap ``env`` so that ``constraint`` is enforced the way ``enforce`` names.

    ``env`` may be a Gymnasium env, a Gymnasium ``VectorEnv`` or an SB3 ``VecEnv``; for
    the vector kinds the result checks and projects all sub-envs in one batched call
    (:mod:`acrl_wrappers.wrappers.vector`; ``"automdp"`` is refused there, with the sound
    alternatives). When the constraint reads hook values the env's observation lacks, an
    :class:`ObserveParameters` is put beneath the wrapper.

    Args:
        env: the env (its action space must match the constraint).
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        enforce: ``"project"``, ``"reject"``, ``"automdp"`` or ``"monitor"``.
        **options: the chosen wrapper's keyword arguments (``penalty``, ``kappa``, ...).

    Raises:
        ConstraintError: unknown ``enforce``, or an option the chosen wrapper does not take
            (options are never silently ignored).

    Example:
        >>> import gymnasium as gym
        >>> import acrl_wrappers as acrl
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="automdp")
        >>> type(env).__name__, env.constraint.family
        ('AutoMDP', 'box')
        >>> envs = gym.make_vec("Pendulum-v1", num_envs=4, vectorization_mode="sync")
        >>> type(acrl.wrap(envs, {"name": "box", "dim": 1}, enforce="reject")).__name__
        'VectorRejectAction'
    """
    key = _ALIASES.get(enforce.lower(), enforce.lower()) if isinstance(enforce, str) else enforce
    if key not in ENFORCEMENTS:
        raise ConstraintError(f"unknown enforce={enforce!r}; choose one of {sorted(ENFORCEMENTS)}")
    vector = is_vector_env(env) or is_sb3_vec_env(env)
    if vector and key != "automdp":
        _check_options(vector_wrappers_for(env), key, options)
        return wrap_vector(env, constraint, key, **options)
    if vector:
        return wrap_vector(env, constraint, key)  # refused with the alternatives
    _check_options(ENFORCEMENTS, key, options)
    c = make_constraint(constraint)
    if c.hook_parameters and _obs_size(env) < c.obs_dim:
        env = ObserveParameters.for_constraint(env, c)
    return ENFORCEMENTS[key](env, c, **options)


def _obs_size(env: Any) -> int:
    shape = getattr(env.observation_space, "shape", None)
    return int(shape[0]) if shape else 0


def _check_options(
    wrappers: dict[str, Callable[..., Any]], key: str, options: dict[str, Any]
) -> None:
    """Raise :class:`ConstraintError` for options the chosen wrapper does not take."""
    wrapper = wrappers[key]
    skip = ("env", "venv", "constraint")
    accepted = [p for p in inspect.signature(wrapper).parameters if p not in skip]
    unexpected = sorted(set(options) - set(accepted))
    if unexpected:
        owners = {
            name: other
            for name, other in ENFORCEMENTS.items()
            if set(unexpected) <= set(inspect.signature(other).parameters)
        }
        hint = f"; it belongs to enforce={sorted(owners)[0]!r}" if owners else ""
        raise ConstraintError(
            f"option(s) {unexpected} do not apply to enforce={key!r} "
            f"({wrapper.__name__} takes {accepted}){hint}"
        )


def find_constraint(env: Any, *, wrapper_only: bool = False) -> Constraint:
    """The constraint an acrl wrapper enforces on ``env`` (an env, a vector env or an SB3 VecEnv).

    Without a wrapper, the constraint a registered task carries when made with
    ``enforce="none"`` (its ``task_constraint``), so methods find it either way;
    ``wrapper_only=True`` skips that (for code that needs the wrapper's ``info`` keys).

    Raises:
        ConstraintError: no acrl wrapper is present; says how to attach one.

    Example:
        >>> import gymnasium as gym
        >>> import acrl_wrappers as acrl
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1})
        >>> acrl.find_constraint(env).family
        'box'
    """
    found = _constraint_attr(env, "constraint")
    if not isinstance(found, Constraint) and not wrapper_only:
        found = _constraint_attr(env, "task_constraint")
    if not isinstance(found, Constraint):
        raise ConstraintError(
            "no acrl constraint found on this env; attach one with "
            "acrl.wrap(env, constraint, enforce='project' | 'reject' | 'automdp' | 'monitor'), "
            "or make a registered task with gym.make('ACRL/...', enforce=...)"
        )
    return found


def _constraint_attr(env: Any, name: str) -> Any:
    """A vector wrapper's own constraint (found through VecNormalize & co.), else ``env_attr``."""
    own = getattr(env, name, None) if is_vector_env(env) or is_sb3_vec_env(env) else None
    return own if isinstance(own, Constraint) else env_attr(env, name)
