"""Registered tasks: ``gym.make("ACRL/...", enforce=...)`` builds env, time limit and wrapper.

Plugins register task ids with the ``register_envs`` hook; each becomes a Gymnasium
registration whose entry point is :func:`make_task`. The time limit is applied *inside*
the enforcement wrapper (Gymnasium would put its ``TimeLimit`` outside), so self-loops
of :class:`~acrl_wrappers.AutoMDP` / :class:`~acrl_wrappers.RejectAction` do not consume
the episode's steps. Ids are registered when plugins load: call
:func:`acrl_wrappers.load_plugins` (or any registry function) before ``gym.make``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, cast

import gymnasium as gym
from gymnasium.envs.registration import load_env_creator
from gymnasium.wrappers import TimeLimit

from acrl_wrappers.errors import ConstraintError, PluginError
from acrl_wrappers.registry import Entry

__all__ = ["make_task", "register_task"]


def make_task(
    env_entry_point: str | Callable[..., gym.Env[Any, Any]],
    constraint: str | Mapping[str, Any] | None = None,
    max_episode_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    enforce: str | None = None,
    render_mode: str | None = None,
    **wrapper_options: Any,
) -> gym.Env[Any, Any]:
    """Build a task: the env, its time limit, and the enforcement wrapper if ``enforce`` is given.

    Args:
        env_entry_point: ``"module:Class"`` or a callable creating the env.
        constraint: the task's constraint (name or spec).
        max_episode_steps: simulator steps per episode (applied inside the wrapper).
        env_kwargs: keyword arguments for the env.
        enforce: ``"project"``, ``"reject"``, ``"automdp"``, ``"monitor"`` or ``None`` (no
            wrapper; the constraint is still reachable as ``acrl.make_constraint``).
        render_mode: Gymnasium's render mode, passed to the env (``gym.make`` and SB3's
            ``make_vec_env`` always give it).
        **wrapper_options: keyword arguments of the wrapper (``kappa``, ``penalty``, ...).

    Raises:
        ConstraintError: ``enforce`` or wrapper options without a constraint.

    Example:
        >>> env = make_task("gymnasium.envs.classic_control.pendulum:PendulumEnv",
        ...                 {"name": "box", "dim": 1}, max_episode_steps=20, enforce="automdp")
        >>> type(env).__name__, type(env.env).__name__
        ('AutoMDP', 'TimeLimit')
    """
    from acrl_wrappers.wrappers import wrap

    creator = (
        load_env_creator(env_entry_point) if isinstance(env_entry_point, str) else env_entry_point
    )
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    env = cast("gym.Env[Any, Any]", creator(**kwargs))
    if max_episode_steps is not None:
        env = TimeLimit(env, max_episode_steps)
    if enforce is None:
        if wrapper_options:
            raise ConstraintError(
                f"wrapper options {sorted(wrapper_options)} need enforce='project' | 'reject' | "
                "'automdp' | 'monitor'"
            )
        return env
    if constraint is None:
        raise ConstraintError("this task has no action constraint, so enforce= cannot apply")
    return wrap(env, constraint, enforce, **wrapper_options)


def register_task(entry: Entry) -> None:
    """Register a ``register_envs`` entry with Gymnasium (entry point :func:`make_task`).

    Raises:
        PluginError: an id without a version (``Name-v0``).
    """
    if "-v" not in entry.name:
        raise PluginError(
            f"env id {entry.name!r} must look like 'ACRL/Name-v0' (a Gymnasium id with a version)"
        )
    gym.register(
        id=entry.name,
        entry_point="acrl_wrappers.tasks:make_task",
        kwargs={
            "env_entry_point": entry.target,
            "constraint": entry.options.get("constraint"),
            "max_episode_steps": entry.options.get("max_episode_steps"),
            "env_kwargs": dict(entry.options.get("kwargs") or {}),
        },
    )
