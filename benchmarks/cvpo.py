"""CVPO vs SAC-Lagrangian on the velocity-cost tasks (cost limit 25).

Docs: packages/acrl-policies/README.md, section "CVPO and SAC-Lagrangian". Run:

    python benchmarks/cvpo.py            # writes benchmarks/results/cvpo.md (40-95 min)
    python benchmarks/cvpo.py --quick --output /tmp/cvpo.md   # seconds, for the tests

On two cores, one process per task halves the wall clock; then merge and report:

    python benchmarks/cvpo.py --envs ACRL/SafeHopperVelocity-v1 --output bench/hopper.md &
    python benchmarks/cvpo.py --envs ACRL/SafeHalfCheetahVelocity-v1 --output bench/cheetah.md
    wait; cat bench/hopper.jsonl bench/cheetah.jsonl > benchmarks/results/cvpo.jsonl
    python benchmarks/cvpo.py --report_only

For every task in `--envs`, seed and algorithm, one training run on one CPU thread, all
runs one after the other in this process:

- CVPO: `acrl_policies.CVPO` with FSRL's `Mujoco5MCfg` defaults (gamma 0.98, K = 16,
  (128, 128), actor 5e-4 / critic 1e-3, batch 256, buffer 40k, tau 0.05);
- SAC-Lagrangian: `acrl_policies.SACLagrangian`, SB3's SAC defaults (lr 3e-4, tau 0.005,
  learned entropy coefficient) with the settings below shared with CVPO.

Shared: one env, no observation normalisation, gamma 0.98, buffer 40,000, batch 256,
hidden (128, 128), 1,000 uniformly random steps first, then an update round of
`--gradient_steps` gradient steps every `--train_freq` env steps (FSRL's update_per_step
0.2: 20 per 100; CVPO's default, which gives its KL-bounded M-step FSRL's 500 rounds in
50k steps). The budget, `--steps` env steps per run, is set by the wall clock:
CVPO runs 210-265 steps/s and SAC-Lagrangian 350-470 steps/s on one thread of a fast
x86_64 core, 86-92 and 128-137 on this project's 2.0 GHz Xeon (CVPO evaluates 16 x 256
state-action pairs per critic and gradient step), so the 12 runs of 50,000 steps take
38-95 minutes of training.

Metrics, measured the same way for both from the training episodes (`info["cost"]`
summed per episode, Monitor returns):

- final return / final cost: mean over the last `--final_episodes` (10) training episodes
  at the end of training, then mean +- std over seeds (ctrpo.md uses 50 of its ~600
  episodes; these runs have 50 HalfCheetah episodes of 1,000 steps, 250-500 Hopper
  episodes, shorter because the hopper falls);
- cost regret: sum over training of max(0, J_c - 25), J_c the mean cost of the last 50
  episodes, one term per 20,000 env steps (the C-TRPO reference's epoch), evaluated
  after every data collection and weighted by its steps, mean +- std over seeds: the
  definition of ctrpo.md;
- steps/s: env steps per second of wall clock for the whole `learn`, mean over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import numpy as np
import stable_baselines3 as sb3
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env

import acrl_policies
import acrl_wrappers as acrl
from acrl_policies import CVPO, SACLagrangian

COST_LIMIT = 25.0
REFERENCE_EPOCH = 20_000  # env steps per regret term, as in ctrpo.md
REGRET_WINDOW = 50  # episodes in J_c, as in ctrpo.md


@dataclass
class Args:
    """Command-line arguments."""

    steps: int = 50_000
    """env steps per training run"""
    seeds: int = 3
    """seeds per task and algorithm (0, 1, ...)"""
    envs: str = "ACRL/SafeHopperVelocity-v1,ACRL/SafeHalfCheetahVelocity-v1"
    """comma-separated task ids"""
    train_freq: int = 100
    """env steps per update round"""
    gradient_steps: int = 20
    """gradient steps per update round"""
    learning_starts: int = 1000
    """uniformly random env steps before the first update"""
    final_episodes: int = 10
    """training episodes averaged into the final return and cost"""
    quick: bool = False
    """tiny budget (2,000 steps, 1 seed, Hopper only, small rounds) for the tests"""
    report_only: bool = False
    """train nothing: rewrite the report from the earlier results (.jsonl)"""
    output: str = os.path.join(os.path.dirname(__file__), "results", "cvpo.md")
    """where to write the markdown table (per-run JSON lines go beside it, .jsonl)"""


ALGORITHMS = ("CVPO", "SAC-Lagrangian")


class TrainingEpisodes(BaseCallback):
    """Records every training episode's return and cost, and the cost regret."""

    def __init__(self, final_episodes: int) -> None:
        super().__init__()
        self.returns: deque[float] = deque(maxlen=final_episodes)
        self.costs: deque[float] = deque(maxlen=final_episodes)
        self.window: deque[float] = deque(maxlen=REGRET_WINDOW)
        self.running: np.ndarray | None = None
        self.regret = 0.0
        self.episodes = 0
        self._last_timesteps = 0

    def _on_step(self) -> bool:
        infos, dones = self.locals["infos"], self.locals["dones"]
        if self.running is None:
            self.running = np.zeros(len(infos))
        self.running += [info["cost"] for info in infos]
        for idx in np.flatnonzero(dones):
            self.returns.append(infos[idx]["episode"]["r"])
            self.costs.append(self.running[idx])
            self.window.append(self.running[idx])
            self.running[idx] = 0.0
            self.episodes += 1
        return True

    def _on_rollout_end(self) -> None:
        # CRUCIAL: one regret term per 20,000 env steps, whatever the collection size
        steps = self.num_timesteps - self._last_timesteps
        self._last_timesteps = self.num_timesteps
        if self.window:
            excess = max(0.0, float(np.mean(self.window)) - COST_LIMIT)
            self.regret += excess * steps / REFERENCE_EPOCH


