"""Checking a run's whole configuration before anything is written (:func:`check_run`).

Names, the env with its enforcement wrapper (a constraint that does not fit the env's
actions or observations is refused here) and the model with its hyperparameters are
built in memory; :func:`acrl_bench.train.train` trains the model built here.
"""

from __future__ import annotations

import warnings

from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from acrl_bench.algorithms import algorithm_class
from acrl_bench.config import RunConfig
from acrl_bench.envs import make_vec_env
from acrl_bench.errors import BudgetWarning, ConfigError
from acrl_bench.hyperparams import materialize
from acrl_bench.validation import run_warnings
from acrl_wrappers.errors import AcrlError

__all__ = ["build_checked", "check_run", "one_line"]


def check_run(config: RunConfig) -> RunConfig:
    """``config`` resolved and proven to build, without creating any file.

    Checks the names (:meth:`RunConfig.resolved`), then builds the envs with their
    enforcement wrapper (a constraint that reads observation entries the env lacks, or
    acts on another number of action dims, is refused here) and the model with its
    hyperparameters, in memory only. :func:`train` does the same before it creates the
    run directory and trains the model it built.

    Raises:
        ConfigError: a name, number or hyperparameter value that cannot work.
        AcrlError: the library's own error for an env, constraint or method that does not
            fit (``ConstraintError``, ...).

    Example:
        >>> negative = {"policy_kwargs": {"net_arch": [-5]}}  # only building the model refuses it
        >>> bad = RunConfig(env="ACRL/ReacherL2-v0", hyperparams=negative)
        >>> check_run(bad)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        acrl_bench.errors.ConfigError: cannot build SAC with policy_kwargs={'net_arch': [-5]}: ...
    """
    config, model = build_checked(config)
    model.get_env().close()
    return config


def build_checked(config: RunConfig) -> tuple[RunConfig, BaseAlgorithm]:
    """The resolved config and its model, on envs without monitor files (nothing on disk).

    Settings that will not do what they suggest (:func:`~acrl_bench.validation.run_warnings`)
    are reported as :class:`~acrl_bench.errors.BudgetWarning` once everything builds (a
    config that fails gets its error alone).
    """
    import acrl_wrappers as acrl

    acrl.load_plugins()
    config = config.resolved()
    algorithm = algorithm_class(config.algo)
    kwargs = materialize(config.hyperparams)
    venv = _probe_envs(config)
    try:
        try:
            model = algorithm(config.policy, venv, seed=config.seed, **kwargs)
        except AcrlError:
            raise
        except Exception as exc:
            settings = [f"{k}={v!r}" for k, v in config.hyperparams.items()]
            if config.policy != RunConfig.policy:
                settings.insert(0, f"policy={config.policy!r}")
            given = f" with {', '.join(settings)}" if settings else ""
            raise ConfigError(
                f"cannot build {algorithm.__name__}{given}: {one_line(exc)} (check the -p / "
                "--hyperparams values)"
            ) from exc
    except BaseException:
        venv.close()
        raise
    for message in run_warnings(config):
        warnings.warn(message, BudgetWarning, stacklevel=3)
    return config, model


def _probe_envs(config: RunConfig) -> VecEnv:
    """The run's envs with ``Monitor`` in memory (and fresh normalisation), for checking."""
    try:
        venv = make_vec_env(config)
    except AcrlError:
        raise
    except Exception as exc:
        options = f" with env_kwargs {config.env_kwargs}" if config.env_kwargs else ""
        raise ConfigError(f"cannot make {config.env}{options}: {one_line(exc)}") from exc
    if config.normalize:
        options = config.normalize if isinstance(config.normalize, dict) else {}
        try:
            venv = VecNormalize(venv, **options)
        except Exception as exc:
            venv.close()
            raise ConfigError(f"normalize {config.normalize!r}: {one_line(exc)}") from exc
    return venv


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
