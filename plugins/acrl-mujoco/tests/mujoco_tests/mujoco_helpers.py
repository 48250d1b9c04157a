"""States for the acrl-mujoco tests: visited by a random policy, optionally shaken up."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


def random_states(env_id: str, steps: int = 300, seed: int = 0, shake: bool = False):
    """Yield ``(obs, data)`` pairs (observation and the simulator's MjData) along a random run.

    With ``shake``, every other state gets random joint angles and fast joint velocities
    written into the simulator (``set_state``) before it is yielded, so constraints that
    a slow random policy never stresses are tested on both sides of their boundary.
    """
    env = gym.make(env_id)
    sim = env.unwrapped
    rng = np.random.default_rng(seed)
    env.action_space.seed(seed)
    obs, _ = env.reset(seed=seed)
    for t in range(steps):
        if shake and t % 2:
            qpos = sim.data.qpos.copy()
            qpos[-sim.model.nu :] += rng.uniform(-1.0, 1.0, size=sim.model.nu)
            qvel = rng.normal(0.0, 8.0, size=sim.model.nv)
            sim.set_state(qpos, qvel)
            obs = sim._get_obs()
        yield obs, sim.data
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()


def uniform_actions(dim: int, n: int, seed: int) -> np.ndarray:
    """``n`` actions uniform in [-1, 1]^dim."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, size=(n, dim))