def make_model(algo: str, env: Any, seed: int, args: Args) -> Any:
    """The algorithm with the shared settings."""
    shared: dict[str, Any] = dict(
        cost_limit=COST_LIMIT,
        gamma=0.98,
        buffer_size=40_000,
        batch_size=256,
        learning_starts=args.learning_starts,
        train_freq=args.train_freq,
        gradient_steps=args.gradient_steps,
        policy_kwargs=dict(net_arch=[128, 128]),
        seed=seed,
        device="cpu",
    )
    if algo == "CVPO":
        return CVPO("MlpPolicy", env, **shared)
    return SACLagrangian("MlpPolicy", env, **shared)


@dataclass
class Run:
    """One training run's results."""

    env: str
    algo: str
    seed: int
    final_return: float
    final_cost: float
    regret: float
    steps_per_second: float
    seconds: float
    episodes: int
    extra: dict[str, float] = field(default_factory=dict)


def train(env_id: str, algo: str, seed: int, args: Args) -> Run:
    """One training run."""
    env = make_vec_env(env_id, n_envs=1, seed=seed)
    model = make_model(algo, env, seed, args)
    log = TrainingEpisodes(args.final_episodes)
    start = time.perf_counter()
    model.learn(args.steps, callback=log)
    seconds = time.perf_counter() - start
    if algo == "CVPO":
        extra = {"eta": model.eta, "lambda": model.lagrange_multiplier}
    else:
        extra = {"lambda": model.lagrangian_multiplier}
    env.close()
    return Run(
        env_id,
        algo,
        seed,
        float(np.mean(log.returns)) if log.returns else float("nan"),
        float(np.mean(log.costs)) if log.costs else float("nan"),
        log.regret,
        model.num_timesteps / seconds,
        seconds,
        log.episodes,
        extra,
    )


