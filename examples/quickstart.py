"""Quickstart: a stock SB3 SAC learns Reacher-v5 under a1^2 + a2^2 <= 0.05 through AutoMDP.

Docs: README.md, "Quickstart". Run as-is (about two minutes on two idle CPU cores):

    python examples/quickstart.py
    python examples/quickstart.py --steps 20000 --seed 1

Every action that reaches the simulator satisfies the constraint: an infeasible proposal
is answered by a self-loop with penalty kappa (ARAM's augmented MDP), and after
`max_rejections` self-loops in a row the proposal is projected. As in the reference code,
Reacher's (negative) task reward is shifted by +1 for the agent, so that a real step pays
more than a rejection; the reported return is the unshifted task return. The script
prints the task return of the last episodes, how often the policy proposed infeasible
actions at the start and at the end of training, how many proposals were self-loops,
and how many projections were solved.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
from stable_baselines3 import SAC
from stable_baselines3.common.callbacks import BaseCallback, CallbackList
from stable_baselines3.common.env_util import make_vec_env

import acrl_wrappers as acrl
from acrl_wrappers.sb3 import ConstraintMetricsCallback


@dataclass
class Args:
    """Command-line arguments."""

    env_id: str = "Reacher-v5"
    """Gymnasium id of the task"""
    constraint: str = "reacher-l2"
    """the action constraint: a registered name (acrl-mujoco's reacher-l2 is a1^2 + a2^2 <= 0.05)
    or a JSON spec such as '{"name": "ball", "bound": 0.05, "dim": 2}'"""
    steps: int = 10_000
    """environment steps to train for (self-loops included)"""
    kappa: float = 0.2
    """AutoMDP penalty per rejected action"""
    reward_offset: float = 1.0
    """added to the task reward of executed steps (the reference uses +1 on Reacher)"""
    seed: int = 0
    """seed of the env and the agent"""
    progress_bar: bool = True
    """show SB3's progress bar"""


class FeasibilityHistory(BaseCallback):
    """Remembers, for every step, whether the proposed action was feasible."""

    def __init__(self) -> None:
        super().__init__()
        self.feasible: list[bool] = []

    def _on_step(self) -> bool:
        self.feasible += [info["constraint"]["feasible"] for info in self.locals["infos"]]
        return True


def parse_args() -> Args:
    """Args from the command line (one flag per field)."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        kind = (
            (lambda s: s.lower() in ("1", "true", "yes"))
            if isinstance(default, bool)
            else type(default)
        )
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default)
    return Args(**vars(parser.parse_args()))


if __name__ == "__main__":
    args = parse_args()
    run_name = f"{args.env_id}__quickstart__{args.seed}__{int(time.time())}"
    constraint = acrl.make_constraint(
        __import__("json").loads(args.constraint)
        if args.constraint.startswith("{")
        else args.constraint
    )

    # ENV: Monitor (added first by make_vec_env) sits inside AutoMDP, so episode returns
    # and lengths are the task's, counted in simulator steps.
    env = make_vec_env(
        args.env_id,
        n_envs=1,
        seed=args.seed,
        wrapper_class=acrl.AutoMDP,
        wrapper_kwargs={
            "constraint": constraint,
            "kappa": args.kappa,
            "reward_offset": args.reward_offset,
        },
    )

    # AGENT: stock SAC; only the env knows about the constraint.
    model = SAC("MlpPolicy", env, learning_starts=100, seed=args.seed)
    metrics, history = ConstraintMetricsCallback(), FeasibilityHistory()
    start = time.perf_counter()
    model.learn(
        args.steps, callback=CallbackList([metrics, history]), progress_bar=args.progress_bar
    )
    elapsed = time.perf_counter() - start

    # REPORT
    returns = [info["r"] for info in model.ep_info_buffer]
    print(f"run:               {run_name}")
    print(f"constraint:        {constraint.spec}")
    print(f"steps:             {metrics.steps} ({metrics.steps / elapsed:.0f} steps/s)")
    print(f"episodes:          {len(returns)}")
    print(
        f"return:            {np.mean(returns[-10:]) if returns else float('nan'):.2f} "
        "(task return, mean of the last 10 episodes)"
    )
    window = max(1, min(1000, len(history.feasible) // 2))
    first, last = history.feasible[:window], history.feasible[-window:]
    print(
        f"violation rate:    {metrics.violations / metrics.steps:.3f} "
        "of proposed actions were infeasible"
    )
    print(
        f"learning:          {1 - np.mean(first):.3f} infeasible in the first {window} steps, "
        f"{1 - np.mean(last):.3f} in the last {window}"
    )
    print(f"self-loop rate:    {metrics.self_loops / metrics.steps:.3f}")
    print(f"projections:       {metrics.projections} (QP solves: {metrics.qp_solves})")
    print(
        "executed actions:  all feasible (AutoMDP never steps the simulator with an infeasible one)"
    )
