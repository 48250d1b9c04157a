"""Normalizing flows for action constraints: how accurate, how fast to train, how fast to run.

Docs: packages/acrl-policies/README.md, section "Flows". Run:

    python benchmarks/flows.py                          # ~80 min: 8 flows, writes results/flows.md
    python benchmarks/flows.py --reference PATH         # adds FlowPG's published flow code
                                                        # (PATH: a checkout of rlr-smu/flow-pg)
    python benchmarks/flows.py --only halfcheetah-o20   # one constraint
    python benchmarks/flows.py --reuse     # re-measures the flows kept in .flows/
    python benchmarks/flows.py --rl        # ~30 min: FlowPG, CVFlowSAC, SAC+projection on
                                           # ReacherL2, writes results/flows_rl.md
    python benchmarks/flows.py --quick --rl --output /tmp/flows.md   # a smoke run (a minute)

Part 1 trains a flow for each constraint (`reacher-l2`, `halfcheetah-o20`, `hopper-m10`,
`walker2d-m10`) with each method's defaults (`flowpg`: maximum likelihood on rejection
samples plus reverse KL 0.03; `cvflow`: reverse KL to exp(-violation / sigma) plus
forward KL), 6 spline coupling layers of width 256, on the condition distribution each
task declares (HalfCheetah U[-20, 20], Hopper and Walker2d U[-10, 10]). Reported, on that
distribution and on the states uniformly random actions visit on the task: accuracy
(flow outputs of uniform base samples that are feasible), recall (the papers' measure:
held-out feasible samples the inverse flow maps into the base box), coverage (feasible
samples where the flow's density is at least 10 % of the uniform density on the
condition's feasible set: what recall cannot see when a flow maps the box onto itself),
training CPU time, and the forward pass per action at batch 1 and batch 1000. One thread.
With `--reference`, FlowPG's own RealNvp and update step train on the same samples for
the same number of updates and are measured the same way.

Part 2 (`--rl`) trains FlowPG, CVFlowSAC (with the reacher flows of part 1) and stock SAC
behind `ProjectAction` on `ACRL/ReacherL2-v0` for `--rl-steps` steps each, then reports
the deterministic policy's return over 20 episodes, the fraction of executed actions that
needed a projection (in training and in evaluation) and the wall-clock.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone

import gymnasium as gym
import numpy as np
import stable_baselines3
import torch
from flowpg_reference import train_reference
from stable_baselines3 import SAC

import acrl_wrappers as acrl
from acrl_policies import CVFlowSAC, FlowPG
from acrl_policies.flows import (
    ConditionalRealNVP,
    ConditionDistribution,
    Conditioning,
    FlowCheckpoint,
    NumpyFlow,
    evaluate_flow,
    train_flow,
)
from acrl_policies.flows.visited import task_condition, visited_conditions
from acrl_wrappers.sb3 import ConstraintMetricsCallback

RESULTS = os.path.join(os.path.dirname(__file__), "results")

# each constraint's task: flows train on the conditions it declares (FlowPG, arXiv:2402.05149:
# HalfCheetah U[-20, 20]; Hopper and Walker2d U[-10, 10]) and are also measured on the
# states uniformly random (projected) actions visit there
TASKS = {
    "reacher-l2": "ACRL/ReacherL2-v0",
    "halfcheetah-o20": "ACRL/HalfCheetahO20-v0",
    "hopper-m10": "ACRL/HopperM10-v0",
    "walker2d-m10": "ACRL/Walker2dM10-v0",
}
VISITED_STEPS = 5_000


@dataclass
class Args:
    """Command-line arguments."""

    epochs: int = 8
    """evaluation points per flow (8 x 1000 updates: 415-575 CPU s per flow on a 2-core
    x86_64 VM, two flows training at once)"""
    steps_per_epoch: int = 1000
    """updates between evaluations"""
    samples: int = 200_000
    """FlowPG training samples"""
    rl: bool = False
    """run part 2 (RL on ACRL/ReacherL2-v0) instead of part 1 (`--quick`: both)"""
    reuse: bool = False
    """part 1: measure the flows kept in `flow_dir` instead of training them again"""
    rl_steps: int = 15_000
    """environment steps per RL method"""
    quick: bool = False
    """tiny budgets, for a smoke test"""
    seed: int = 0
    """seed of flows and agents"""
    reference: str = ""
    """part 1: also train FlowPG's published flow code (a checkout of rlr-smu/flow-pg)"""
    only: str = ""
    """part 1: comma-separated constraints to run (default: all four)"""
    output: str = ""
    """where to write the markdown table (default results/flows.md, results/flows_rl.md)"""
    flow_dir: str = os.path.join(os.path.dirname(__file__), ".flows")
    """where trained flow checkpoints are kept (part 2 reuses them)"""


def microseconds(fn, repeats: int) -> float:
    """Fastest of 20 rounds of `repeats` calls, in microseconds per call.

    This VM's timing varies between runs; the fastest round is the least disturbed.
    """
    fn()
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        best = min(best, (time.perf_counter() - start) / repeats)
    return best * 1e6