def table(runs: list[Run], envs: list[str]) -> list[str]:
    """Markdown rows: mean +- std over seeds per task and algorithm."""
    lines = [
        "| task | algorithm | final return | final episode cost | cost regret | steps/s | seeds |",
        "|---|---|---|---|---|---|---|",
    ]
    for env_id in envs:
        for algo in ALGORITHMS:
            group = [r for r in runs if r.env == env_id and r.algo == algo]
            if not group:
                continue
            ret = np.array([r.final_return for r in group])
            cost = np.array([r.final_cost for r in group])
            regret = np.array([r.regret for r in group])
            sps = np.array([r.steps_per_second for r in group])
            lines.append(
                f"| {env_id.removeprefix('ACRL/')} | {algo} | {ret.mean():.0f} ± {ret.std():.0f} "
                f"| {cost.mean():.1f} ± {cost.std():.1f} "
                f"| {regret.mean():.1f} ± {regret.std():.1f} | {sps.mean():.0f} | {len(group)} |"
            )
    return lines


# Figures to compare with. No CVPO numbers are published for these tasks (FSRL publishes
# curves, not a table); OmniSafe's on-policy benchmark table (1e7 steps, 5 seeds) and
# this repo's C-TRPO benchmark (results/ctrpo.md, 600k steps, 3 seeds) are the nearest.
REFERENCE = {
    "ACRL/SafeHopperVelocity-v1": [
        ("OmniSafe CPO", "1e7", "1714", "13.4"),
        ("OmniSafe PPOLag", "1e7", "962", "14.0"),
        ("OmniSafe TRPOLag", "1e7", "1392", "11.2"),
        ("OmniSafe PPO (unconstrained)", "1e7", "2337", "550.0"),
        ("acrl C-TRPO (results/ctrpo.md)", "6e5", "1253", "16.2"),
        ("acrl TRPO-Lagrangian (results/ctrpo.md)", "6e5", "454", "13.6"),
    ],
    "ACRL/SafeHalfCheetahVelocity-v1": [
        ("OmniSafe CPO", "1e7", "2787", "4.7"),
        ("OmniSafe PPOLag", "1e7", "2946", "3.4"),
        ("OmniSafe TRPOLag", "1e7", "2885", "9.0"),
        ("acrl C-TRPO (results/ctrpo.md)", "6e5", "1522", "11.5"),
        ("acrl TRPO-Lagrangian (results/ctrpo.md)", "6e5", "1084", "0.4"),
    ],
}


def reference_table(envs: list[str]) -> list[str]:
    """Published and earlier figures for the same tasks."""
    lines = ["| task | algorithm | env steps | return | episode cost |", "|---|---|---|---|---|"]
    for env_id in envs:
        for algo, steps, ret, cost in REFERENCE.get(env_id, []):
            lines.append(f"| {env_id.removeprefix('ACRL/')} | {algo} | {steps} | {ret} | {cost} |")
    return lines


def targets(runs: list[Run], envs: list[str]) -> list[str]:
    """The issue's targets, checked per task on the seed means."""
    lines = []
    for env_id in envs:

        def mean(algo: str, key: str, env_id: str = env_id) -> float:
            values = [getattr(r, key) for r in runs if r.env == env_id and r.algo == algo]
            return float(np.mean(values)) if values else float("nan")

        checks = [
            (
                f"CVPO final cost <= 25 ({mean('CVPO', 'final_cost'):.1f})",
                mean("CVPO", "final_cost") <= COST_LIMIT,
            ),
            (
                f"CVPO return >= SAC-Lagrangian's ({mean('CVPO', 'final_return'):.0f} vs "
                f"{mean('SAC-Lagrangian', 'final_return'):.0f})",
                mean("CVPO", "final_return") >= mean("SAC-Lagrangian", "final_return"),
            ),
        ]
        verdicts = ", ".join(f"{name}: {'met' if ok else 'MISSED'}" for name, ok in checks)
        lines.append(f"- {env_id.removeprefix('ACRL/')}: {verdicts}.")
    return lines


