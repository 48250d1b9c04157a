"""Per-step cost of the enforcement wrappers, and SB3 training throughput through them.

Docs: README.md, section "Benchmarks". Run:

    python benchmarks/wrapper_overhead.py      # writes benchmarks/results/wrapper_overhead.md
    python benchmarks/wrapper_overhead.py --steps 5000 --sac-steps 300 --ppo-steps 2048   # quick
    python benchmarks/wrapper_overhead.py --parts 3 --output /tmp/w.md   # vector envs only

Part 1 times `env.step` of the raw env and of each wrapper on the same env, in
alternating blocks within one run, and reports microseconds per step (of the fastest
block, the one least disturbed by other work on a shared machine) and the ratio to the
raw env. Paths: check-only (ConstraintMonitor without distances), accepted actions
(feasible proposals through ProjectAction / RejectAction / AutoMDP), projected actions
(infeasible proposals through ProjectAction) and self-loops (infeasible proposals through
AutoMDP, which do not step the simulator). Part 2 trains stock SB3 SAC and PPO with and
without each wrapper and reports environment steps per second (median of rounds that
alternate between the configurations). Part 3 steps vector envs of 16 and 64 Reacher-v5
sub-envs (Gymnasium's SyncVectorEnv and SB3's DummyVecEnv) raw, through the batched vector
wrapper (``acrl.wrap(vector_env, ...)``: one check for all sub-envs) and through one
ProjectAction per sub-env, side by side in alternating blocks, on the accepted path.

Targets (issue "Enforcement wrappers"): the check-only and accepted paths add <= 10 % to
env.step; SAC trains through AutoMDP at >= 0.95 x its unwrapped throughput. Issue 18: the
vector wrapper's accepted path adds <= 5 % to the raw vector step and costs >= 3x less
than the same number of per-env wrappers.
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
from stable_baselines3.common.vec_env import DummyVecEnv

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
    vector_steps: int = 1200
    """vector steps per configuration in part 3 (split into alternating blocks)"""
    parts: str = "1,2,3"
    """which parts to run (comma-separated)"""
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


VECTOR_SIZES = (16, 64)


def vector_env(api: str, n: int, wrapping: str) -> object:
    """Reacher-v5 x n: raw, with the batched vector wrapper, or with per-env wrappers."""
    c = acrl.make_constraint(TASKS["Reacher-v5"])
    per_env = wrapping == "per-env"
    if api == "gymnasium":
        wrappers = [lambda e: acrl.ProjectAction(e, c)] if per_env else None
        env = gym.make_vec("Reacher-v5", num_envs=n, vectorization_mode="sync", wrappers=wrappers)
    else:
        make = (lambda: acrl.ProjectAction(gym.make("Reacher-v5"), c)) if per_env else None
        env = DummyVecEnv([make or (lambda: gym.make("Reacher-v5"))] * n)
    return acrl.wrap(env, c) if wrapping == "vector" else env


def sub_envs(env: object, api: str, wrapping: str) -> list[object]:
    """The env objects whose ``step`` simulates: beneath a per-env wrapper, else the sub-envs."""
    inner = env.unwrapped.envs if api == "gymnasium" else getattr(env, "venv", env).envs  # type: ignore[attr-defined]
    return [e.env if wrapping == "per-env" else e for e in inner]


class SimulationClock:
    """Accumulates the CPU time spent inside the sub-envs' own ``step`` (the simulation)."""

    def __init__(self, envs: list[object]) -> None:
        self.seconds = 0.0
        for e in envs:
            step = e.step  # type: ignore[attr-defined]

            def timed(action, step=step):
                start = time.process_time()
                out = step(action)
                self.seconds += time.process_time() - start
                return out

            e.step = timed  # type: ignore[attr-defined]


def time_vector_block(
    env: object, actions: np.ndarray, clock: SimulationClock
) -> tuple[float, float]:
    """CPU seconds for stepping through ``actions``: in all, and outside the sub-envs' steps.

    The second figure is the vector env's and the wrappers' own work. CPU time, not wall
    time: on a shared machine the process is descheduled for whole milliseconds, which wall
    time would charge to whichever configuration ran then; and the simulation, whose time
    varies most, is left out of the second figure.
    """
    clock.seconds = 0.0
    start = time.process_time()
    for a in actions:
        env.step(a)  # type: ignore[attr-defined]
    total = time.process_time() - start
    return total, total - clock.seconds


