"""The envs of a run: ``gym.make`` -> ``Monitor`` -> enforcement wrapper -> ``VecEnv``.

``Monitor`` sits inside the acrl wrapper, so episode returns and lengths are the task's
(counted in simulator steps, without AutoMDP's self-loops or penalties), as in the
quickstart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium as gym
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.vec_env import DummyVecEnv, VecEnv

from acrl_bench.config import RunConfig

__all__ = ["make_env", "make_vec_env"]


def make_env(
    config: RunConfig,
    *,
    monitor_file: str | None = None,
    append: bool = False,
    probe: Callable[[gym.Env[Any, Any]], gym.Env[Any, Any]] | None = None,
) -> gym.Env[Any, Any]:
    """One env of ``config`` (resolved): the task, its monitor, its enforcement wrapper.

    Args:
        config: a resolved :class:`RunConfig`.
        monitor_file: where ``Monitor`` writes its CSV (``None``: in memory only).
        append: continue an existing monitor CSV (a resumed run).
        probe: wraps the bare task first (e.g. an ``ActionProbe`` recording executed actions).

    Example:
        >>> env = make_env(RunConfig(env="ACRL/ReacherL2-v0").resolved())
        >>> type(env).__name__, type(env.env).__name__
        ('ProjectAction', 'Monitor')
    """
    import acrl_wrappers as acrl
    from acrl_wrappers.tasks import NO_ENFORCEMENT, is_task

    kwargs = dict(config.env_kwargs)
    if is_task(config.env):  # the run's own wrapper goes on top, outside the monitor
        kwargs.setdefault("enforce", NO_ENFORCEMENT)
    env = gym.make(config.env, **kwargs)
    if probe is not None:
        env = probe(env)
    env = Monitor(env, filename=monitor_file, override_existing=not append)
    if config.enforce not in (None, "none"):
        env = acrl.wrap(env, config.task_constraint(), config.enforce, **config.wrapper_kwargs)
    return env


def make_vec_env(
    config: RunConfig, *, monitor_dir: str | Path | None = None, append: bool = False
) -> VecEnv:
    """``config.n_envs`` envs in a ``DummyVecEnv``, seeded ``seed, seed + 1, ...``.

    Example:
        >>> venv = make_vec_env(RunConfig(env="ACRL/ReacherL2-v0", n_envs=2).resolved())
        >>> venv.num_envs, venv.reset().shape
        (2, (2, 10))
    """

    def factory(rank: int) -> Callable[[], gym.Env[Any, Any]]:
        def build() -> gym.Env[Any, Any]:
            monitor_file = None if monitor_dir is None else str(Path(monitor_dir) / str(rank))
            env = make_env(config, monitor_file=monitor_file, append=append)
            env.action_space.seed(config.seed + rank)
            return env

        return build

    if monitor_dir is not None:
        Path(monitor_dir).mkdir(parents=True, exist_ok=True)
    venv = DummyVecEnv([factory(rank) for rank in range(config.n_envs)])
    venv.seed(config.seed)
    return venv
