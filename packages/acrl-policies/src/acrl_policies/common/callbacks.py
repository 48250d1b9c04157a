"""Callbacks the algorithms of acrl-policies add on their own."""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.callbacks import BaseCallback, CallbackList, ConvertCallback

from acrl_wrappers import find_constraint
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.sb3 import ConstraintMetricsCallback

__all__ = ["with_constraint_metrics"]


def with_constraint_metrics(env: Any, callback: Any) -> Any:
    """``callback`` plus a :class:`ConstraintMetricsCallback` when ``env`` has an acrl wrapper.

    Leaves ``callback`` as it is when the env has no acrl wrapper (no ``info["constraint"]``
    to read) or when the user already passed a metrics callback.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1})
        >>> type(with_constraint_metrics(env, None)).__name__
        'CallbackList'
        >>> with_constraint_metrics(gym.make("Pendulum-v1"), None) is None
        True
    """
    try:
        if env is None:
            return callback
        find_constraint(env, wrapper_only=True)  # the callback reads the wrapper's info keys
    except ConstraintError:
        return callback
    if _has_metrics(callback):
        return callback
    given = callback if isinstance(callback, list) else [] if callback is None else [callback]
    parts = [c if isinstance(c, BaseCallback) else ConvertCallback(c) for c in given]
    return CallbackList([*parts, ConstraintMetricsCallback()])


def _has_metrics(callback: Any) -> bool:
    if isinstance(callback, ConstraintMetricsCallback):
        return True
    if isinstance(callback, list | tuple):
        return any(_has_metrics(c) for c in callback)
    if isinstance(callback, CallbackList):
        return any(_has_metrics(c) for c in callback.callbacks)
    return False