def inference_times(ckpt: FlowCheckpoint, repeats: int) -> dict[str, float]:
    """Forward pass per action: torch at batch 1 (and the numpy copy of a RealNVP), batch 1000."""
    flow, dim, c = ckpt.flow.eval(), ckpt.constraint.dim, len(ckpt.condition_indices)
    z1, y1 = torch.rand(1, dim), torch.randn(1, c) if c else None
    z1000, y1000 = torch.rand(1000, dim), torch.randn(1000, c) if c else None
    with torch.inference_mode():
        torch_1 = microseconds(lambda: flow.actions(z1, y1, check=False), repeats)
        torch_1000 = microseconds(
            lambda: flow.actions(z1000, y1000, check=False), max(1, repeats // 50)
        )
    numpy_1 = float("nan")
    if isinstance(flow, ConditionalRealNVP):
        fast = NumpyFlow(flow)
        z1_np, y1_np = z1.double().numpy(), None if y1 is None else y1.double().numpy()
        numpy_1 = microseconds(lambda: fast(z1_np, y1_np), repeats)
    return {"torch_b1_us": torch_1, "numpy_b1_us": numpy_1, "torch_b1000_us": torch_1000 / 1000}


def numpy_cell(us: float) -> str:
    """The numpy copy's time, or a dash for an architecture without one."""
    return "—" if np.isnan(us) else f"{us:.0f}"


def task_conditions(constraint: str) -> tuple[ConditionDistribution, str, np.ndarray | None]:
    """The task's condition distribution, where it came from, and states it visits."""
    cond = Conditioning(acrl.make_constraint(constraint))
    if not cond.dim:
        return ConditionDistribution(), "unconditional", None
    env = gym.make(TASKS[constraint])
    dist, source = task_condition(env, cond)
    visited = visited_conditions(env, cond, VISITED_STEPS, seed=1234)
    return dist, source, visited


def train_one(
    constraint: str, method: str, condition: ConditionDistribution, args: Args
) -> tuple[FlowCheckpoint, float]:
    """Train one flow with the library's defaults; returns it and the CPU seconds."""
    start = time.process_time()
    ckpt = train_flow(
        constraint,
        method=method,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        n_samples=args.samples,
        condition=condition.to_dict(),
        seed=args.seed,
        n_layers=2 if args.quick else 6,
        hidden=32 if args.quick else 256,
        eval_samples=2000 if args.quick else 20_000,
        progress_bar=not args.quick,
    )
    return ckpt, time.process_time() - start


def quality_cells(ckpt: FlowCheckpoint, visited: np.ndarray | None, n: int) -> str:
    """Accuracy, recall and coverage (%) on the task's distribution and on visited states."""
    uniform = evaluate_flow(ckpt, n=n, seed=7)
    cells = [uniform[k] for k in ("accuracy", "recall", "coverage")]
    if visited is not None:
        seen = evaluate_flow(ckpt, conditions=visited, n=n, seed=7)
        cells += [seen[k] for k in ("accuracy", "recall", "coverage")]
    else:
        cells += cells
    return " | ".join(f"{100 * v:.2f}" for v in cells)


def flow_tables(args: Args) -> list[str]:
    """Part 1: train every flow, return the markdown lines."""
    rows, details = [], []
    repeats = 20 if args.quick else 500
    n_eval = 2000 if args.quick else 20_000
    constraints = args.only.split(",") if args.only else list(TASKS)
    for constraint in constraints:
        dist, source, visited = task_conditions(constraint)
        methods = ["flowpg", "cvflow"] + (
            ["flowpg-reference"] if args.reference and visited is not None else []
        )
        for method in methods:
            path = os.path.join(args.flow_dir, f"{constraint}-{method}.flow")
            if method == "flowpg-reference":
                ckpt, seconds = train_reference(
                    args.reference,
                    acrl.make_constraint(constraint),
                    dist,
                    updates=args.epochs * args.steps_per_epoch,
                    n_samples=args.samples,
                    seed=args.seed,
                )
                speed = inference_times(ckpt, repeats)
            else:
                if args.reuse and os.path.exists(path):
                    ckpt = FlowCheckpoint.load(path)
                    seconds = ckpt.metrics[-1]["seconds"]
                else:
                    ckpt, seconds = train_one(constraint, method, dist, args)
                    ckpt.save(path)
                speed = inference_times(ckpt, repeats)
                details += [
                    "",
                    f"### {constraint}, {method} (conditions {source})",
                    "",
                    ckpt.metrics_table(),
                ]
            rows.append(
                f"| {constraint} | {method} | {quality_cells(ckpt, visited, n_eval)} | "
                f"{seconds:.0f} | {speed['torch_b1_us']:.0f} | "
                f"{numpy_cell(speed['numpy_b1_us'])} | {speed['torch_b1000_us']:.2f} |"
            )
            print(rows[-1], flush=True)
    return [
        "| constraint | method | accuracy % | recall % | coverage % | accuracy, visited % | "
        "recall, visited % | coverage, visited % | training CPU s | forward µs, batch 1 | "
        "batch 1, numpy copy | µs per action, batch 1000 |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows,
        "",
        "## Per-epoch metrics (the task's condition distribution)",
        *details,
    ]


def evaluate(model, env: gym.Env, episodes: int, seed: int) -> tuple[float, float]:
    """Mean return of the deterministic policy and the fraction of its actions projected."""
    returns, projected, steps = [], 0, 0
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        done, total = False, 0.0
        while not done:
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, info = env.step(action)
            projected += info["constraint"]["enforcement"] == "projected"
            steps += 1
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns)), projected / steps


