"""Algorithms by name: stock SB3 / sb3-contrib ones (registered like plugins) and plugins'.

- :data:`STOCK_ALGORITHMS` — what the ``bench`` plugin registers with the ``register_algorithms``
  hook: every SB3 and sb3-contrib algorithm for continuous actions.
- :func:`algorithm_class` — the class registered under a name (close matches suggested).
- :func:`accepted_hyperparameters` / :func:`check_hyperparameters` — the constructor keywords
  an algorithm takes, and an error naming them for a key it does not take.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Mapping
from typing import Any

from acrl_bench.errors import ConfigError
from acrl_wrappers.errors import UnknownNameError
from acrl_wrappers.plugins import default_host

__all__ = [
    "STOCK_ALGORITHMS",
    "accepted_hyperparameters",
    "algorithm_class",
    "check_hyperparameters",
]

STOCK_ALGORITHMS: dict[str, tuple[str, str]] = {
    "a2c": ("stable_baselines3:A2C", "SB3 A2C"),
    "ddpg": ("stable_baselines3:DDPG", "SB3 DDPG"),
    "ppo": ("stable_baselines3:PPO", "SB3 PPO"),
    "sac": ("stable_baselines3:SAC", "SB3 SAC"),
    "td3": ("stable_baselines3:TD3", "SB3 TD3"),
    "ars": ("sb3_contrib:ARS", "sb3-contrib ARS"),
    "crossq": ("sb3_contrib:CrossQ", "sb3-contrib CrossQ"),
    "tqc": ("sb3_contrib:TQC", "sb3-contrib TQC"),
    "trpo": ("sb3_contrib:TRPO", "sb3-contrib TRPO"),
}
"""``acrl train --algo`` name -> (``"module:Class"``, description)."""

_NOT_HYPERPARAMETERS = {"self", "policy", "env", "seed", "_init_setup_model"}
_RUN_SETTINGS = {
    "seed": "the seed is a run setting, not a hyperparameter: use --seed (seeds: in a suite)",
    "env": "the env is a run setting, not a hyperparameter: use --env (and env_kwargs)",
}


def algorithm_class(name: str) -> type[Any]:
    """The algorithm class registered under ``name`` (case-insensitive).

    Raises:
        ConfigError: unknown name, with close matches and where to list them.

    Example:
        >>> algorithm_class("sac").__name__
        'SAC'
    """
    try:
        return default_host().registry("algorithm").get(name).load()
    except UnknownNameError as exc:
        raise ConfigError(str(exc)) from exc


def accepted_hyperparameters(algorithm: type[Any]) -> list[str]:
    """The keyword arguments of ``algorithm``'s constructor, through ``**kwargs`` to its bases.

    Example:
        >>> from stable_baselines3 import SAC
        >>> {"learning_rate", "buffer_size", "ent_coef"} <= set(accepted_hyperparameters(SAC))
        True
    """
    names: set[str] = set()
    for cls in algorithm.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
            and p.name not in _NOT_HYPERPARAMETERS
        }
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return sorted(names)


def check_hyperparameters(algorithm: type[Any], hyperparameters: Mapping[str, Any]) -> None:
    """Raise if ``hyperparameters`` has a key the constructor of ``algorithm`` does not take.

    Raises:
        ConfigError: names the bad key, a close match and every accepted key.

    Example:
        >>> from stable_baselines3 import SAC
        >>> check_hyperparameters(SAC, {"learning_rat": 1e-3})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_bench.errors.ConfigError: SAC does not accept hyperparameter 'learning_rat' ...
    """
    accepted = accepted_hyperparameters(algorithm)
    for key in hyperparameters:
        if key in _RUN_SETTINGS:
            raise ConfigError(f"{key!r} among the hyperparameters: {_RUN_SETTINGS[key]}")
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(
                f"{algorithm.__name__} does not accept hyperparameter {key!r}{hint}; "
                f"it accepts: {', '.join(accepted)}"
            )
