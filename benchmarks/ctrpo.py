"""TRPO vs TRPO-Lagrangian vs C-TRPO on the velocity-cost tasks (cost limit 25).

Docs: packages/acrl-policies/README.md, section "C-TRPO and Lagrangian baselines". Run:

    python benchmarks/ctrpo.py            # writes benchmarks/results/ctrpo.md (about an hour)
    python benchmarks/ctrpo.py --quick --output /tmp/ctrpo.md   # seconds, for the tests

For every task in `--envs`, algorithm and seed, one training run on one CPU thread:

- TRPO: sb3-contrib's `TRPO`, unconstrained (it never sees the cost; the cost is only
  measured), the reference point for return and speed;
- TRPO-Lagrangian: `acrl_policies.TRPOLagrangian`;
- C-TRPO: `acrl_policies.CTRPO` (h = 0.8, beta = 1, the paper's setting).

All three share the reference's settings (the authors' `algorithms/c-trpo.py`,
github.com/milosen/ctrpo): MLP [64, 64] tanh, log-std 0,
observation normalisation (`VecNormalize`, rewards not normalised), gamma 0.99, GAE
lambda 0.95, target KL 0.01, 15 CG iterations with damping 0.1, 15 line-search steps x
0.8, critics Adam 1e-3 for 10 epochs of 128. Forced by the budget: 4 envs x 1000 steps =
4,000 steps per update (reference: 10 x 2,000 = 20,000) and `--steps` steps per run
(reference: 10M).

Metrics, measured the same way for all three from the training episodes (`info["cost"]`
summed per episode, Monitor returns):

- final return / final cost: mean over the last 50 training episodes at the end of
  training (the reference's V_r and V_c), then mean +- std over seeds;
- cost regret: sum over training of max(0, J_c - 25), J_c the mean cost of the last 50
  episodes, one term per 20,000 env steps (the reference's epoch), mean over seeds;
- steps/s: env steps per second of wall clock for the whole `learn`, mean over seeds; and,
  since other work on the machine comes and goes during an hour, a throughput comparison
  in alternating short rounds on the first task (fastest round of each algorithm).
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

import gymnasium as gym
import numpy as np
import sb3_contrib
import stable_baselines3 as sb3
import torch
from sb3_contrib import TRPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecNormalize

import acrl_policies
import acrl_wrappers as acrl
from acrl_policies import CTRPO, TRPOLagrangian

COST_LIMIT = 25.0
REFERENCE_EPOCH = 20_000  # env steps per update in the C-TRPO reference (10 envs x 2000)


@dataclass
class Args:
    """Command-line arguments."""

    steps: int = 600_000
    """env steps per training run"""
    seeds: int = 3
    """seeds per task and algorithm (0, 1, ...)"""
    envs: str = "ACRL/SafeHalfCheetahVelocity-v1,ACRL/SafeHopperVelocity-v1"
    """comma-separated task ids"""
    n_envs: int = 4
    """parallel envs per run"""
    n_steps: int = 1000
    """steps per env per update"""
    quick: bool = False
    """tiny budget (2,048 steps, 1 seed, Hopper only, 512 steps per update) for the tests"""
    speed_rounds: int = 3
    """alternating rounds of the throughput comparison on the first task (0: skip it)"""
    speed_steps: int = 40_000
    """env steps per algorithm and round of the throughput comparison"""
    speed_only: bool = False
    """train nothing; measure the throughput and rewrite the report from the earlier runs"""
    report_only: bool = False
    """train and measure nothing: rewrite the report from the earlier results (.jsonl, .json)"""
    output: str = os.path.join(os.path.dirname(__file__), "results", "ctrpo.md")
    """where to write the markdown table (per-run JSON lines go beside it, .jsonl)"""


ALGORITHMS = ("TRPO", "TRPO-Lagrangian", "C-TRPO")


class TrainingEpisodes(BaseCallback):
    """Records every training episode's return and cost, and J_c after each rollout."""

    def __init__(self) -> None:
        super().__init__()
        self.returns: deque[float] = deque(maxlen=50)
        self.costs: deque[float] = deque(maxlen=50)
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
            self.running[idx] = 0.0
            self.episodes += 1
        return True

    def _on_rollout_end(self) -> None:
        # CRUCIAL: one regret term per 20,000 env steps, whatever the update size
        steps = self.num_timesteps - self._last_timesteps
        self._last_timesteps = self.num_timesteps
        if self.costs:
            excess = max(0.0, float(np.mean(self.costs)) - COST_LIMIT)
            self.regret += excess * steps / REFERENCE_EPOCH


