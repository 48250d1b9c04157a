"""ARAM vs SAC + ProjectAction (SPre+) vs SAC + AutoMDP on ACRL/ReacherL2-v0 and HalfCheetahO20-v0.

Docs: packages/acrl-policies/README.md, section "ARAM and acceptance-rejection". Run:

    python benchmarks/aram.py            # writes benchmarks/results/aram.md (~30-40 min, 1 core)
    python benchmarks/aram.py --quick --output /tmp/aram.md   # a smoke run (under a minute)

For every task, seed and method, one training run on one CPU thread, sequentially:

- ARAM: `acrl_policies.ARAM` (MOSAC, M = 100 proposals, kappa 0.2, Dirichlet preferences,
  4 preferences per update, self-loop mixing 0.2 x 0.99 per 10k steps; the automatic
  reward offset from the task's declared transform, Reacher +1 as in the reference), env
  `enforce="project"` (ARAM only sends feasible actions, so the wrapper never projects);
- SAC + ProjectAction (SPre+): stock SAC, env `enforce="project", penalty=1.0` (reward minus
  the projection distance; the buffer keeps the proposed action);
- SAC + AutoMDP: stock SAC on `enforce="automdp"` (kappa 0.2, M = 100 self-loops in a row
  before projection, preference (1, 1), the task's reward transform). SB3 counts every
  self-loop as a timestep, so within the same `--steps` this method sees fewer simulator
  steps (column "sim steps").

Shared settings, forced by the budget (the reference trains 1.5M steps with batch 1024 and
[256, 256] networks, fixed alpha 0.2): `--steps` env steps per run, MLPs [128, 128], batch
128, learning starts 1000, entropy coefficient "auto_0.1" for all three (tuned towards
entropy -|A| from 0.1: SB3's default start of 1.0 takes longer than this budget to decay,
and with it, in a 3000-step probe on Reacher, ARAM's valid-action rate stayed at 0.02 against
0.78 with "auto_0.1"),
buffer = the run's step count (both ARAM buffers), one gradient step per env step, Adam
3e-4, gamma 0.99, tau 0.005. ARAM's Q-snapshots start after 20,000 updates (reference),
so they never enter at this budget.

Metrics (evaluation after training, on `enforce="project"` envs, seeds 1000+):

- final return: deterministic action (ARAM: tanh(mean) at preference (0.5, 0.5)),
  projected if infeasible (the evaluation protocol of ARAM's released code); mean
  over the evaluation episodes, then mean +- std over seeds;
- valid-action rate (the paper's way): at every visited evaluation state, 100 actions
  sampled from the policy (ARAM at the evaluation preference; SAC's tanh-Gaussian),
  fraction feasible; mean +- std over seeds;
- QP solves / 1k steps: projections solved during training per 1000 simulator steps
  (ARAM: its ARM fallback; the baselines: the wrapper's `info["constraint"]["qp_solves"]`);
- µs / action: wall-clock per feasible action at batch 1 on visited states, the way each
  method deploys: ARAM `predict` (ARM, 100 proposals in one pass), SAC + ProjectAction
  `predict` then projection if infeasible, SAC + AutoMDP `AcceptanceRejection(model)`;
- train min: wall-clock of `learn`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

import gymnasium as gym
import numpy as np
import stable_baselines3 as sb3
import torch
from stable_baselines3 import SAC

import acrl_wrappers as acrl
from acrl_policies import ARAM, AcceptanceRejection
from acrl_wrappers.sb3 import ConstraintMetricsCallback

RESULTS = os.path.join(os.path.dirname(__file__), "results")
TASKS = ("ACRL/ReacherL2-v0", "ACRL/HalfCheetahO20-v0")
METHODS = ("ARAM", "SAC + ProjectAction (SPre+)", "SAC + AutoMDP")
EVAL_EPISODES = {"ACRL/ReacherL2-v0": 10, "ACRL/HalfCheetahO20-v0": 2}
KAPPA, M, SAMPLES_PER_STATE = 0.2, 100, 100


@dataclass
class Args:
    """Command-line arguments."""

    steps: int = 14_000
    """env steps (SB3 timesteps) per training run"""
    seeds: int = 3
    """seeds per task and method (0, 1, ...)"""
    learning_starts: int = 1000
    """warm-up steps before the first update"""
    net: int = 128
    """width of the two hidden layers of every network"""
    batch_size: int = 128
    """batch size of every update"""
    timing_states: int = 200
    """visited states timed for the per-action inference"""
    quick: bool = False
    """tiny budgets, for a smoke test"""
    output: str = os.path.join(RESULTS, "aram.md")
    """where to write the markdown table (per-run rows go next to it as .jsonl)"""


# ------------------------------------------------------------------ training
def make_model(method: str, task: str, seed: int, args: Args) -> tuple[Any, gym.Env]:
    """The model and its training env for one run."""
    common = {
        "learning_starts": args.learning_starts,
        "batch_size": args.batch_size,
        "buffer_size": max(args.steps, 1000),
        "ent_coef": "auto_0.1",
        "policy_kwargs": {"net_arch": [args.net, args.net]},
        "seed": seed,
    }
    # both ARAM and AutoMDP apply the reward transform the task declares (ARAM's code's)
    if method == "ARAM":
        env = gym.make(task, enforce="project")
        model = ARAM("MlpPolicy", env, max_proposals=M, kappa=KAPPA, **common)
    elif method.startswith("SAC + ProjectAction"):
        env = gym.make(task, enforce="project", penalty=1.0)
        model = SAC("MlpPolicy", env, **common)
    else:
        env = gym.make(task, enforce="automdp", kappa=KAPPA, max_rejections=M)
        model = SAC("MlpPolicy", env, **common)
    return model, env


# ------------------------------------------------------------------ evaluation
def policy_samples(model: Any, arm: AcceptanceRejection | None, obs: np.ndarray) -> np.ndarray:
    """``SAMPLES_PER_STATE`` actions from the policy at ``obs`` (env units)."""
    if isinstance(model, ARAM):
        scaled = model.propose(obs[None], SAMPLES_PER_STATE)[0]
        return model.policy.unscale_action(scaled)
    assert arm is not None
    return arm.propose(obs[None], SAMPLES_PER_STATE)[0]


def evaluate(model: Any, task: str, episodes: int) -> dict[str, Any]:
    """Return (deterministic, projected), valid-action rate and visited states."""
    env = gym.make(task, enforce="project")
    c = acrl.find_constraint(env)
    arm = None if isinstance(model, ARAM) else AcceptanceRejection(model, c, seed=0)
    returns, valid, states = [], [], []
    for episode in range(episodes):
        obs, _ = env.reset(seed=1000 + episode)
        done, total = False, 0.0
        while not done:
            samples = policy_samples(model, arm, obs)
            valid.append(c.contains(samples, obs if c.obs_dim else None).mean())
            states.append(obs)
            action, _ = model.predict(obs, deterministic=True)
            obs, reward, terminated, truncated, _ = env.step(action)
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    return {"return": float(np.mean(returns)), "valid": float(np.mean(valid)), "states": states}


def deploy_microseconds(model: Any, method: str, task: str, states: list[np.ndarray]) -> float:
    """Wall-clock per feasible action at batch 1, the way the method is deployed."""
    c = acrl.find_constraint(gym.make(task, enforce="project"))
    if isinstance(model, ARAM):
        act = model.predict
    elif method == "SAC + AutoMDP":
        act = AcceptanceRejection(model, c, max_proposals=M, seed=0).predict
    else:
        projector = acrl.make_projector(c)

        def act(obs: np.ndarray) -> tuple[np.ndarray, None]:
            action, _ = model.predict(obs)
            return projector.project(action, obs if c.obs_dim else None)[0], None

    for obs in states[:10]:  # warm-up
        act(obs)
    start = time.perf_counter()
    for obs in states:
        act(obs)
    return (time.perf_counter() - start) / len(states) * 1e6


def run_one(method: str, task: str, seed: int, args: Args) -> dict[str, Any]:
    """Train, evaluate and time one (method, task, seed)."""
    model, _ = make_model(method, task, seed, args)
    metrics = ConstraintMetricsCallback()
    start = time.perf_counter()
    model.learn(args.steps, callback=metrics)
    seconds = time.perf_counter() - start
    sim_steps = metrics.steps - metrics.self_loops
    qp = metrics.qp_solves + (model.safety_net.projections if isinstance(model, ARAM) else 0)
    episodes = 1 if args.quick else EVAL_EPISODES[task]
    result = evaluate(model, task, episodes)
    states = result.pop("states")[: args.timing_states]
    row = {
        "task": task,
        "method": method,
        "seed": seed,
        "steps": args.steps,
        "sim_steps": sim_steps,
        "return": result["return"],
        "valid": result["valid"],
        "qp_per_1k": 1000.0 * qp / max(sim_steps, 1),
        "qp_solves": qp,
        "us_per_action": deploy_microseconds(model, method, task, states),
        "train_minutes": seconds / 60,
    }
    if isinstance(model, ARAM):
        row["self_loops"] = model.safety_net.self_loops
    print(json.dumps(row), flush=True)
    return row


# ------------------------------------------------------------------ report
def mean_std(rows: list[dict[str, Any]], key: str, digits: int) -> str:
    """``mean ± std`` of ``key`` over ``rows``."""
    values = np.array([r[key] for r in rows], dtype=float)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def table(rows: list[dict[str, Any]]) -> list[str]:
    """One line per (task, method): means over seeds (± std where given)."""
    lines = [
        "| task | method | final return | valid-action rate | QP solves / 1k steps | "
        "µs / action (batch 1) | train min (per run) | sim steps |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task in TASKS:
        for method in METHODS:
            mine = [r for r in rows if r["task"] == task and r["method"] == method]
            if not mine:
                continue
            lines.append(
                f"| {task.removeprefix('ACRL/')} | {method} | {mean_std(mine, 'return', 1)} | "
                f"{mean_std(mine, 'valid', 3)} | "
                f"{np.mean([r['qp_per_1k'] for r in mine]):.1f} | "
                f"{np.mean([r['us_per_action'] for r in mine]):.0f} | "
                f"{np.mean([r['train_minutes'] for r in mine]):.1f} | "
                f"{np.mean([r['sim_steps'] for r in mine]):.0f} |"
            )
    return lines


def targets(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, checked per task against the SPre+ baseline."""
    out = []
    for task in TASKS:
        aram = [r for r in rows if r["task"] == task and r["method"] == "ARAM"]
        spre = [r for r in rows if r["task"] == task and r["method"] == METHODS[1]]
        if not aram or not spre:
            continue
        valid = np.mean([r["valid"] for r in aram])
        qp_aram = np.mean([r["qp_per_1k"] for r in aram])
        qp_spre = np.mean([r["qp_per_1k"] for r in spre])
        ratio = qp_spre / qp_aram if qp_aram > 0 else float("inf")
        ret_a = np.mean([r["return"] for r in aram])
        ret_s, std_s = np.mean([r["return"] for r in spre]), np.std([r["return"] for r in spre])
        out.append(
            f"- {task}: valid-action rate {valid:.3f} (target >= 0.95: "
            f"{'met' if valid >= 0.95 else 'missed'}); QP solves {ratio:.0f}x fewer than "
            f"SPre+ (target >= 100x: {'met' if ratio >= 100 else 'missed'}); return "
            f"{ret_a:.1f} vs {ret_s:.1f} ± {std_s:.1f} (target within one std or better: "
            f"{'met' if ret_a >= ret_s - std_s else 'missed'})"
        )
    return out


