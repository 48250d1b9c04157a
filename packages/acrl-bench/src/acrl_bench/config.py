"""``RunConfig``: everything that defines a training run, as plain data saved in the run dir.

A run directory holds ``config.yml`` (this config, resolved), so ``acrl evaluate`` and
``acrl train --resume`` rebuild exactly the env and the algorithm that were trained.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gymnasium as gym
import yaml

from acrl_bench.errors import ConfigError
from acrl_bench.files import write_text_atomic, write_yaml_atomic

__all__ = [
    "DEFAULT_RUN",
    "ENFORCE_MODES",
    "RunConfig",
    "read_config",
    "write_text_atomic",
    "write_yaml_atomic",
]

ENFORCE_MODES = ("project", "reject", "automdp", "monitor", "none")
"""``--enforce`` values: the acrl wrappers, or ``none`` (no wrapper; the simulator is not
protected, so only for tasks without a constraint or to study a method's own guarantee)."""

CONFIG_FILE = "config.yml"


@dataclass
class RunConfig:
    """One training run.

    Attributes:
        algo: a registered algorithm name (``acrl algorithms`` lists them with their plugins).
        env: a Gymnasium id (``acrl envs`` lists the ``ACRL/`` tasks).
        constraint: a registered constraint name or spec; default: the task's own.
        enforce: an :data:`ENFORCE_MODES` value; default ``project`` when there is a
            constraint (nothing infeasible reaches the simulator), else no wrapper.
        steps: total env steps (SB3 timesteps).
        seed: seed of the envs and the algorithm.
        n_envs: parallel envs (``DummyVecEnv``).
        policy: the policy name given to the algorithm.
        hyperparams: algorithm constructor keywords, as data (see :mod:`acrl_bench.hyperparams`).
        env_kwargs: keywords for ``gym.make``.
        wrapper_kwargs: keywords for the enforcement wrapper (``kappa``, ``reward_offset``, ...).
        normalize: ``VecNormalize`` (``True`` or its keywords); ``False`` for none.
        save_freq: env steps between checkpoints (model and replay buffer).

    Example:
        >>> config = RunConfig(algo="sac", env="ACRL/ReacherL2-v0", steps=2000)
        >>> config.resolved().enforce
        'project'
        >>> RunConfig.from_dict(config.to_dict()) == config
        True
    """

    algo: str = "sac"
    env: str = "ACRL/ReacherL2-v0"
    constraint: Any = None
    enforce: str | None = None
    steps: int = 10_000
    seed: int = 0
    n_envs: int = 1
    policy: str = "MlpPolicy"
    hyperparams: dict[str, Any] = field(default_factory=dict)
    env_kwargs: dict[str, Any] = field(default_factory=dict)
    wrapper_kwargs: dict[str, Any] = field(default_factory=dict)
    normalize: bool | dict[str, Any] = False
    save_freq: int = 10_000

    # ------------------------------------------------------------------ data
    def to_dict(self) -> dict[str, Any]:
        """Plain data (YAML-safe)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunConfig:
        """The config from :meth:`to_dict`'s output.

        Raises:
            ConfigError: unknown keys.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ConfigError(
                f"unknown run settings {sorted(unknown)}; known: {', '.join(sorted(names))}"
            )
        return cls(**dict(data))

    def replace(self, **changes: Any) -> RunConfig:
        """A copy with ``changes`` (``None`` values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    # ------------------------------------------------------------------ checks
    def task_constraint(self) -> Any:
        """The constraint in force: ``constraint`` or the task's own (``None`` if neither)."""
        if self.constraint is not None:
            return self.constraint
        return gym.spec(self.env).kwargs.get("constraint")

    def resolved(self) -> RunConfig:
        """This config checked (names, numbers, hyperparameters), with ``enforce`` decided.

        Raises:
            ConfigError: unknown algorithm, env, constraint or enforce mode (close matches
                suggested), a bad number, or a hyperparameter the algorithm does not take.
        """
        from acrl_bench.algorithms import algorithm_class, check_hyperparameters
        from acrl_bench.validation import check_hyperparameter_values, check_run_values

        check_run_values(self)
        check_env_id(self.env)
        constraint = self.task_constraint()
        if constraint is not None:
            check_constraint(constraint)
        enforce = self.enforce
        if enforce is None:
            enforce = "project" if constraint is not None else "none"
        if enforce not in ENFORCE_MODES:
            close = difflib.get_close_matches(str(enforce), ENFORCE_MODES, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown enforce mode {enforce!r}{hint} (one of {ENFORCE_MODES})")
        if enforce != "none" and constraint is None:
            raise ConfigError(
                f"--enforce {enforce} needs a constraint, and {self.env} has none; pass "
                "--constraint NAME (acrl constraints lists them)"
            )
        if "enforce" in self.env_kwargs:
            raise ConfigError(
                "env_kwargs must not set enforce: the run puts its own enforcement wrapper "
                "around the task, so use --enforce (enforce: in a hyperparameter file or suite)"
            )
        if self.wrapper_kwargs and enforce == "none":
            raise ConfigError("wrapper_kwargs need an enforcement wrapper (--enforce)")
        if enforce != "none":
            check_wrapper_options(enforce, self.wrapper_kwargs)
        check_hyperparameters(algorithm_class(self.algo), self.hyperparams)
        check_hyperparameter_values(self.algo, self.hyperparams)
        return self.replace(enforce=enforce)


def check_env_id(env_id: str) -> None:
    """Raise unless ``env_id`` is a registered Gymnasium id (close ids suggested).

    Raises:
        ConfigError: unknown id.
    """
    import acrl_wrappers as acrl

    acrl.load_plugins()
    if env_id in gym.registry:
        return
    close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise ConfigError(f"unknown env {env_id!r}{hint} (acrl envs lists the ACRL/ tasks)")


def check_wrapper_options(enforce: str, options: Mapping[str, Any]) -> None:
    """Raise unless the ``enforce`` wrapper takes every key of ``options``.

    Raises:
        ConfigError: names the bad key and the wrapper's options.
    """
    import inspect

    from acrl_wrappers.wrappers import ENFORCEMENTS

    wrapper = ENFORCEMENTS[enforce]
    accepted = [p for p in inspect.signature(wrapper).parameters if p not in ("env", "constraint")]
    unexpected = sorted(set(options) - set(accepted))
    if unexpected:
        raise ConfigError(
            f"{wrapper.__name__} (--enforce {enforce}) does not take {unexpected}; its options: "
            f"{', '.join(accepted)}"
        )


def check_constraint(constraint: Any) -> None:
    """Raise unless ``constraint`` builds (unknown names get close matches)."""
    import acrl_wrappers as acrl

    try:
        acrl.make_constraint(constraint)
    except acrl.AcrlError as exc:
        raise ConfigError(str(exc)) from exc


def read_config(run_dir: str | Path) -> RunConfig:
    """The :class:`RunConfig` saved in ``run_dir``.

    Raises:
        CheckpointError: no readable ``config.yml`` there.
    """
    from acrl_bench.errors import CheckpointError

    path = Path(run_dir) / CONFIG_FILE
    try:
        data = yaml.safe_load(path.read_text())
        return RunConfig.from_dict(data["run"])
    except FileNotFoundError as exc:
        raise CheckpointError(
            f"{run_dir} is not a run directory (no {CONFIG_FILE}); runs are made by acrl train"
        ) from exc
    except (yaml.YAMLError, KeyError, TypeError, ConfigError) as exc:
        raise CheckpointError(f"{path} is corrupt or from another version: {exc}") from exc


DEFAULT_RUN = RunConfig(
    algo="sac",
    env="ACRL/ReacherL2-v0",
    enforce="project",
    steps=10_000,
    hyperparams={"learning_starts": 100},
    wrapper_kwargs={"penalty": 1.0},
)
"""What ``acrl train`` runs without arguments: stock SAC + ProjectAction (penalty 1) on ReacherL2.

Chosen on measurements (``benchmarks/results/default-run.md``, 3 seeds, 10,000 steps,
2.5 minutes on two cores): evaluation return -5.70 +- 0.15 against -12.86 for random
feasible actions, where SAC + AutoMDP reached -10.80 +- 0.85 and SAC + ProjectAction
without the penalty -7.92 +- 0.88.
"""