def make_model(algo: str, env: VecNormalize, seed: int, args: Args) -> Any:
    """The algorithm with the shared (reference) hyperparameters."""
    shared: dict[str, Any] = dict(
        n_steps=args.n_steps,
        batch_size=128,
        learning_rate=1e-3,
        n_critic_updates=10,
        gamma=0.99,
        gae_lambda=0.95,
        target_kl=0.01,
        cg_max_steps=15,
        cg_damping=0.1,
        line_search_max_iter=15,
        line_search_shrinking_factor=0.8,
        policy_kwargs=dict(net_arch=[64, 64], log_std_init=0.0),
        seed=seed,
        device="cpu",
    )
    if algo == "TRPO":
        return TRPO("MlpPolicy", env, **shared)
    if algo == "TRPO-Lagrangian":
        return TRPOLagrangian("MlpPolicy", env, cost_limit=COST_LIMIT, **shared)
    return CTRPO("MlpPolicy", env, cost_limit=COST_LIMIT, beta=1.0, hysteresis=0.8, **shared)


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
    venv = make_vec_env(lambda: gym.make(env_id), n_envs=args.n_envs, seed=seed)
    env = VecNormalize(venv, norm_obs=True, norm_reward=False)
    model = make_model(algo, env, seed, args)
    log = TrainingEpisodes()
    start = time.perf_counter()
    model.learn(args.steps, callback=log)
    seconds = time.perf_counter() - start
    extra = {}
    if algo == "C-TRPO":
        extra["safe_mode"] = float(model.safe_mode)
    if algo == "TRPO-Lagrangian":
        extra["lambda"] = model.lagrangian_multiplier
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


def throughput(env_id: str, args: Args) -> dict[str, list[float]]:
    """Steps/s of each algorithm in alternating rounds (fresh model, seed 0, same settings).

    The training runs' own steps/s compare runs made minutes apart, while other work on
    the machine comes and goes; alternating short rounds and keeping each algorithm's
    fastest round compares them under the same conditions.
    """
    speeds: dict[str, list[float]] = {algo: [] for algo in ALGORITHMS}
    for _ in range(args.speed_rounds):
        for algo in ALGORITHMS:
            venv = make_vec_env(lambda: gym.make(env_id), n_envs=args.n_envs, seed=0)
            env = VecNormalize(venv, norm_obs=True, norm_reward=False)
            model = make_model(algo, env, 0, args)
            start = time.perf_counter()
            model.learn(args.speed_steps)
            speeds[algo].append(model.num_timesteps / (time.perf_counter() - start))
            env.close()
    return speeds


def speed_table(speed: dict[str, Any]) -> list[str]:
    """Markdown rows of the throughput comparison."""
    best_trpo = max(speed["rounds"]["TRPO"])
    lines = [
        f"Task {speed['env'].removeprefix('ACRL/')}, {speed['steps']:,} env steps per "
        f"algorithm and round, {len(speed['rounds']['TRPO'])} alternating rounds, one thread.",
        "",
        "| algorithm | fastest round (steps/s) | median round (steps/s) | fastest / TRPO's |",
        "|---|---|---|---|",
    ]
    for algo, values in speed["rounds"].items():
        lines.append(
            f"| {algo} | {max(values):.0f} | {np.median(values):.0f} | "
            f"{max(values) / best_trpo:.2f} |"
        )
    return lines


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