def main() -> None:
    """Run every (task, seed, method), print and write the table."""
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
        args.steps, args.seeds, args.learning_starts = min(args.steps, 300), 1, 100
        args.net, args.batch_size, args.timing_states = 32, 32, 20
    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    acrl.load_plugins()
    jsonl = os.path.splitext(args.output)[0] + ".jsonl"
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    started = time.perf_counter()
    rows = []
    with open(jsonl, "w") as f:
        for task in TASKS:
            for seed in range(args.seeds):
                for method in METHODS:
                    rows.append(run_one(method, task, seed, args))
                    f.write(json.dumps(rows[-1]) + "\n")
                    f.flush()
    total = (time.perf_counter() - started) / 60
    lines = [
        "# ARAM vs projection and AutoMDP baselines",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU cores "
        f"(torch on 1 thread, shared machine), Python {platform.python_version()}, torch "
        f"{torch.__version__}, stable-baselines3 {sb3.__version__}. Command: "
        f"`python benchmarks/aram.py{''.join(' ' + a for a in sys.argv[1:])}`; total wall-clock "
        f"{total:.1f} min. Settings: {json.dumps(asdict(args))}.",
        "",
        f"Budget: {args.steps} env steps per run, {args.seeds} seeds (0..{args.seeds - 1}), "
        f"MLPs [{args.net}, {args.net}], batch {args.batch_size}, learning starts "
        f"{args.learning_starts}. The paper trains 1.5M steps with batch 1024 and [256, 256] "
        "networks: these numbers are early-training numbers, not a reproduction. Metrics "
        "and settings: see the module docstring of benchmarks/aram.py.",
        "",
        *table(rows),
        "",
        "Targets (ARAM vs SAC + ProjectAction):",
        "",
        *targets(rows),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    with open(args.output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
