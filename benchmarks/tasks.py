"""How hard is each registered task's constraint? Feasible fractions and random-policy costs.

Docs: README.md, section "Benchmarks". Run:

    python benchmarks/tasks.py            # writes benchmarks/results/tasks.md
    python benchmarks/tasks.py --states 200 --episodes 2 --output /tmp/tasks.md   # quick

For every task id registered by an installed plugin (`acrl envs`):

- tasks with an action constraint: a random policy runs the plain task; at each visited
  state, `--actions` uniform random actions in the action box are checked with one batched
  `violation` call. Reported: the mean feasible fraction over states (and its 10th and
  90th percentiles), the action dimension and the horizon. This is the acceptance rate of
  a uniform proposal, the number that decides how often an unconstrained policy's actions
  need a projection or a rejection.
- tasks with a cost (`info["cost"]`, the velocity tasks): the summed cost of random-policy
  episodes against the usual limit of 25.
"""

from __future__ import annotations

import argparse
import os
import platform
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone

import gymnasium as gym
import numpy as np

import acrl_wrappers as acrl
from acrl_wrappers.plugins import default_host


@dataclass
class Args:
    """Command-line arguments."""

    states: int = 1000
    """states visited by the random policy per constrained task"""
    actions: int = 200
    """uniform random actions checked per state"""
    episodes: int = 5
    """random-policy episodes per cost task"""
    seed: int = 0
    """seed of policies and actions"""
    output: str = os.path.join(os.path.dirname(__file__), "results", "tasks.md")
    """where to write the markdown tables"""


def feasible_fractions(env_id: str, constraint: acrl.Constraint, args: Args) -> np.ndarray:
    """Fraction of uniform random actions that are feasible, at each visited state."""
    env = gym.make(env_id, enforce="none")  # states a raw random policy visits
    rng = np.random.default_rng(args.seed)
    env.action_space.seed(args.seed)
    obs, _ = env.reset(seed=args.seed)
    low, high = env.action_space.low, env.action_space.high
    out = np.empty(args.states)
    for t in range(args.states):
        candidates = rng.uniform(low, high, size=(args.actions, constraint.dim))
        state = obs if constraint.obs_dim else None
        out[t] = np.mean(constraint.contains(candidates, state))
        obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
        if terminated or truncated:
            obs, _ = env.reset()
    env.close()
    return out


def episode_costs(env_id: str, args: Args) -> np.ndarray:
    """Summed ``info["cost"]`` of random-policy episodes."""
    env = gym.make(env_id)
    env.action_space.seed(args.seed)
    costs = []
    for episode in range(args.episodes):
        env.reset(seed=args.seed + episode)
        total, done = 0.0, False
        while not done:
            _, _, terminated, truncated, info = env.step(env.action_space.sample())
            total += info.get("cost", 0.0)
            done = terminated or truncated
        costs.append(total)
    env.close()
    return np.asarray(costs)


def main() -> None:
    """Measure every registered task, print and write the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    args = Args(**vars(parser.parse_args()))
    warnings.filterwarnings("ignore")  # the v4 envs' deprecation notes
    acrl.load_plugins()
    entries = list(default_host().registry("env"))
    lines = [
        "# Registered tasks: how hard is each constraint?",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, gymnasium {gym.__version__}, acrl-wrappers "
        f"{acrl.__version__}. Arguments: {vars(args)}.",
        "",
        "## Action-constrained tasks",
        "",
        "Feasible fraction of uniform random actions at states a random policy visits "
        f"({args.states} states x {args.actions} actions per task).",
        "",
        "| task | constraint | plugin | action dim | horizon | feasible (mean) | p10 | p90 |",
        "|---|---|---|---|---|---|---|---|",
    ]
    cost_rows = []
    for entry in entries:
        spec = entry.options.get("constraint")
        steps = entry.options.get("max_episode_steps")
        if spec is None:
            cost_rows.append(entry)
            continue
        c = acrl.make_constraint(spec)
        frac = feasible_fractions(entry.name, c, args)
        name = spec if isinstance(spec, str) else spec.get("name")
        lines.append(
            f"| {entry.name} | {name} | {entry.plugin} | {c.dim} | {steps} | "
            f"{frac.mean():.3f} | {np.percentile(frac, 10):.3f} | {np.percentile(frac, 90):.3f} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "## Cost tasks (CMDP)",
        "",
        f"Summed `info['cost']` of {args.episodes} random-policy episodes; the usual limit is 25.",
        "",
        "| task | plugin | horizon | episode cost (mean) | min | max | summary |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in cost_rows:
        costs = episode_costs(entry.name, args)
        lines.append(
            f"| {entry.name} | {entry.plugin} | {entry.options.get('max_episode_steps')} | "
            f"{costs.mean():.1f} | {costs.min():.0f} | {costs.max():.0f} | {entry.summary} |"
        )
        print(lines[-1], flush=True)
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