# The reference's per-task figures at 10M steps (recomputed from the C-TRPO authors' committed
# run data, github.com/milosen/ctrpo): V_r / V_c / Reg+ as 25%-trimmed means over 5 seeds;
# Reg+ summed over 500 epochs of 20,000 steps.
REFERENCE = {
    "ACRL/SafeHalfCheetahVelocity-v1": [
        ("C-TRPO, h = 0.8 (paper)", "2841", "12.1", "84"),
        ("C-TRPO, h = 1.0", "2834", "20.0", "105"),
        ("TRPO-Lag", "2879", "25.0", "2547"),
        ("PPO (unconstrained)", "6773", "976", "—"),
    ],
    "ACRL/SafeHopperVelocity-v1": [
        ("C-TRPO, h = 0.8 (paper)", "1622", "17.7", "800"),
        ("C-TRPO, h = 1.0", "1669", "20.4", "1056"),
        ("TRPO-Lag", "701", "13.7", "6076"),
        ("PPO (unconstrained)", "1837", "434", "—"),
    ],
}


def reference_table(envs: list[str]) -> list[str]:
    """The reference's figures for the same tasks."""
    lines = [
        "| task | algorithm | return | episode cost | cost regret |",
        "|---|---|---|---|---|",
    ]
    for env_id in envs:
        for algo, ret, cost, regret in REFERENCE.get(env_id, []):
            lines.append(f"| {env_id.removeprefix('ACRL/')} | {algo} | {ret} | {cost} | {regret} |")
    return lines


def targets(runs: list[Run], envs: list[str], speed: dict[str, Any] | None) -> list[str]:
    """The issue's targets, checked per task on the seed means."""
    lines = []
    if speed is not None:
        ratio = max(speed["rounds"]["C-TRPO"]) / max(speed["rounds"]["TRPO"])
        verdict = "met" if ratio >= 0.8 else "MISSED"
        lines.append(
            f"- Throughput (alternating rounds): C-TRPO steps/s >= 0.8 x TRPO's: {verdict} "
            f"({ratio:.2f})."
        )
    for env_id in envs:

        def mean(algo: str, key: str, env_id: str = env_id) -> float:
            values = [getattr(r, key) for r in runs if r.env == env_id and r.algo == algo]
            return float(np.mean(values)) if values else float("nan")

        checks = [
            ("C-TRPO final cost <= 25", mean("C-TRPO", "final_cost") <= COST_LIMIT),
            (
                "C-TRPO cost regret < TRPO-Lagrangian's",
                mean("C-TRPO", "regret") < mean("TRPO-Lagrangian", "regret"),
            ),
            (
                "C-TRPO return >= 90 % of TRPO-Lagrangian's",
                mean("C-TRPO", "final_return") >= 0.9 * mean("TRPO-Lagrangian", "final_return"),
            ),
            (
                "C-TRPO steps/s >= 0.8 x TRPO's (training runs)",
                mean("C-TRPO", "steps_per_second") >= 0.8 * mean("TRPO", "steps_per_second"),
            ),
        ]
        tie = mean("C-TRPO", "regret") == mean("TRPO-Lagrangian", "regret")
        verdicts = ", ".join(
            f"{name}: {'met' if ok else 'tied' if tie and 'regret' in name else 'MISSED'}"
            for name, ok in checks
        )
        lines.append(f"- {env_id.removeprefix('ACRL/')}: {verdicts}.")
    return lines


