"""Per-step cost of the enforcement wrappers, and SB3 training throughput through them.

Docs: README.md, section "Benchmarks". Run:

    python benchmarks/wrapper_overhead.py      # writes benchmarks/results/wrapper_overhead.md
    python benchmarks/wrapper_overhead.py --steps 5000 --sac-steps 300 --ppo-steps 2048   # quick

Part 1 times `env.step` of the raw env and of each wrapper on the same env, in
alternating blocks within one run, and reports microseconds per step (of the fastest
block, the one least disturbed by other work on a shared machine) and the ratio to the
raw env. Paths: check-only (ConstraintMonitor without distances), accepted actions
(feasible proposals through ProjectAction / RejectAction / AutoMDP), projected actions
(infeasible proposals through ProjectAction) and self-loops (infeasible proposals through
AutoMDP, which do not step the simulator). Part 2 trains stock SB3 SAC and PPO with and
without each wrapper and reports environment steps per second (median of rounds that
alternate between the configurations).

Targets (issue "Enforcement wrappers"): the check-only and accepted paths add <= 10 % to
env.step; SAC trains through AutoMDP at >= 0.95 x its unwrapped throughput.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from dataclasses import dataclass
from datetime import datetime, timezone

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from stable_baselines3 import PPO, SAC

import acrl_wrappers as acrl


@dataclass
class Args:
    """Command-line arguments."""

    steps: int = 20_000
    """env steps per configuration in part 1 (split into alternating blocks)"""
    blocks: int = 40
    """alternating blocks per configuration in part 1"""
    sac_steps: int = 1500
    """SAC steps per configuration in part 2 (about 80 steps/s on 2 cores)"""
    ppo_steps: int = 8192
    """PPO steps per configuration in part 2"""
    seed: int = 0
    """seed of actions and agents"""
    output: str = os.path.join(os.path.dirname(__file__), "results", "wrapper_overhead.md")
    """where to write the markdown tables"""


TASKS = {
    "Reacher-v5": {"name": "ball", "bound": 0.05, "dim": 2},
    "HalfCheetah-v5": {"name": "power", "bound": 20.0, "weight_index": "11:17"},
}
# (label, wrapper factory or None for the raw env, which actions: "feasible" or "infeasible")
PATHS = [
    ("raw env.step", None, "feasible"),
    (
        "check only (ConstraintMonitor)",
        lambda e, c: acrl.ConstraintMonitor(e, c, measure_distance=False),
        "feasible",
    ),
    ("accepted: ProjectAction", lambda e, c: acrl.ProjectAction(e, c), "feasible"),
    ("accepted: RejectAction", lambda e, c: acrl.RejectAction(e, c), "feasible"),
    ("accepted: AutoMDP", lambda e, c: acrl.AutoMDP(e, c), "feasible"),
    ("projected: ProjectAction", lambda e, c: acrl.ProjectAction(e, c), "infeasible"),
    ("self-loop: AutoMDP", lambda e, c: acrl.AutoMDP(e, c, max_rejections=10**9), "infeasible"),
]


def actions_for(kind: str, dim: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Small actions (feasible for both tasks' constraints in practice) or full-range ones."""
    scale = 0.1 if kind == "feasible" else 1.0
    return rng.uniform(-scale, scale, size=(n, dim)).astype(np.float32)


def time_block(env: gym.Env, actions: np.ndarray) -> float:
    """Seconds for stepping through ``actions`` (resetting at episode ends, not timed)."""
    total = 0.0
    for a in actions:
        start = time.perf_counter()
        _, _, terminated, truncated, _ = env.step(a)
        total += time.perf_counter() - start
        if terminated or truncated:
            env.reset()
    return total


