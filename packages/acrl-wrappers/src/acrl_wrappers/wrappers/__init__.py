"""Enforcement wrappers: what reaches the simulator when an agent proposes an action.

- :class:`ProjectAction` — execute the nearest feasible action (SPre / DPre baselines).
- :class:`RejectAction` — never execute an infeasible action; self-loop, fall back,
  terminate or raise.
- :class:`AutoMDP` — ARAM's augmented MDP: rejected actions are self-loops with a penalty.
- :class:`ConstraintMonitor` — measure violations, change nothing.
- :func:`wrap` — pick one by name; :func:`find_constraint` — the constraint of a wrapped
  env or SB3 VecEnv.

Every wrapper writes ``info["cost"]``, ``info["constraint"]`` and (except the monitor)
``info["reward_vector"]``; see :mod:`acrl_wrappers.wrappers.base`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium as gym

from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.wrappers.auto_mdp import AutoMDP
from acrl_wrappers.wrappers.base import ConstraintLike, ConstraintWrapper, Enforcement
from acrl_wrappers.wrappers.constraint_monitor import ConstraintMonitor
from acrl_wrappers.wrappers.project_action import ProjectAction
from acrl_wrappers.wrappers.reject_action import RejectAction

__all__ = [
    "ENFORCEMENTS",
    "AutoMDP",
    "ConstraintMonitor",
    "ConstraintWrapper",
    "Enforcement",
    "ProjectAction",
    "RejectAction",
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


def wrap(
    env: gym.Env[Any, Any], constraint: ConstraintLike, enforce: str = "project", **options: Any
) -> ConstraintWrapper:
    """Wrap ``env`` so that ``constraint`` is enforced the way ``enforce`` names.

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
    """
    key = _ALIASES.get(enforce.lower(), enforce.lower()) if isinstance(enforce, str) else enforce
    if key not in ENFORCEMENTS:
        raise ConstraintError(f"unknown enforce={enforce!r}; choose one of {sorted(ENFORCEMENTS)}")
    wrapper = ENFORCEMENTS[key]
    accepted = [p for p in inspect.signature(wrapper).parameters if p not in ("env", "constraint")]
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
    return wrapper(env, constraint, **options)


def find_constraint(env: Any, *, wrapper_only: bool = False) -> Constraint:
    """The constraint an acrl wrapper enforces on ``env`` (a Gymnasium env or an SB3 VecEnv).

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
    found = _env_attr(env, "constraint")
    if not isinstance(found, Constraint) and not wrapper_only:
        found = _env_attr(env, "task_constraint")
    if not isinstance(found, Constraint):
        raise ConstraintError(
            "no acrl constraint found on this env; attach one with "
            "acrl.wrap(env, constraint, enforce='project' | 'reject' | 'automdp' | 'monitor'), "
            "or make a registered task with gym.make('ACRL/...', enforce=...)"
        )
    return found


def _env_attr(env: Any, name: str) -> Any:
    """Attribute ``name`` of an env's wrappers (an SB3 VecEnv's first env), or ``None``."""
    try:
        if hasattr(env, "get_attr") and hasattr(env, "num_envs"):  # an SB3 VecEnv
            return env.get_attr(name)[0]
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None
