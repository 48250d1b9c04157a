"""Checking values before anything is created: one set of rules for train, evaluate and bench.

- :func:`check_count` — a positive integer option (``--episodes``, ``--threads``, ``-j``).
- :func:`check_run_values` — the types and ranges of a :class:`RunConfig`'s fields.
- :func:`check_hyperparameter_values` — the types and ranges of the well-known SB3 /
  sb3-contrib / acrl hyperparameters (``learning_starts``, ``learning_rate``, ...).
- :func:`run_warnings` — settings that are valid but will not do what they suggest: an
  off-policy budget that never reaches ``learning_starts``, an on-policy rollout
  (``n_steps × n_envs``) larger than the whole run.

Every error is a :class:`ConfigError` with one line naming the setting, the value and a fix.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from acrl_bench.errors import ConfigError

if TYPE_CHECKING:
    from acrl_bench.config import RunConfig

__all__ = [
    "MAX_SEED",
    "check_count",
    "check_hyperparameter_values",
    "check_run_values",
    "run_warnings",
]

MAX_SEED = 2**32 - 1
"""The largest seed numpy and Gymnasium accept."""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_count(name: str, value: Any, *, flag: str | None = None) -> int:
    """``value`` if it is a positive integer, else a :class:`ConfigError` naming ``flag``.

    Example:
        >>> check_count("episodes", 3)
        3
        >>> check_count("episodes", 0, flag="--episodes")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_bench.errors.ConfigError: --episodes must be a positive integer, got 0; ...
    """
    if not _is_int(value) or value < 1:
        shown = flag or name
        raise ConfigError(
            f"{shown} must be a positive integer, got {value!r}; pass {shown} 1 or more"
        )
    return int(value)


def check_run_values(config: RunConfig) -> None:
    """Raise unless every field of ``config`` has the right type and range.

    Example:
        >>> from acrl_bench.config import RunConfig
        >>> check_run_values(RunConfig(seed=-1))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_bench.errors.ConfigError: seed must be an integer from 0 to 4294967295, got -1; ...
    """
    for name, flag in (
        ("steps", "-n/--steps"),
        ("n_envs", "--n-envs"),
        ("save_freq", "--save-freq"),
    ):
        value = getattr(config, name)
        if not _is_int(value) or value < 1:
            raise ConfigError(
                f"{name} must be a positive integer, got {value!r}; pass {flag} 1 or more "
                f"({name}: in a suite)"
            )
    if not _is_int(config.seed) or not 0 <= config.seed <= MAX_SEED:
        raise ConfigError(
            f"seed must be an integer from 0 to {MAX_SEED}, got {config.seed!r}; pass --seed 0 "
            "or another non-negative integer (seeds: in a suite)"
        )
    for name in ("algo", "env", "policy"):
        if not isinstance(getattr(config, name), str) or not getattr(config, name):
            raise ConfigError(f"{name} must be a name, got {getattr(config, name)!r}")
    for name in ("hyperparams", "env_kwargs", "wrapper_kwargs"):
        if not isinstance(getattr(config, name), Mapping):
            raise ConfigError(
                f"{name} must be a mapping of keywords, got {getattr(config, name)!r}"
            )
    if not isinstance(config.normalize, (bool, Mapping)):
        raise ConfigError(
            f"normalize must be true, false or VecNormalize's keywords, got {config.normalize!r}"
        )


def _integer(low: int) -> Callable[[Any], bool]:
    return lambda v: _is_int(v) and v >= low


def _in_range(low: float, high: float, *, open_low: bool = False) -> Callable[[Any], bool]:
    return lambda v: _is_number(v) and (v > low if open_low else v >= low) and v <= high


def _positive(value: Any) -> bool:
    return _is_number(value) and value > 0


def _positive_or_schedule(value: Any) -> bool:
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            return float(value[4:]) > 0
        except ValueError:
            return False
    return _positive(value)


def _ent_coef(value: Any) -> bool:
    if isinstance(value, str):
        if value == "auto":
            return True
        if value.startswith("auto_"):
            try:
                return float(value[5:]) > 0
            except ValueError:
                return False
        return False
    return _is_number(value) and value >= 0


def _train_freq(value: Any) -> bool:
    if _is_int(value):
        return value >= 1
    return (
        isinstance(value, (list, tuple))
        and len(value) == 2
        and _is_int(value[0])
        and value[0] >= 1
        and value[1] in ("step", "episode")
    )


_RULES: dict[str, tuple[Callable[[Any], bool], str, str]] = {
    # name: (accepts, what it must be, an example value)
    "learning_starts": (_integer(0), "an integer >= 0 (env steps before the first update)", "1000"),
    "batch_size": (_integer(1), "a positive integer", "256"),
    "buffer_size": (_integer(1), "a positive integer (transitions kept)", "100000"),
    "n_steps": (_integer(1), "a positive integer (env steps per env per rollout)", "1024"),
    "n_epochs": (_integer(1), "a positive integer", "10"),
    "gradient_steps": (
        lambda v: _is_int(v) and (v >= 1 or v == -1),
        "a positive integer or -1",
        "1",
    ),
    "train_freq": (_train_freq, "a positive integer or [n, 'step' | 'episode']", "1"),
    "policy_delay": (_integer(1), "a positive integer", "2"),
    "n_critic_updates": (_integer(1), "a positive integer", "10"),
    "cg_max_steps": (_integer(1), "a positive integer", "15"),
    "line_search_max_iter": (_integer(1), "a positive integer", "10"),
    "max_proposals": (_integer(1), "a positive integer", "100"),
    "learning_rate": (
        _positive_or_schedule,
        "a positive number or a schedule like 'lin_3e-4'",
        "0.0003",
    ),
    "clip_range": (_positive_or_schedule, "a positive number or a schedule like 'lin_0.2'", "0.2"),
    "gamma": (_in_range(0.0, 1.0), "a number in [0, 1]", "0.99"),
    "gae_lambda": (_in_range(0.0, 1.0), "a number in [0, 1]", "0.95"),
    "tau": (_in_range(0.0, 1.0, open_low=True), "a number in (0, 1]", "0.005"),
    "line_search_shrinking_factor": (
        _in_range(0.0, 1.0, open_low=True),
        "a number in (0, 1]",
        "0.8",
    ),
    "ent_coef": (_ent_coef, "a number >= 0, 'auto' or 'auto_<initial value>'", "auto"),
    "cost_limit": (_positive, "a positive number (the allowed expected episode cost)", "25"),
    "target_kl": (lambda v: v is None or _positive(v), "a positive number or null", "0.01"),
    "max_grad_norm": (_positive, "a positive number", "0.5"),
    "cg_damping": (lambda v: _is_number(v) and v >= 0, "a number >= 0", "0.1"),
    "vf_coef": (lambda v: _is_number(v) and v >= 0, "a number >= 0", "0.5"),
    "target_policy_noise": (lambda v: _is_number(v) and v >= 0, "a number >= 0", "0.2"),
    "target_noise_clip": (lambda v: _is_number(v) and v >= 0, "a number >= 0", "0.5"),
}
"""Well-known hyperparameters: the same meaning in every SB3, sb3-contrib and acrl algorithm."""


def check_hyperparameter_values(algorithm: str, hyperparams: Mapping[str, Any]) -> None:
    """Raise for a well-known hyperparameter of the wrong type or out of range.

    Unknown names are :func:`~acrl_bench.algorithms.check_hyperparameters`' business;
    values of other names are checked when the model is built.

    Example:
        >>> check_hyperparameter_values("sac", {"learning_starts": "abc"})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_bench.errors.ConfigError: sac: learning_starts must be an integer >= 0 ...
    """
    for name, value in hyperparams.items():
        rule = _RULES.get(name)
        if rule is None or rule[0](value):
            continue
        accepts, what, example = rule
        hint = ""
        if isinstance(value, float) and value.is_integer() and accepts(int(value)):
            hint = f" (write {int(value)}, without a decimal point)"
        raise ConfigError(
            f"{algorithm}: {name} must be {what}, got {value!r}{hint}; pass e.g. "
            f"-p {name}={example} (hyperparams: {{{name}: {example}}} in a suite)"
        )


def run_warnings(config: RunConfig) -> list[str]:
    """What a valid ``config`` will not do as its settings suggest, one line each.

    Example:
        >>> from acrl_bench.config import RunConfig
        >>> run_warnings(RunConfig(algo="sac", steps=50))  # doctest: +ELLIPSIS
        ["SAC's learning_starts is 100 (its default) but the run has 50 steps: ..."]
    """
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    from acrl_bench.algorithms import algorithm_class, hyperparameter_default

    algorithm = algorithm_class(config.algo)
    found = []
    if issubclass(algorithm, OffPolicyAlgorithm):
        found += _learning_starts_warning(config, algorithm, hyperparameter_default)
    if issubclass(algorithm, OnPolicyAlgorithm):
        found += _rollout_warning(config, algorithm, hyperparameter_default)
    return found


def _setting(config: RunConfig, algorithm: type[Any], name: str, default: Any) -> tuple[Any, str]:
    if name in config.hyperparams:
        return config.hyperparams[name], "as set"
    return default(algorithm, name), "its default"


def _learning_starts_warning(
    config: RunConfig, algorithm: type[Any], default: Callable[[type[Any], str], Any]
) -> list[str]:
    starts, origin = _setting(config, algorithm, "learning_starts", default)
    if not _is_int(starts) or starts < config.steps:
        return []
    suggest = max(1, config.steps // 10)
    return [
        f"{algorithm.__name__}'s learning_starts is {starts:,} ({origin}) but the run has "
        f"{config.steps:,} steps: the policy is never updated; set learning_starts below the "
        f"budget, e.g. -p learning_starts={suggest} (hyperparams: {{learning_starts: {suggest}}} "
        "in a suite), or raise the budget"
    ]


def _rollout_warning(
    config: RunConfig, algorithm: type[Any], default: Callable[[type[Any], str], Any]
) -> list[str]:
    n_steps, origin = _setting(config, algorithm, "n_steps", default)
    if not _is_int(n_steps):
        return []
    rollout = n_steps * config.n_envs
    if rollout <= config.steps:
        return []
    fit = max(1, config.steps // config.n_envs)
    return [
        f"{algorithm.__name__} collects n_steps x n_envs = {n_steps:,} x {config.n_envs} = "
        f"{rollout:,} env steps per rollout (n_steps {origin}), more than the run's "
        f"{config.steps:,}: SB3 completes every rollout, so it trains {rollout:,} steps; set "
        f"n_steps to at most {fit:,} (-p n_steps={fit}) or raise the budget"
    ]
