"""ARAM's training throughput next to stock SAC + ProjectAction (SPre+), measured side by side.

Docs: packages/acrl-policies/README.md, section "ARAM and acceptance-rejection". Run:

    python benchmarks/aram_throughput.py          # writes benchmarks/results/aram-throughput.md
    python benchmarks/aram_throughput.py --rounds 2 --chunk 200 --output /tmp/t.md  # smoke

For each task, the models are built with the same settings (the `aram-paper` suite's:
MLPs [128, 128], batch 128, entropy coefficient tuned from 0.1, one gradient step per env
step; ARAM with M = 100 proposals, kappa 0.2, 4 preferences per update; SAC on
`enforce="project", penalty=1.0`), warmed past `learning_starts`, then trained in
alternating chunks of `--chunk` steps (ARAM, SAC, ARAM, ...) for `--rounds` rounds on one
torch thread, so that a busy machine slows both alike. Steps/s = chunk steps / summed
wall-clock of `learn`; steps per CPU-second = chunk steps / summed CPU time of this process
during `learn` (what a shared machine's other jobs do not change); the ratios are ARAM's
over SAC's (target >= 0.9). A third model, the same SAC with its Adam optimizers on torch's
fused kernel (ARAM's default), gives the like-for-like ratio.
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
import torch
from stable_baselines3 import SAC

import acrl_wrappers as acrl
from acrl_policies import ARAM
from acrl_policies.common.optimizers import fused_adam

RESULTS = os.path.join(os.path.dirname(__file__), "results")
TASKS = ("ACRL/ReacherL2-v0", "ACRL/HalfCheetahO20-v0", "ACRL/BSS5z-v0")
COMMON = {
    "learning_starts": 1000,
    "batch_size": 128,
    "buffer_size": 100_000,
    "ent_coef": "auto_0.1",
    "policy_kwargs": {"net_arch": [128, 128]},
    "verbose": 0,
}


@dataclass
class Args:
    """Command-line arguments."""

    rounds: int = 6
    chunk: int = 500
    output: str = os.path.join(RESULTS, "aram-throughput.md")


def parse_args() -> Args:
    """The command line as :class:`Args`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=Args.rounds)
    parser.add_argument("--chunk", type=int, default=Args.chunk)
    parser.add_argument("--output", default=Args.output)
    return Args(**vars(parser.parse_args()))


def fused_sac(task: str, seed: int) -> SAC:
    """Stock SAC + ProjectAction with every Adam on the fused kernel, as ARAM's are."""
    policy_kwargs = {**COMMON["policy_kwargs"], "optimizer_kwargs": {"fused": True}}
    common = {**COMMON, "policy_kwargs": policy_kwargs}
    sac = SAC("MlpPolicy", gym.make(task, enforce="project", penalty=1.0), seed=seed, **common)
    sac.ent_coef_optimizer = fused_adam([sac.log_ent_coef], sac.lr_schedule(1))
    return sac


def models(task: str, seed: int) -> dict[str, object]:
    """ARAM, stock SAC + ProjectAction and the same SAC on fused Adam, same settings."""
    aram = ARAM("MlpPolicy", gym.make(task), max_proposals=100, kappa=0.2, seed=seed, **COMMON)
    sac = SAC("MlpPolicy", gym.make(task, enforce="project", penalty=1.0), seed=seed, **COMMON)
    return {"ARAM": aram, "SAC + ProjectAction": sac, "fused": fused_sac(task, seed)}


def side_by_side(task: str, args: Args) -> dict[str, tuple[float, float]]:
    """(steps per wall-clock second, steps per CPU-second) of each model, alternating chunks."""
    built = models(task, seed=0)
    for model in built.values():
        model.learn(COMMON["learning_starts"] + args.chunk)  # past the warm-up, compiled paths
    wall = dict.fromkeys(built, 0.0)
    cpu = dict.fromkeys(built, 0.0)
    for _ in range(args.rounds):
        for name, model in built.items():
            start, start_cpu = time.perf_counter(), time.process_time()
            model.learn(args.chunk, reset_num_timesteps=False)
            wall[name] += time.perf_counter() - start
            cpu[name] += time.process_time() - start_cpu
    steps = args.rounds * args.chunk
    return {name: (steps / wall[name], steps / cpu[name]) for name in built}


def main() -> None:
    """Measure every task and write the table."""
    args = parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(1)
    acrl.load_plugins()
    started = time.perf_counter()
    rows = []
    for task in TASKS:
        (aram, aram_cpu), (sac, sac_cpu), (_, fused_cpu) = side_by_side(task, args).values()
        rows.append(
            f"| {task.removeprefix('ACRL/')} | {aram:.0f} | {sac:.0f} | {aram / sac:.2f} | "
            f"{aram_cpu:.0f} | {sac_cpu:.0f} | {aram_cpu / sac_cpu:.2f} | {fused_cpu:.0f} | "
            f"{aram_cpu / fused_cpu:.2f} |"
        )
        print(rows[-1], flush=True)
    minutes = (time.perf_counter() - started) / 60
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = "\n".join(
        [
            "# ARAM training throughput vs SAC + ProjectAction (side by side)",
            "",
            f"Run {stamp} on {os.cpu_count()} CPU cores (torch on 1 thread), Python "
            f"{platform.python_version()}, torch {torch.__version__}. Command: "
            f"`python benchmarks/aram_throughput.py --rounds {args.rounds} --chunk "
            f"{args.chunk}`; {minutes:.1f} min. Method: see the module docstring "
            "(alternating chunks after the warm-up, the `aram-paper` suite's settings).",
            "",
            "| task | ARAM steps/s | SAC + ProjectAction steps/s | ratio | ARAM steps / CPU-s "
            "| SAC + ProjectAction steps / CPU-s | CPU ratio (target >= 0.9) "
            "| SAC on fused Adam steps / CPU-s | CPU ratio, like for like |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            "ARAM's Adam optimizers run on torch's fused kernel by default "
            "(`acrl_policies.common.optimizers`); stock SAC uses SB3's default, torch's "
            "per-tensor loop. The last two columns give SAC the same fused Adam: their ratio "
            "is the cost of ARAM's own work (M proposals per step, self-loop batches, the "
            "Q-Pensieve maximum over preferences and snapshots).",
            "",
        ]
    )
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as fh:
        fh.write(text)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
