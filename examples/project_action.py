"""ProjectAction: TD3 on HalfCheetah-v5 under the power cap sum_i |w_i a_i| <= 20 (DPre+ style).

Docs: packages/acrl-wrappers/README.md, "Enforcement wrappers". Run as-is:

    python examples/project_action.py --steps 5000

Infeasible actions are replaced by their Euclidean projection before they reach the
simulator; the replay buffer keeps the action the policy proposed (the DPre baseline of
the benchmark literature). `--penalty` subtracts penalty x projection distance from the
reward so the policy learns to stay inside ("+" variants).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from stable_baselines3 import TD3
from stable_baselines3.common.monitor import Monitor
from stable_baselines3.common.noise import NormalActionNoise

import acrl_wrappers as acrl
from acrl_wrappers.sb3 import ConstraintMetricsCallback


@dataclass
class Args:
    """Command-line arguments."""

    steps: int = 5000
    """environment steps to train for"""
    penalty: float = 1.0
    """reward penalty per unit of projection distance"""
    seed: int = 0
    """seed of env and agent"""


def parse_args() -> Args:
    """Args from the command line (one flag per field)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    return Args(**vars(parser.parse_args()))


if __name__ == "__main__":
    args = parse_args()
    constraint = acrl.make_constraint(
        "power", bound=20.0, weight_index="11:17"
    )  # w = joint velocities

    # ENV: Monitor inside the wrapper records the task return (before the penalty).
    env = acrl.ProjectAction(Monitor(gym.make("HalfCheetah-v5")), constraint, penalty=args.penalty)

    # AGENT
    noise = NormalActionNoise(np.zeros(6), 0.1 * np.ones(6))
    model = TD3(
        "MlpPolicy",
        env,
        action_noise=noise,
        learning_starts=min(1000, args.steps // 2),
        seed=args.seed,
    )
    metrics = ConstraintMetricsCallback()
    model.learn(args.steps, callback=metrics)

    # REPORT
    returns = [info["r"] for info in model.ep_info_buffer]
    print(
        f"episodes:        {len(returns)}, "
        f"task return {np.mean(returns) if returns else float('nan'):.1f}"
    )
    print(f"projection rate: {metrics.projections / metrics.steps:.3f}")
    print(f"QP solves:       {metrics.qp_solves} ({env.projector.name} projector)")
