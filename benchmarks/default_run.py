"""Which run should `acrl train` make without arguments? Candidates side by side, 3 seeds.

Docs: README.md, "Two commands". Run:

    python benchmarks/default_run.py            # writes benchmarks/results/default-run.md
    python benchmarks/default_run.py --quick --output /tmp/d.md   # seconds, for the tests

On two cores, one process per candidate halves the wall clock; then merge and report:

    python benchmarks/default_run.py --candidates sac-automdp --output bench/a.md &
    python benchmarks/default_run.py --candidates sac-project --output bench/p.md
    wait; cat bench/a.jsonl bench/p.jsonl > benchmarks/results/default-run.jsonl
    python benchmarks/default_run.py --report_only

Each candidate is what `acrl train` would run on `ACRL/ReacherL2-v0` (a1^2 + a2^2 <= 0.05)
for `--steps` env steps, one torch thread, then `acrl evaluate` on 10 episodes (its
default deployment: acceptance-rejection for AutoMDP runs, the mean action otherwise):

- `sac-automdp`: stock SAC under AutoMDP (kappa 0.2, reward offset +1), ARAM's augmented MDP;
- `sac-project`: stock SAC under ProjectAction (SPre, Kasaura et al., arXiv:2304.08743);
- `sac-project-penalty0.3`, `sac-project-penalty1`: the same with the reward minus
  0.3 or 1.0 times the projection distance (teaches the policy to propose feasible actions).

The yardstick is the return of uniformly random *feasible* actions (samples of the
constraint) on the same evaluation episodes: a default that only buys feasibility scores
about the same. Reported per candidate, mean +- std over seeds: training wall clock,
the training report's return (last 10 episodes), the evaluation return, executed
violations, and the evaluation's valid-action rate.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any

import gymnasium as gym
import numpy as np

CANDIDATES: dict[str, dict[str, Any]] = {
    "sac-automdp": {"enforce": "automdp", "wrapper_kwargs": {"kappa": 0.2, "reward_offset": 1.0}},
    "sac-project": {"enforce": "project", "wrapper_kwargs": {}},
    "sac-project-penalty0.3": {"enforce": "project", "wrapper_kwargs": {"penalty": 0.3}},
    "sac-project-penalty1": {"enforce": "project", "wrapper_kwargs": {"penalty": 1.0}},
}
ENV = "ACRL/ReacherL2-v0"


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--candidates", default=",".join(CANDIDATES), help="comma-separated names")
    p.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 per candidate")
    p.add_argument("--steps", type=int, default=10_000, help="env steps per training run")
    p.add_argument("--episodes", type=int, default=10, help="evaluation episodes")
    p.add_argument("--quick", action="store_true", help="tiny budgets (tests)")
    p.add_argument("--report_only", action="store_true", help="rebuild the table from jsonl")
    p.add_argument("--output", default=os.path.join(here, "results", "default-run.md"))
    return p.parse_args()


def random_feasible_return(episodes: int, seed: int = 10_000) -> float:
    """Mean task return of uniform feasible actions on the evaluation episodes."""
    import acrl_wrappers as acrl

    acrl.load_plugins()
    env = gym.make(ENV, enforce="none")
    c = acrl.find_constraint(env)
    rng = np.random.default_rng(0)
    returns = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            action = c.sample(None, 1, rng=rng)[0]
            _, reward, terminated, truncated, _ = env.step(action.astype(np.float32))
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return float(np.mean(returns))


def run_one(name: str, seed: int, args: argparse.Namespace) -> dict[str, Any]:
    """Train and evaluate one candidate at one seed, as `acrl train` + `acrl evaluate` do."""
    import torch

    from acrl_bench import DEFAULT_RUN, evaluate_run, train

    torch.set_num_threads(1)
    config = replace(DEFAULT_RUN, seed=seed, steps=args.steps, **CANDIDATES[name])
    start = time.perf_counter()
    report = train(config, log_root=tempfile.mkdtemp(prefix="default-run-"), progress_bar=False)
    seconds = time.perf_counter() - start
    result = evaluate_run(report.run_dir, episodes=args.episodes)
    summary = report.summary()
    return {
        "candidate": name,
        "seed": seed,
        "steps": args.steps,
        "train_seconds": seconds,
        "train_return": summary.get("return_last10"),
        "eval_return": result["return_mean"],
        "executed_violations": result["executed_violations"],
        "executed_steps": result["executed_steps"],
        "valid_action_rate": result["valid_action_rate"],
        "deploy": result["deploy"],
    }


def _mean_std(values: list[Any]) -> str:
    known = [v for v in values if v is not None]
    return f"{np.mean(known):.2f} ± {np.std(known):.2f}" if known else "-"


def report(rows: list[dict[str, Any]], baseline: float, args: argparse.Namespace) -> str:
    """The markdown table, one row per candidate."""
    lines = [
        "# The default `acrl train` run: candidates on ACRL/ReacherL2-v0",
        "",
        f"Written by `python benchmarks/default_run.py` on {platform.processor() or 'x86_64'}, "
        f"{os.cpu_count()} cores, {datetime.now(timezone.utc):%Y-%m-%d}. "
        f"Budget {rows[0]['steps'] if rows else args.steps} env steps per run, "
        f"{args.episodes} evaluation episodes; mean ± std over seeds.",
        "",
        f"Uniformly random feasible actions score **{baseline:.2f}** on the evaluation episodes.",
        "`acrl train` without arguments runs `sac-project-penalty1` (`acrl_bench.DEFAULT_RUN`): "
        "the best evaluation return with the smallest spread, and the policy proposes feasible "
        "actions two thirds of the time. The shipped table ran two candidates at a time, one "
        "thread each, on this project's 2-core machine.",
        "",
        "| candidate | seeds | train wall clock (s) | train return (last 10 episodes) | "
        "eval return | eval deployment | valid-action rate | executed violations |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in dict.fromkeys(r["candidate"] for r in rows):
        got = [r for r in rows if r["candidate"] == name]
        lines.append(
            f"| {name} | {len(got)} | {_mean_std([r['train_seconds'] for r in got])} | "
            f"{_mean_std([r['train_return'] for r in got])} | "
            f"{_mean_std([r['eval_return'] for r in got])} | {got[0]['deploy']} | "
            f"{_mean_std([r['valid_action_rate'] for r in got])} | "
            f"{sum(r['executed_violations'] for r in got)} of "
            f"{sum(r['executed_steps'] for r in got)} |"
        )
    lines += ["", "Per seed (eval return):", ""]
    for r in rows:
        lines.append(f"- {r['candidate']} seed {r['seed']}: {r['eval_return']:.2f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    """Run the candidates (or rebuild the report) and write the table."""
    args = parse_args()
    if args.quick:
        args.seeds, args.steps, args.episodes = 1, 300, 1
    jsonl = os.path.splitext(args.output)[0] + ".jsonl"
    if args.report_only:
        with open(jsonl) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    else:
        rows = []
        for name in args.candidates.split(","):
            if name not in CANDIDATES:
                raise SystemExit(f"unknown candidate {name!r}; one of {sorted(CANDIDATES)}")
            for seed in range(args.seeds):
                rows.append(run_one(name, seed, args))
                print(json.dumps(rows[-1]), flush=True)
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        with open(jsonl, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    text = report(rows, random_feasible_return(args.episodes), args)
    with open(args.output, "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