def rl_table(args: Args) -> list[str]:
    """Part 2: FlowPG, CVFlowSAC and SAC + ProjectAction on ACRL/ReacherL2-v0."""
    acrl.load_plugins()
    rows = []
    for name in ("SAC + ProjectAction", "FlowPG", "CVFlowSAC"):
        # a fresh dict each time: SB3 edits policy_kwargs in place
        small = {"policy_kwargs": {"net_arch": [64, 64]}} if args.quick else {}
        env = gym.make("ACRL/ReacherL2-v0", enforce="project")
        metrics = ConstraintMetricsCallback()
        if name == "SAC + ProjectAction":
            model = SAC("MlpPolicy", env, seed=args.seed, **small)
        else:
            method = "flowpg" if name == "FlowPG" else "cvflow"
            path = os.path.join(args.flow_dir, f"reacher-l2-{method}.flow")
            if not os.path.exists(path):
                train_one("reacher-l2", method, ConditionDistribution(), args)[0].save(path)
            cls = FlowPG if name == "FlowPG" else CVFlowSAC
            model = cls("MlpPolicy", env, flow=path, seed=args.seed, **small)
        start = time.perf_counter()
        model.learn(args.rl_steps, callback=metrics, progress_bar=not args.quick)
        seconds = time.perf_counter() - start
        if name == "SAC + ProjectAction":
            train_projected = metrics.projections / metrics.steps
        else:
            train_projected = model.safety_net.projections / model.safety_net.proposals
        eval_env = gym.make("ACRL/ReacherL2-v0", enforce="project")
        ret, eval_projected = evaluate(model, eval_env, 5 if args.quick else 20, seed=1000)
        if name != "SAC + ProjectAction":  # the policy's own safety net acts before the env's
            before = model.safety_net.projections
            ret, _ = evaluate(model, eval_env, 5 if args.quick else 20, seed=1000)
            eval_projected = (model.safety_net.projections - before) / (
                50 * (5 if args.quick else 20)
            )
        rows.append(
            f"| {name} | {args.rl_steps} | {ret:.2f} | {train_projected:.3f} | "
            f"{eval_projected:.3f} | {seconds / 60:.1f} | {args.rl_steps / seconds:.0f} |"
        )
        print(rows[-1], flush=True)
    return [
        f"Budget: {args.rl_steps} environment steps per method, seed {args.seed}, SB3 "
        "defaults otherwise (FlowPG: the reference's DDPG settings). Return: deterministic "
        "policy, 20 episodes. Projected: fraction of executed actions that needed a "
        "projection (FlowPG and CVFlowSAC: by their own safety net; SAC: by ProjectAction).",
        "",
        "| method | steps | return | projected (training) | projected (evaluation) | "
        "minutes | steps/s |",
        "|---|---|---|---|---|---|---|",
        *rows,
    ]


def main() -> None:
    """Run the parts asked for, print and write the tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        if isinstance(default, bool):
            parser.add_argument(f"--{name.replace('_', '-')}", action="store_true")
        else:
            parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = Args(**vars(parser.parse_args()))
    if args.quick:
        args.epochs, args.steps_per_epoch, args.samples = 1, 20, 5000
        args.rl_steps = min(args.rl_steps, 300)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    os.makedirs(args.flow_dir, exist_ok=True)
    header = (
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU cores "
        f"(torch on 1 thread), Python {platform.python_version()}, torch {torch.__version__}, "
        f"stable-baselines3 {stable_baselines3.__version__}."
    )
    lines = []
    if not args.rl or args.quick:
        lines += [
            "# Flows: accuracy, training time, inference speed",
            "",
            f"{header} Command: `python benchmarks/flows.py"
            f"{' --reference PATH' if args.reference else ''}`; {args.epochs} epochs x "
            f"{args.steps_per_epoch} updates of batch 256, Adam 1e-3 cosine-decayed to 1e-5, "
            f"{args.samples} FlowPG samples. Speed: fastest of 20 rounds of calls.",
            "",
            *flow_tables(args),
        ]
    if args.rl:
        lines += [
            "# FlowPG and CV-Flow against projection on ACRL/ReacherL2-v0",
            "",
            f"{header} Command: `python benchmarks/flows.py --rl`.",
            "",
            *rl_table(args),
        ]
    default = "flows_rl.md" if args.rl and not args.quick else "flows.md"
    args.output = args.output or os.path.join(RESULTS, default)
    text = "\n".join(lines) + "\n"
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
