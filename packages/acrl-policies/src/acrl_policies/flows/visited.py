"""Conditions a task actually produces: observation entries along random-action rollouts.

A flow is trained on conditions drawn from a distribution; :func:`task_condition`
chooses it for an env: the one the task declares
(:func:`acrl_wrappers.condition_spec.find_condition_distribution`), else one measured
from the states uniformly random actions visit (:func:`visited_conditions`, widened by
:meth:`ConditionDistribution.from_samples`) — never one fixed range for every task.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from acrl_policies.flows.conditions import ConditionDistribution, Conditioning
from acrl_wrappers.condition_spec import find_condition_distribution

__all__ = ["task_condition", "visited_conditions"]


def _is_vec_env(env: Any) -> bool:
    return hasattr(env, "num_envs") and hasattr(env, "step_async")


def visited_conditions(
    env: Any, conditioning: Conditioning, steps: int = 2_000, seed: int = 0
) -> np.ndarray:
    """The condition entries of the observations uniformly random actions visit.

    Args:
        env: a Gymnasium env or an SB3 ``VecEnv`` (stepped ``steps`` times in all;
            SB3's ``learn`` resets it afterwards).
        conditioning: which observation entries to keep.
        steps: environment steps (all sub-envs together).
        seed: seed of the actions (and of the first reset of a Gymnasium env).

    Returns:
        ``(steps, conditioning.dim)`` float64 condition rows.

    Example:
        >>> import gymnasium as gym
        >>> import acrl_wrappers as acrl
        >>> env = gym.make("ACRL/HopperM10-v0")
        >>> y = visited_conditions(env, Conditioning(acrl.make_constraint("hopper-m10")), 200)
        >>> y.shape
        (200, 3)
    """
    space = env.action_space
    space.seed(seed)
    rows: list[np.ndarray] = []
    if _is_vec_env(env):
        obs = env.reset()
        while len(rows) * env.num_envs < steps:
            obs, *_ = env.step(np.stack([space.sample() for _ in range(env.num_envs)]))
            rows.append(
                conditioning.select(np.asarray(obs, dtype=np.float64).reshape(env.num_envs, -1))
            )
        return np.concatenate(rows)[:steps]
    obs, _ = env.reset(seed=seed)
    for _ in range(steps):
        obs, _, terminated, truncated, _ = env.step(space.sample())
        rows.append(np.asarray(obs, dtype=np.float64).reshape(1, -1))
        if terminated or truncated:
            obs, _ = env.reset()
    return conditioning.select(np.concatenate(rows))


def task_condition(
    env: Any, conditioning: Conditioning, steps: int = 2_000, seed: int = 0
) -> tuple[ConditionDistribution, str]:
    """The condition distribution for a flow serving ``env``, and where it came from.

    Returns:
        ``(distribution, source)``; ``source`` is ``"declared by the task"`` or
        ``"measured over N random-action steps"``.

    Example:
        >>> import gymnasium as gym
        >>> import acrl_wrappers as acrl
        >>> cond = Conditioning(acrl.make_constraint("halfcheetah-o20"))
        >>> dist, source = task_condition(gym.make("ACRL/HalfCheetahO20-v0"), cond)
        >>> dist.low, dist.high, source
        (-20.0, 20.0, 'declared by the task')
    """
    declared = find_condition_distribution(env)
    if declared is not None:
        dist = ConditionDistribution.parse(declared)
        dist.check(conditioning)
        return dist, "declared by the task"
    y = visited_conditions(env, conditioning, steps, seed)
    return ConditionDistribution.from_samples(y), f"measured over {steps} random-action steps"
