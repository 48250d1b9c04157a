"""Algorithms by name: stock SB3 / sb3-contrib ones (registered like plugins) and plugins'.

- :data:`STOCK_ALGORITHMS` — what the ``bench`` plugin registers with the ``register_algorithms``
  hook: every SB3 and sb3-contrib algorithm for continuous actions.
- :func:`algorithm_class` — the class registered under a name (close matches suggested).
- :func:`list_algorithms` — every registered algorithm with its plugin (``acrl algorithms``).
- :func:`accepted_hyperparameters` / :func:`check_hyperparameters` — the constructor keywords
  an algorithm takes, and an error naming them for a key it does not take.
- :func:`hyperparameter_default` — the default an algorithm uses for a keyword not given.
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
    "hyperparameter_default",
    "list_algorithms",
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


def list_algorithms() -> list[dict[str, str | None]]:
    """Every registered algorithm: name, plugin, distribution, class and summary.

    Nothing is imported: a plugin whose algorithm fails to import is still listed.

    Example:
        >>> rows = {row["name"]: row for row in list_algorithms()}
        >>> rows["sac"]["plugin"], rows["sac"]["distribution"], rows["sac"]["target"]
        ('bench', 'acrl-bench', 'stable_baselines3:SAC')
    """
    from acrl_wrappers.plugins import list_plugins

    host = default_host()
    host.load()
    distributions = {p["name"]: p["distribution"] for p in list_plugins()}
    return [
        {
            "name": entry.name,
            "plugin": entry.plugin,
            "distribution": distributions.get(entry.plugin),
            "target": entry.target if isinstance(entry.target, str) else repr(entry.target),
            "summary": entry.summary,
        }
        for entry in sorted(host.registry("algorithm"), key=lambda e: e.name)
    ]


def accepted_hyperparameters(algorithm: type[Any]) -> list[str]:
    """The keyword arguments of ``algorithm``'s constructor, through ``**kwargs`` to its bases.

    Example:
        >>> from stable_baselines3 import SAC
        >>> {"learning_rate", "buffer_size", "ent_coef"} <= set(accepted_hyperparameters(SAC))
        True
    """
    names = {
        p.name
        for params in _constructors(algorithm)
        for p in params
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and p.name not in _NOT_HYPERPARAMETERS
    }
    return sorted(names)


def _constructors(algorithm: type[Any]) -> list[list[inspect.Parameter]]:
    """The parameters of each ``__init__`` reached from ``algorithm`` through ``**kwargs``."""
    found = []
    for cls in algorithm.__mro__:
        init = cls.__dict__.get("__init__")
        if init is None:
            continue
        params = list(inspect.signature(init).parameters.values())
        found.append(params)
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            break
    return found


def hyperparameter_default(algorithm: type[Any], name: str) -> Any:
    """The default ``algorithm`` uses for ``name`` when it is not given (``None`` if none).

    The first constructor along the ``**kwargs`` chain that names it decides.

    Example:
        >>> from stable_baselines3 import SAC
        >>> hyperparameter_default(SAC, "learning_starts")
        100
    """
    for params in _constructors(algorithm):
        for p in params:
            if p.name == name:
                return None if p.default is p.empty else p.default
    return None


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