def report(
    runs: list[Run], envs: list[str], args: Args, jsonl: str, speed: dict[str, Any] | None
) -> list[str]:
    """The markdown report: setup, results, targets, the reference's figures."""
    minutes = sum(r.seconds for r in runs) / 60
    finished = datetime.fromtimestamp(os.path.getmtime(jsonl), timezone.utc)
    updates = args.steps // (args.n_envs * args.n_steps)
    return [
        "# C-TRPO vs TRPO-Lagrangian vs TRPO on the velocity-cost tasks",
        "",
        f"Run finished {finished:%Y-%m-%d %H:%M} UTC, on one CPU thread "
        f"({platform.processor() or platform.machine()}), {minutes:.0f} min of training "
        f"(sum of the runs' `learn` times). Python {platform.python_version()}, torch "
        f"{torch.__version__}, SB3 {sb3.__version__}, sb3-contrib {sb3_contrib.__version__}, "
        f"acrl-policies {acrl_policies.__version__}.",
        "",
        f"Command: `python benchmarks/ctrpo.py --steps {args.steps} --seeds {args.seeds} "
        f"--envs {args.envs} --n_envs {args.n_envs} --n_steps {args.n_steps}`. "
        f"Budget: {args.steps:,} env steps per run ({args.n_envs} envs x {args.n_steps} steps = "
        f"{args.n_envs * args.n_steps:,} per update, {updates} updates), seeds "
        f"0..{args.seeds - 1}, cost limit {COST_LIMIT:g}. Shared settings: the reference's "
        "(MLP [64, 64] tanh, obs normalisation, target KL 0.01, 15 CG steps, 15 line-search "
        "steps, critics 10 x 128 at 1e-3); C-TRPO with h = 0.8, beta = 1.",
        "",
        *table(runs, envs),
        "",
        "Final return and cost: mean of the last 50 training episodes, mean ± std over seeds. "
        "Cost regret: sum over training of max(0, J_c − 25), J_c the mean cost of the last "
        "50 episodes, one term per 20,000 env steps (the reference's epoch), mean ± std over "
        "seeds. steps/s: env steps per second of `learn`, one thread, mean over seeds; the "
        "machine's other core was in use by other work, so speeds are noisy. Per-run "
        f"numbers: `{os.path.basename(jsonl)}`.",
        "",
        "## Throughput",
        "",
        *(speed_table(speed) if speed else ["Not measured (`--speed_rounds 0`)."]),
        "",
        "## Targets",
        "",
        *targets(runs, envs, speed),
        "",
        "## The reference's figures (10M steps, 10 x 2,000 steps per update, 5 seeds)",
        "",
        *reference_table(envs),
        "",
        "Recomputed from the C-TRPO authors' committed run data (github.com/milosen/ctrpo; "
        "per-task 25%-trimmed means). Across 8 tasks the IQM of normalised regret is 0.52 for "
        "C-TRPO (h = 0.8) against 1.93 for TRPO-Lag (CPO = 1), at rewards of 0.65 and 0.60 "
        "(PPO = 1). "
        f"This benchmark trains {args.steps / 10_000_000:.1%} of that budget with "
        f"{args.n_envs * args.n_steps / 20_000:.0%}-size updates and {args.seeds} seeds: returns "
        "are far "
        "below the reference's, and the regret sums run over "
        f"{args.steps / REFERENCE_EPOCH:.0f} instead of 500 epochs, so compare rankings and "
        "the costs against the limit, not magnitudes. MuJoCo versions differ too "
        "(trajectories drift across MuJoCo versions).",
    ]


def main() -> None:
    """Train every (task, algorithm, seed), print and write the table."""
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
        args.steps, args.seeds, args.n_envs, args.n_steps = 2048, 1, 2, 256
        args.envs = "ACRL/SafeHopperVelocity-v1"
        args.speed_rounds, args.speed_steps = 1, 1024
    envs = [e.strip() for e in args.envs.split(",") if e.strip()]

    jsonl = os.path.splitext(args.output)[0] + ".jsonl"
    speed_file = os.path.splitext(args.output)[0] + "_speed.json"
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    runs: list[Run] = []
    speed: dict[str, Any] | None = None
    # TRY NOT TO MODIFY: one thread (the machine's other core stays free), quiet v4 envs
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    acrl.load_plugins()
    if args.report_only or args.speed_only:
        with open(jsonl) as fh:
            records = [json.loads(line) for line in fh if line.strip()]
        for record in records:  # runs written before "seconds" was recorded
            record.setdefault("seconds", args.steps / record["steps_per_second"])
        runs = [Run(**record) for record in records]
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

    # ALGO LOGIC: throughput under the same conditions, alternating the algorithms
    if args.report_only:
        if os.path.exists(speed_file):
            with open(speed_file) as fh:
                speed = json.load(fh)
    elif args.speed_rounds > 0:
        rounds = throughput(envs[0], args)
        speed = {"env": envs[0], "steps": args.speed_steps, "rounds": rounds}
        with open(speed_file, "w") as fh:
            json.dump(speed, fh)
        print(json.dumps(speed), flush=True)

    lines = report(runs, envs, args, jsonl, speed)
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
