"""Check and project random actions against a state-dependent constraint.

Docs: packages/acrl-wrappers/README.md, "Constraints" and "Projections". Run as-is:

    python examples/check_and_project.py
    python examples/check_and_project.py --constraint '{"name": "ball", "bound": 0.05, "dim": 2}'

The default constraint is the benchmark's HalfCheetah power cap, sum_i |w_i a_i| <= 20
with w = obs[11:17] (the joint velocities). Observations are drawn N(0, 10^2); actions
uniformly in the box, as an untrained policy would propose them.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass

import numpy as np

import acrl_wrappers as acrl


@dataclass
class Args:
    """Command-line arguments."""

    constraint: str = '{"name": "power", "bound": 20.0, "weight_index": "11:17"}'
    """a registered constraint name or a JSON spec"""
    steps: int = 1000
    """number of (state, action) pairs"""
    seed: int = 0
    """seed of states and actions"""


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
    rng = np.random.default_rng(args.seed)

    # CONSTRAINT AND PROJECTOR
    spec = (
        json.loads(args.constraint) if args.constraint.lstrip().startswith("{") else args.constraint
    )
    constraint = acrl.make_constraint(spec)
    projector = acrl.make_projector(constraint)
    print(f"constraint: {constraint.spec}")
    print(f"projector:  {projector.name}")

    # CHECK AND PROJECT, ONE ACTION AT A TIME (as an env step would)
    distances, start = [], time.perf_counter()
    for _ in range(args.steps):
        obs = rng.normal(0.0, 10.0, size=constraint.obs_dim) if constraint.obs_dim else None
        action = rng.uniform(constraint.low, constraint.high)
        executed, info = projector.project(action, obs)  # unchanged when already feasible
        assert constraint.contains(executed, obs)  # what would reach the simulator
        distances.append(info.distance)
    elapsed = time.perf_counter() - start

    # REPORT
    distances = np.asarray(distances)
    print(f"steps:      {args.steps}")
    print(f"infeasible: {100 * np.mean(distances > 0):.1f} % of proposed actions")
    print(
        f"distance:   {distances[distances > 0].mean() if np.any(distances > 0) else 0.0:.4f} "
        "mean move when projected"
    )
    print(f"solves:     {projector.solves}, failures: {projector.failures}")
    print(f"time:       {1e6 * elapsed / args.steps:.1f} us per step (check + project)")
