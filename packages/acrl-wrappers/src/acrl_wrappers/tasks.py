"""Registered tasks: ``gym.make("ACRL/...", enforce=...)`` builds env, time limit and wrapper.

Plugins register task ids with the ``register_envs`` hook; the plugin host makes each a
Gymnasium registration whose entry point is :func:`make_task`. A task with a constraint
enforces it by default (``enforce="project"``); only an explicit ``enforce="none"`` gives
the raw env, which still carries the constraint as ``task_constraint`` so methods find
it (:func:`acrl_wrappers.find_constraint`). The time limit is applied *inside*
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

from acrl_wrappers.condition_spec import condition_spec
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.registration import TASK_ENTRY_POINT
from acrl_wrappers.reward_calibration import RewardTransform
from acrl_wrappers.wrappers import wrap

__all__ = ["NO_ENFORCEMENT", "is_task", "make_task"]

NO_ENFORCEMENT = "none"
"""``enforce=`` value that gives a task's raw env (no enforcement wrapper)."""


def make_task(
    env_entry_point: str | Callable[..., gym.Env[Any, Any]],
    constraint: str | Mapping[str, Any] | None = None,
    max_episode_steps: int | None = None,
    env_kwargs: Mapping[str, Any] | None = None,
    enforce: str | None = "project",
    render_mode: str | None = None,
    reward_transform: Mapping[str, Any] | RewardTransform | None = None,
    condition_distribution: str | Mapping[str, Any] | None = None,
    **wrapper_options: Any,
) -> gym.Env[Any, Any]:
    """Build a task: the env, its time limit, and the enforcement wrapper if ``enforce`` is given.

    Args:
        env_entry_point: ``"module:Class"`` or a callable creating the env.
        constraint: the task's constraint (name or spec).
        max_episode_steps: simulator steps per episode (applied inside the wrapper).
        env_kwargs: keyword arguments for the env.
        enforce: ``"project"`` (the default), ``"reject"``, ``"automdp"``, ``"monitor"``,
            or ``"none"`` for the raw env, whose outermost layer then carries the
            constraint as ``task_constraint``. A task without a constraint ignores the
            default and is always raw.
        render_mode: Gymnasium's render mode, passed to the env (``gym.make`` and SB3's
            ``make_vec_env`` always give it).
        reward_transform: the transform ``r -> r * scale + offset`` the task declares for
            augmented MDPs (``{"scale", "offset", "source"}``); attached to the returned env
            as ``task_reward_transform``, which ARAM and ``AutoMDP`` apply unless given
            ``reward_scale`` / ``reward_offset``.
        condition_distribution: where the observation entries the constraint reads lie
            on this task (:mod:`acrl_wrappers.condition_spec`); attached as
            ``task_condition_distribution``, which flows trained for the task draw their
            conditions from.
        **wrapper_options: keyword arguments of the wrapper (``kappa``, ``penalty``, ...).

    Raises:
        ConstraintError: ``enforce`` or wrapper options without a constraint,
            ``enforce=None`` (ambiguous: say ``"none"`` for the raw env), or a reward
            transform that is not finite.

    Example:
        >>> pendulum = "gymnasium.envs.classic_control.pendulum:PendulumEnv"
        >>> env = make_task(pendulum, {"name": "box", "dim": 1}, max_episode_steps=20)
        >>> type(env).__name__, type(env.env).__name__
        ('ProjectAction', 'TimeLimit')
        >>> raw = make_task(pendulum, {"name": "box", "dim": 1}, enforce="none")
        >>> type(raw).__name__, raw.task_constraint.family
        ('PendulumEnv', 'box')
    """
    if enforce is None:
        raise ConstraintError(
            "enforce=None is ambiguous for a task: pass enforce='none' for the raw env, or "
            "'project' | 'reject' | 'automdp' | 'monitor'"
        )
    transform = None if reward_transform is None else RewardTransform.from_spec(reward_transform)
    conditions = None if condition_distribution is None else condition_spec(condition_distribution)
    creator = (
        load_env_creator(env_entry_point) if isinstance(env_entry_point, str) else env_entry_point
    )
    kwargs = dict(env_kwargs or {})
    if render_mode is not None:
        kwargs["render_mode"] = render_mode
    env = cast("gym.Env[Any, Any]", creator(**kwargs))
    if max_episode_steps is not None:
        env = TimeLimit(env, max_episode_steps)
    raw = enforce == NO_ENFORCEMENT or (constraint is None and enforce == "project")
    if raw and wrapper_options:
        raise ConstraintError(
            f"wrapper options {sorted(wrapper_options)} need enforce='project' | 'reject' | "
            "'automdp' | 'monitor'"
        )
    if transform is not None:  # found through any wrapper (get_wrapper_attr)
        env.task_reward_transform = transform  # type: ignore[attr-defined]
    if conditions is not None:
        env.task_condition_distribution = conditions  # type: ignore[attr-defined]
    if constraint is None:
        if not raw:
            raise ConstraintError("this task has no action constraint, so enforce= cannot apply")
        return env
    if raw:
        env.task_constraint = make_constraint(constraint)  # type: ignore[attr-defined]
        return env
    return wrap(env, constraint, enforce, **wrapper_options)


def is_task(env_id: Any) -> bool:
    """Whether ``env_id`` is a task registered through ``register_envs`` (takes ``enforce=``).

    Example:
        >>> import acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> is_task("Pendulum-v1")
        False
    """
    try:
        return bool(gym.spec(env_id).entry_point == TASK_ENTRY_POINT)
    except gym.error.Error:
        return False
