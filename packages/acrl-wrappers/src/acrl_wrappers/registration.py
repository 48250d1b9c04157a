"""The ``register`` callable each registration hook receives, and task ids for Gymnasium.

:func:`register_function` validates what a plugin registers and stages it as an
:class:`~acrl_wrappers.registry.Entry`; the plugin host decides what is accepted and then
publishes accepted task ids with :func:`register_task`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym

from acrl_wrappers.condition_spec import condition_spec
from acrl_wrappers.errors import ConstraintError, PluginError, SpecError
from acrl_wrappers.registry import Entry
from acrl_wrappers.reward_calibration import RewardTransform

__all__ = ["TASK_ENTRY_POINT", "check_task_id", "register_function", "register_task"]

TASK_ENTRY_POINT = "acrl_wrappers.tasks:make_task"
"""The Gymnasium entry point of every registered task id (see :mod:`acrl_wrappers.tasks`)."""


def register_function(kind: str, plugin: str, staged: list[Entry]) -> Callable[..., None]:
    """The ``register`` callable handed to a plugin's ``register_<kind>s`` hook."""

    def register(name: str, target: Any, **options: Any) -> None:
        if not isinstance(name, str) or not name.strip() or any(ch.isspace() for ch in name):
            raise PluginError(
                f"{kind} names must be non-empty strings without spaces, got {name!r}"
            )
        if ":" in name:
            raise PluginError(
                f"{kind} name {name!r} must not contain ':' (it separates a plugin's name "
                "from a name it registered: 'plugin:name')"
            )
        if not (callable(target) or (isinstance(target, str) and ":" in target)):
            raise PluginError(
                f"{kind} {name!r} must be registered with a class, a callable or a "
                f"'module:attribute' string, got {target!r}"
            )
        aliases = options.pop("aliases", ())
        if isinstance(aliases, str) or not all(isinstance(a, str) and a for a in aliases):
            raise PluginError(
                f"aliases of {kind} {name!r} must be a list of strings, got {aliases!r}"
            )
        doc = options.pop("doc", "")
        if not isinstance(doc, str):
            raise PluginError(f"doc of {kind} {name!r} must be a string, got {doc!r}")
        allowed = {
            "env": {
                "constraint",
                "max_episode_steps",
                "kwargs",
                "action_dim",
                "reward_transform",
                "condition_distribution",
            }
        }.get(kind, set())
        unexpected = set(options) - allowed
        if unexpected:
            raise PluginError(
                f"register() for a {kind} got unexpected options {sorted(unexpected)}"
            )
        action_dim = options.get("action_dim")
        if action_dim is None:
            options.pop("action_dim", None)
        elif isinstance(action_dim, bool) or not isinstance(action_dim, int) or action_dim < 1:
            raise PluginError(
                f"action_dim of {kind} {name!r} must be a positive int, got {action_dim!r}"
            )
        if options.get("reward_transform") is not None:
            options["reward_transform"] = _checked_transform(
                kind, name, options["reward_transform"]
            )
        if options.get("condition_distribution") is not None:
            options["condition_distribution"] = _checked_condition(
                kind, name, options["condition_distribution"]
            )
        staged.append(Entry(kind, name, target, plugin, tuple(aliases), doc, options))

    return register


def _checked_transform(kind: str, name: str, value: Any) -> dict[str, Any]:
    """A task's declared reward transform as a JSON-able spec, or a :class:`PluginError`."""
    try:
        return RewardTransform.from_spec(value).spec
    except ConstraintError as exc:
        raise PluginError(f"reward_transform of {kind} {name!r}: {exc}") from exc


def _checked_condition(kind: str, name: str, value: Any) -> dict[str, Any]:
    """A task's declared condition distribution as a JSON-able spec, or a :class:`PluginError`."""
    try:
        return condition_spec(value)
    except SpecError as exc:
        raise PluginError(f"condition_distribution of {kind} {name!r}: {exc}") from exc


def check_task_id(entry: Entry) -> None:
    """Raise :class:`PluginError` for a task id Gymnasium cannot version."""
    if "-v" not in entry.name:
        raise PluginError(
            f"env id {entry.name!r} must look like 'ACRL/Name-v0' (a Gymnasium id with a version)"
        )


def register_task(entry: Entry) -> None:
    """Register a ``register_envs`` entry with Gymnasium (entry point :data:`TASK_ENTRY_POINT`)."""
    gym.register(
        id=entry.name,
        entry_point=TASK_ENTRY_POINT,
        kwargs={
            "env_entry_point": entry.target,
            "constraint": entry.options.get("constraint"),
            "max_episode_steps": entry.options.get("max_episode_steps"),
            "env_kwargs": dict(entry.options.get("kwargs") or {}),
            "reward_transform": entry.options.get("reward_transform"),
            "condition_distribution": entry.options.get("condition_distribution"),
        },
    )