def part1(
    env_id: str, args: Args, rng: np.random.Generator
) -> list[tuple[str, float, float, float]]:
    """Rows (path, us/step, ratio to raw, fraction of actions that were infeasible)."""
    constraint = acrl.make_constraint(TASKS[env_id])
    envs = []
    for _label, factory, kind in PATHS:
        env = gym.make(env_id)
        env = factory(env, constraint) if factory else env
        env.reset(seed=args.seed)
        envs.append((env, actions_for(kind, constraint.dim, args.steps, rng)))
    per_block = args.steps // args.blocks
    times = np.zeros((len(PATHS), args.blocks))
    for b in range(args.blocks):  # alternate so drift hits every configuration alike
        for i, (env, actions) in enumerate(envs):
            times[i, b] = time_block(env, actions[b * per_block : (b + 1) * per_block]) / per_block
    # The fastest block is the one least disturbed by other work on this (shared) VM, as
    # timeit reports; medians here drift by tens of percent between runs.
    us = np.min(times, axis=1) * 1e6
    rows = []
    for i, (label, _, kind) in enumerate(PATHS):
        acts = envs[i][1][: per_block * args.blocks]
        infeasible = (
            float(np.mean([not constraint.contains(a) for a in acts[:500]]))
            if constraint.obs_dim == 0
            else float("nan")
        )
        rows.append((label, us[i], us[i] / us[0], infeasible if kind == "infeasible" else 0.0))
    return rows


def make_model(algo: str, env_id: str, enforce: str | None, seed: int):
    """A stock SB3 model on the raw or wrapped env, warmed up (buffers, first updates)."""
    env = gym.make(env_id)
    if enforce:
        env = acrl.wrap(env, TASKS[env_id], enforce)
    if algo == "SAC":
        model = SAC("MlpPolicy", env, learning_starts=100, seed=seed)
        model.learn(200)
    else:
        model = PPO("MlpPolicy", env, n_steps=2048, seed=seed)
        model.learn(2048)
    return model


def throughputs(algo: str, env_id: str, steps: int, rounds: int, seed: int) -> dict:
    """Steps per second of each configuration, from rounds alternating between them.

    Each round trains every configuration for ``steps / rounds`` more steps, so drift in
    the machine's speed affects all of them alike; the median round is reported.
    """
    configs: list[str | None] = [None, "project", "reject", "automdp", "monitor"]
    models = {c: make_model(algo, env_id, c, seed) for c in configs}
    chunk = max(steps // rounds, 1)
    rates: dict[str | None, list[float]] = {c: [] for c in configs}
    for _ in range(rounds):
        for c, model in models.items():
            start = time.perf_counter()
            model.learn(chunk, reset_num_timesteps=False)
            rates[c].append(chunk / (time.perf_counter() - start))
    return {c: float(np.median(r)) for c, r in rates.items()}


def main() -> None:
    """Run both parts, print and write the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = Args(**vars(parser.parse_args()))
    rng = np.random.default_rng(args.seed)
    lines = [
        "# Enforcement wrapper overhead",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, gymnasium {gym.__version__}, "
        f"SB3 {stable_baselines3.__version__}, "
        f"torch {torch.__version__}, acrl-wrappers {acrl.__version__}. Arguments: {vars(args)}.",
        "",
        "## Per-step cost (fastest of 40 alternating blocks)",
        "",
        "| env | path | us / step | ratio to raw env.step |",
        "|---|---|---|---|",
    ]
    for env_id in TASKS:
        for label, us, ratio, _ in part1(env_id, args, rng):
            lines.append(f"| {env_id} | {label} | {us:.1f} | {ratio:.3f} |")
            print(lines[-1], flush=True)
    lines += [
        "",
        "Accepted paths use actions uniform in [-0.1, 0.1] (feasible for both constraints in",
        "these states); projected and self-loop paths use actions uniform in [-1, 1]",
        "(mostly infeasible; a feasible one there is simply executed).",
        "",
        "## Training throughput (env steps per second)",
        "",
        "| algorithm | env | unwrapped | "
        + " | ".join(["project", "reject", "automdp", "monitor"])
        + " | automdp / unwrapped |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for algo, steps, rounds in (("SAC", args.sac_steps, 6), ("PPO", args.ppo_steps, 4)):
        for env_id in TASKS:
            wrapped = throughputs(algo, env_id, steps, rounds, args.seed)
            base = wrapped[None]
            lines.append(
                f"| {algo} | {env_id} | {base:.0f} | "
                + " | ".join(
                    f"{wrapped[e]:.0f}" for e in ("project", "reject", "automdp", "monitor")
                )
                + f" | {wrapped['automdp'] / base:.3f} |"
            )
            print(lines[-1], flush=True)
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
