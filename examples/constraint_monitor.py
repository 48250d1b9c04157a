"""ConstraintMonitor: how often does an unconstrained policy violate a constraint?

Docs: packages/acrl-wrappers/README.md, "Enforcement wrappers". Run as-is:

    python examples/constraint_monitor.py

A SAC policy trained briefly on HalfCheetah-v5 without any constraint is evaluated under
the power cap sum_i |w_i a_i| <= 20. Nothing is enforced: the monitor only measures the
violation rate and the distance each violating action is from the feasible set.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import gymnasium as gym
from stable_baselines3 import SAC

import acrl_wrappers as acrl


@dataclass
class Args:
    """Command-line arguments."""

    train_steps: int = 2000
    """SAC steps to train the (unconstrained) policy"""
    eval_steps: int = 1000
    """evaluation steps"""
    seed: int = 0
    """seed of env and agent"""


def parse_args() -> Args:
    """Args from the command line (one flag per field)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    return Args(**vars(parser.parse_args()))


if __name__ == "__main__":
    args = parse_args()

    # TRAIN WITHOUT THE CONSTRAINT
    model = SAC("MlpPolicy", gym.make("HalfCheetah-v5"), learning_starts=500, seed=args.seed)
    model.learn(args.train_steps)

    # MEASURE
    env = acrl.ConstraintMonitor(
        gym.make("HalfCheetah-v5"), {"name": "power", "bound": 20.0, "weight_index": "11:17"}
    )
    obs, _ = env.reset(seed=args.seed)
    for _ in range(args.eval_steps):
        action, _ = model.predict(obs, deterministic=True)
        obs, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            obs, _ = env.reset()

    # REPORT
    print(f"steps:          {env.steps}")
    print(f"violation rate: {env.violation_rate:.3f}")
    print(f"mean distance:  {env.mean_distance:.3f} (from a violating action to the feasible set)")
