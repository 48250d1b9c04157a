"""Attribute lookup through an env's wrappers, or a vector env's first sub-env (private)."""

from __future__ import annotations

from typing import Any

__all__ = ["env_attr"]


def env_attr(env: Any, name: str) -> Any:
    """Attribute ``name`` of an env's wrappers (a vector env's first sub-env), or ``None``.

    Example:
        >>> import gymnasium as gym
        >>> env = gym.make("Pendulum-v1")
        >>> env_attr(env, "max_speed"), env_attr(env, "nope")
        (8, None)
    """
    try:
        if hasattr(env, "get_attr") and hasattr(env, "num_envs"):  # a vector env
            return env.get_attr(name)[0]
        return env.get_wrapper_attr(name)
    except AttributeError:
        return None