def report(runs: list[Run], envs: list[str], args: Args, jsonl: str) -> list[str]:
    """The markdown report: setup, results, targets, figures to compare with."""
    minutes = sum(r.seconds for r in runs) / 60
    finished = datetime.fromtimestamp(os.path.getmtime(jsonl), timezone.utc)
    return [
        "# CVPO vs SAC-Lagrangian on the velocity-cost tasks",
        "",
        f"Run finished {finished:%Y-%m-%d %H:%M} UTC, on one CPU thread "
        f"({platform.processor() or platform.machine()}), {minutes:.0f} min of training "
        f"(sum of the runs' `learn` times). Python {platform.python_version()}, torch "
        f"{torch.__version__}, SB3 {sb3.__version__}, acrl-policies "
        f"{acrl_policies.__version__}.",
        "",
        f"Command: `python benchmarks/cvpo.py --steps {args.steps} --seeds {args.seeds} "
        f"--envs {args.envs} --train_freq {args.train_freq} --gradient_steps "
        f"{args.gradient_steps} --learning_starts {args.learning_starts}`. Budget: "
        f"{args.steps:,} env steps per run, {args.learning_starts:,} random steps then "
        f"{args.gradient_steps} gradient steps every {args.train_freq:,} env steps "
        f"(update_per_step {args.gradient_steps / args.train_freq:g}), seeds "
        f"0..{args.seeds - 1}, cost limit {COST_LIMIT:g}. Shared settings: gamma 0.98, "
        "buffer 40k, batch 256, hidden (128, 128), no observation normalisation; CVPO with "
        "FSRL's Mujoco5MCfg defaults, SAC-Lagrangian with SB3's SAC defaults otherwise.",
        "",
        *table(runs, envs),
        "",
        f"Final return and cost: mean of the last {args.final_episodes} training episodes, "
        "mean ± std over seeds. Cost regret: sum over training of max(0, J_c − 25), J_c the "
        "mean cost of the last 50 episodes, one term per 20,000 env steps (the C-TRPO "
        "reference's epoch, as in ctrpo.md), mean ± std over seeds. steps/s: env steps per "
        "second of `learn`, one thread, mean over seeds; the machine's other core was in use "
        f"by other work, so speeds are noisy. Per-run numbers: `{os.path.basename(jsonl)}`.",
        "",
        "## Targets",
        "",
        *targets(runs, envs),
        "",
        "## Figures to compare with",
        "",
        *reference_table(envs),
        "",
        "FSRL publishes no tabulated CVPO figures for these tasks (learning curves only), "
        "so the nearest published numbers are OmniSafe's on-policy benchmark table (1e7 "
        "steps, 5 seeds, reward / cost) and this repo's C-TRPO benchmark. This benchmark "
        f"trains {args.steps / 10_000_000:.1%} of OmniSafe's budget and "
        f"{args.steps / 5_000_000:.0%} of FSRL's Mujoco5MCfg (250 epochs x 20,000 steps), "
        "so compare the ranking and the costs against the limit, not magnitudes.",
    ]


def main() -> None:
    """Train every (task, seed, algorithm), print and write the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        if isinstance(default, bool):
            parser.add_argument(f"--{name}", action="store_true")
        else:
            parser.add_argument(f"--{name}", type=type(default), default=default)
    args = Args(**vars(parser.parse_args()))
    if args.quick:
        args.steps, args.seeds, args.envs = 2000, 1, "ACRL/SafeHopperVelocity-v1"
        args.learning_starts, args.train_freq, args.gradient_steps = 500, 250, 10
    envs = [e.strip() for e in args.envs.split(",") if e.strip()]

    jsonl = os.path.splitext(args.output)[0] + ".jsonl"
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    runs: list[Run] = []
    # TRY NOT TO MODIFY: one thread (the machine's other core stays free), quiet envs
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    acrl.load_plugins()
    if args.report_only:
        with open(jsonl) as fh:
            runs = [Run(**json.loads(line)) for line in fh if line.strip()]
    else:
        open(jsonl, "w").close()
        # ALGO LOGIC: every task x seed x algorithm, each run appended as soon as it ends
        for env_id in envs:
            for seed in range(args.seeds):
                for algo in ALGORITHMS:
                    run = train(env_id, algo, seed, args)
                    runs.append(run)
                    with open(jsonl, "a") as fh:
                        fh.write(json.dumps(asdict(run)) + "\n")
                    print(json.dumps(asdict(run)), flush=True)

    lines = report(runs, envs, args, jsonl)
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