def part3(api: str, n: int, args: Args, rng: np.random.Generator) -> dict[str, float]:
    """Per vector step: total CPU us and the us outside the simulation, per configuration."""
    configs = ("raw", "vector", "per-env")
    envs = {w: vector_env(api, n, w) for w in configs}
    clocks = {w: SimulationClock(sub_envs(env, api, w)) for w, env in envs.items()}
    for env in envs.values():
        env.reset(seed=args.seed) if api == "gymnasium" else env.reset()  # type: ignore[attr-defined]
    blocks = 200
    per_block = max(args.vector_steps // blocks, 1)
    actions = actions_for("feasible", 2, blocks * per_block * n, rng).reshape(-1, n, 2)
    totals: dict[str, list[float]] = {w: [] for w in configs}
    outside: dict[str, list[float]] = {w: [] for w in configs}
    for b in range(blocks):
        chunk = actions[b * per_block : (b + 1) * per_block]
        for w, env in envs.items():
            total, rest = time_vector_block(env, chunk, clocks[w])
            totals[w].append(total / per_block)
            outside[w].append(rest / per_block)
    out = {w: min(t) * 1e6 for w, t in totals.items()}
    out.update({f"{w} outside": min(t) * 1e6 for w, t in outside.items()})
    return out


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


def part1_lines(args: Args, rng: np.random.Generator) -> list[str]:
    """The per-step table of part 1."""
    lines = [
        "",
        f"## Per-step cost (fastest of {args.blocks} alternating blocks)",
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
    ]
    return lines


def part2_lines(args: Args) -> list[str]:
    """The training-throughput table of part 2."""
    lines = [
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
    return lines


def part3_lines(args: Args, rng: np.random.Generator) -> list[str]:
    """The vector-env table of part 3."""
    lines = [
        "",
        "## Vector envs: one batched wrapper vs one wrapper per sub-env (accepted path)",
        "",
        "Reacher-v5 sub-envs with the ball constraint, actions uniform in [-0.1, 0.1] (all",
        "feasible), side by side in 200 alternating blocks. CPU time of this process (time the",
        "shared machine gave to other processes is not counted). *Step* is the fastest block's",
        "CPU microseconds per vector step. *Overhead* is the least CPU time per step (over the",
        "blocks) spent outside the sub-envs' own simulation step, minus the raw vector env's",
        "least: the wrapper's work (for per-env wrappers including SyncVectorEnv /",
        "DummyVecEnv merging their info keys per sub-env); leaving the simulation out removes",
        "most of the noise, and the least block is the one other processes disturbed least",
        "(as in part 1). Percentages are of the raw step; the last column is per-env",
        "overhead / batched overhead.",
        "",
        "| vector env | sub-envs | raw step | batched: step | per-env: step "
        "| batched overhead | per-env overhead | per-env / batched |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for api in ("gymnasium", "sb3"):
        name = "Gymnasium SyncVectorEnv" if api == "gymnasium" else "SB3 DummyVecEnv"
        for n in VECTOR_SIZES:
            us = part3(api, n, args, rng)
            batched = us["vector outside"] - us["raw outside"]
            per_env = us["per-env outside"] - us["raw outside"]
            ratio = per_env / batched if batched > 0 else float("inf")
            lines.append(
                f"| {name} | {n} | {us['raw']:.0f} | {us['vector']:.0f} | {us['per-env']:.0f} "
                f"| {batched:.1f} us ({100 * batched / us['raw']:.1f} %) "
                f"| {per_env:.1f} us ({100 * per_env / us['raw']:.1f} %) | {ratio:.1f}x |"
            )
            print(lines[-1], flush=True)
    return lines


def main() -> None:
    """Run the chosen parts, print and write the tables."""
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
        "The machine is shared (load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start): blocks alternate "
        "between configurations and the fastest block is reported, so drift hits all alike.",
    ]
    parts = {int(p) for p in args.parts.split(",") if p.strip()}
    if 1 in parts:
        lines += part1_lines(args, rng)
    if 2 in parts:
        lines += part2_lines(args)
    if 3 in parts:
        lines += part3_lines(args, rng)
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
