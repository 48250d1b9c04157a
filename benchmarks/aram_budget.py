"""ARAM's fallback projections and valid-action rate as training goes on (budget vs method).

Docs: packages/acrl-policies/README.md, section "ARAM and acceptance-rejection". Run:

    python benchmarks/aram_budget.py            # HalfCheetahO20, 40,000 steps: ~25 min, 1 core
    python benchmarks/aram_budget.py --task ACRL/ReacherL2-v0 --steps 20000 --chunk 2000

One ARAM run with the `aram-paper` suite's settings (MLPs [128, 128], batch 128, learning
starts 1000, entropy coefficient tuned from 0.1 towards -|A| + log(feasible share), M = 100,
kappa 0.2, the automatic reward offset), trained in chunks of `--chunk` steps. After each
chunk: the fallback projections ARAM solved during the chunk, and one evaluation episode
(seed 1000) deployed by acceptance-rejection at preference (0.5, 0.5), with the
valid-action rate the paper's way (the feasible share of 100 policy samples per state).
Writes `benchmarks/results/aram-budget-<task>.md` and a `.jsonl` of the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch

import acrl_wrappers as acrl
from acrl_policies import ARAM
from acrl_policies.arm import first_feasible

RESULTS = os.path.join(os.path.dirname(__file__), "results")
SAMPLES_PER_STATE = 100


@dataclass
class Args:
    """Command-line arguments."""

    task: str = "ACRL/HalfCheetahO20-v0"
    steps: int = 40_000
    chunk: int = 5000
    seed: int = 0


def parse_args() -> Args:
    """The command line as :class:`Args`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    return Args(**vars(parser.parse_args()))


def evaluate(model: ARAM, env: gym.Env) -> tuple[float, float]:
    """(valid-action rate, return) of one acceptance-rejection episode."""
    c = model.constraint
    obs, _ = env.reset(seed=1000)
    rates, ret, done = [], 0.0, False
    while not done:
        scaled = model.propose(obs[None], SAMPLES_PER_STATE).reshape(-1, c.dim)
        samples = model.policy.unscale_action(scaled).reshape(1, SAMPLES_PER_STATE, c.dim)
        _, violation = first_feasible(c, samples, obs[None].astype(np.float64))
        rates.append(float(np.mean(violation <= c.tol)))
        action, _ = model.predict(obs)
        obs, reward, terminated, truncated, _ = env.step(action)
        ret += float(reward)
        done = terminated or truncated
    return float(np.mean(rates)), ret


def main() -> None:
    """Train in chunks and write the table."""
    args = parse_args()
    warnings.filterwarnings("ignore", category=UserWarning)
    torch.set_num_threads(1)
    acrl.load_plugins()
    model = ARAM(
        "MlpPolicy",
        gym.make(args.task),
        learning_starts=1000,
        batch_size=128,
        buffer_size=100_000,
        policy_kwargs={"net_arch": [128, 128]},
        max_proposals=100,
        kappa=0.2,
        ent_coef="auto_0.1",
        seed=args.seed,
        verbose=0,
    )
    env = gym.make(args.task)
    rows, before, start = [], 0, time.perf_counter()
    for k in range(args.steps // args.chunk):
        model.learn(args.chunk, reset_num_timesteps=k == 0)
        solved = model.safety_net.projections
        valid, ret = evaluate(model, env)
        rows.append(
            {
                "steps": args.chunk * (k + 1),
                "projections_in_chunk": solved - before,
                "projections_so_far": solved,
                "valid_rate": round(valid, 3),
                "eval_return": round(ret, 1),
                "reward_offset": round(model.reward_calibration.transform.offset, 3),
                "minutes": round((time.perf_counter() - start) / 60, 1),
            }
        )
        before = solved
        print(json.dumps(rows[-1]), flush=True)
    write(args, rows)


def write(args: Args, rows: list[dict[str, float]]) -> None:
    """The markdown table and the jsonl rows."""
    name = f"aram-budget-{args.task.removeprefix('ACRL/').lower()}"
    lines = [
        f"# ARAM on {args.task}: fallback projections and valid-action rate over training",
        "",
        f"Command: `python benchmarks/aram_budget.py --task {args.task} --steps {args.steps} "
        f"--chunk {args.chunk} --seed {args.seed}`; settings in the script's docstring.",
        "",
        "| env steps | projections in the chunk | projections so far (per 1k steps) "
        "| valid-action rate | eval return | reward offset |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        per_1k = 1000 * r["projections_so_far"] / r["steps"]
        lines.append(
            f"| {r['steps']} | {r['projections_in_chunk']} | {r['projections_so_far']} "
            f"({per_1k:.1f}) | {r['valid_rate']:.3f} | {r['eval_return']:.1f} | "
            f"{r['reward_offset']:.3f} |"
        )
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")
    with open(os.path.join(RESULTS, f"{name}.jsonl"), "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in rows)
    print(f"wrote {os.path.join(RESULTS, name)}.md")


if __name__ == "__main__":
    main()
