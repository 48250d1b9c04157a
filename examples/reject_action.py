"""RejectAction for deployment: a policy trained without the constraint, run safely.

Docs: packages/acrl-wrappers/README.md, "Enforcement wrappers". Run as-is:

    python examples/reject_action.py

An unconstrained PPO policy on Hopper-v5 is deployed under the positive-power budget
sum_i max(w_i a_i, 0) <= 10 (w = joint velocities, obs[8:11]). RejectAction refuses every
infeasible action and executes the constraint's safe action instead (`on_reject=
"fallback", fallback="safe"`); `on_reject="raise"` would stop the robot instead.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import gymnasium as gym
from stable_baselines3 import PPO

import acrl_wrappers as acrl
from acrl_wrappers.testing import ActionProbe


@dataclass
class Args:
    """Command-line arguments."""

    train_steps: int = 2048
    """PPO steps to train the (unconstrained) policy"""
    episodes: int = 3
    """deployment episodes"""
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
    constraint = acrl.make_constraint("positive-power", bound=10.0, weight_index="8:11")

    # TRAIN WITHOUT THE CONSTRAINT
    model = PPO("MlpPolicy", gym.make("Hopper-v5"), seed=args.seed).learn(args.train_steps)

    # DEPLOY UNDER IT (the probe checks what reaches the simulator)
    probe = ActionProbe(gym.make("Hopper-v5"), constraint, keep=False)
    env = acrl.RejectAction(probe, constraint, on_reject="fallback", fallback="safe")
    refused = steps = 0
    for episode in range(args.episodes):
        obs, _ = env.reset(seed=args.seed + episode)
        done = False
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, info = env.step(action)
            refused += info["constraint"]["enforcement"] == "fallback"
            steps += 1
            done = terminated or truncated

    # REPORT
    print(f"deployed steps:   {steps}")
    print(f"refused actions:  {refused} ({refused / steps:.3f}), replaced by the safe action")
    print(f"infeasible executed: {probe.infeasible}")
