"""``acrl evaluate``: a trained run measured the papers' way.

- return and episode cost over ``episodes`` deterministic episodes (task return, from
  ``Monitor`` inside the enforcement wrapper);
- valid-action rate: the fraction of ``samples`` policy samples per visited state that are
  feasible (ARAM's measure; a deterministic policy gives 0 or 1 per state);
- executed violations: actions outside the constraint that reached the simulator, counted
  by an :class:`~acrl_wrappers.testing.ActionProbe` directly around it;
- QP solves of the enforcement wrapper and of the method's own safety net;
- per-action inference time at batch 1 (``model.predict``, median over visited states).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

from acrl_bench.algorithms import algorithm_class
from acrl_bench.config import read_config
from acrl_bench.envs import make_env
from acrl_bench.errors import CheckpointError, ConfigError
from acrl_policies.common.safety_net import safety_net_counts

__all__ = ["evaluate_run", "format_evaluation", "policy_samples"]

_TIMED_STATES = 200


def policy_samples(model: Any, obs: np.ndarray, n: int) -> np.ndarray:
    """``n`` actions the policy proposes at ``obs`` (env units, before any safety net).

    ARAM proposes through its preference-conditioned actor (``propose``); every other model
    through ``model.policy.predict`` (flow algorithms' safety net is in ``model.predict``,
    so it is bypassed here).
    """
    if hasattr(model, "propose"):
        return model.policy.unscale_action(model.propose(obs[None], n)[0])
    actions, _ = model.policy.predict(np.repeat(obs[None], n, axis=0), deterministic=False)
    return np.asarray(actions)


def _model_file(run_dir: Path) -> Path:
    path = run_dir / "model.zip"
    if not path.exists():
        raise CheckpointError(
            f"{run_dir} has no model.zip yet (training did not finish); finish it with "
            f"acrl train --resume {run_dir}"
        )
    return path


def _load(run_dir: Path, config: Any, env: Any) -> Any:
    path = _model_file(run_dir)
    try:
        return algorithm_class(config.algo).load(path, env=env)
    except Exception as exc:
        raise CheckpointError(f"{path} cannot be loaded ({type(exc).__name__}: {exc})") from exc


def evaluate_run(
    run_dir: str | Path, *, episodes: int = 10, samples: int = 100, seed: int = 10_000
) -> dict[str, Any]:
    """Measure the model of ``run_dir`` (see the module docstring).

    Args:
        run_dir: a run directory with ``model.zip``.
        episodes: evaluation episodes (seeds ``seed, seed + 1, ...``).
        samples: policy samples per visited state for the valid-action rate.
        seed: first episode seed.

    Raises:
        CheckpointError: not a finished run, or a model that cannot be loaded.
    """
    import acrl_wrappers as acrl
    from acrl_wrappers.testing import ActionProbe

    acrl.load_plugins()
    for name, count in (("episodes", episodes), ("samples", samples)):
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(f"{name} must be a positive integer, got {count!r}")
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    _model_file(run_dir)  # before anything is built
    constraint = config.task_constraint()
    c = None if constraint is None else acrl.make_constraint(constraint)
    probes: list[ActionProbe] = []

    def probe(env: Any) -> Any:
        probes.append(ActionProbe(env, c, keep=False))
        return probes[-1]

    env = make_env(config, probe=probe)
    venv: Any = DummyVecEnv([lambda: env])
    if (run_dir / "vecnormalize.pkl").exists():
        venv = VecNormalize.load(str(run_dir / "vecnormalize.pkl"), venv)
        venv.training, venv.norm_reward = False, False
    model = _load(run_dir, config, venv)
    norm = venv.normalize_obs if isinstance(venv, VecNormalize) else (lambda o: o)
    returns, costs, valid, states = [], [], [], []
    qp_solves = projections = 0
    net = safety_net_counts(model)
    net_projections_before = 0 if net is None else net.projections
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        done, cost = False, 0.0
        while not done:
            policy_obs = norm(obs)
            if c is not None:
                proposals = policy_samples(model, policy_obs, samples)
                valid.append(float(c.contains(proposals, obs if c.obs_dim else None).mean()))
            states.append(policy_obs)
            action, _ = model.predict(policy_obs, deterministic=True)
            obs, _, terminated, truncated, info = env.step(action)
            cost += float(info.get("cost", 0.0))
            found = info.get("constraint", {})
            qp_solves += int(found.get("qp_solves", 0))
            projections += found.get("enforcement") in ("projected", "fallback")
            done = terminated or truncated
            if done and "episode" in info:
                returns.append(float(info["episode"]["r"]))
        costs.append(cost)
    if net is not None:  # the method's own safety net (ARAM, flows) projects inside predict
        projections += net.projections - net_projections_before
        qp_solves += net.projections - net_projections_before
    return {
        "run_dir": str(run_dir),
        "algo": config.algo,
        "env": config.env,
        "enforce": config.enforce,
        "episodes": episodes,
        "samples_per_state": samples,
        "return_mean": float(np.mean(returns)) if returns else None,
        "return_std": float(np.std(returns)) if returns else None,
        "episode_cost": float(np.mean(costs)),
        "valid_action_rate": float(np.mean(valid)) if valid else None,
        "executed_steps": probes[0].steps,
        "executed_violations": probes[0].infeasible if c is not None else None,
        "projections": projections,
        "qp_solves": qp_solves,
        "us_per_action": _inference_microseconds(model, states[:_TIMED_STATES]),
    }


def _inference_microseconds(model: Any, states: list[np.ndarray]) -> float:
    """Median wall-clock of ``model.predict`` on one observation (after a warm-up)."""
    for obs in states[:10]:
        model.predict(obs, deterministic=True)
    times = []
    for obs in states:
        start = time.perf_counter()
        model.predict(obs, deterministic=True)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6) if times else float("nan")


def format_evaluation(result: dict[str, Any]) -> str:
    """The evaluation as the aligned text ``acrl evaluate`` prints (``--json`` prints JSON)."""

    def number(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    executed = result["executed_violations"]
    lines = [
        ("run", result["run_dir"]),
        ("task", f"{result['algo']} on {result['env']} (enforce {result['enforce']})"),
        ("episodes", f"{result['episodes']} deterministic"),
        (
            "return",
            f"{number(result['return_mean'], '.2f')} ± {number(result['return_std'], '.2f')}",
        ),
        ("episode cost", f"{result['episode_cost']:.2f} ({_cost_meaning(result)})"),
        (
            "valid-action rate",
            number(result["valid_action_rate"], ".3f")
            + f" (feasible share of {result['samples_per_state']} policy samples per visited "
            "state)",
        ),
        (
            "executed violations",
            "-"
            if executed is None
            else f"{executed} of {result['executed_steps']} executed actions",
        ),
        ("projections", f"{result['projections']} (QP solves: {result['qp_solves']})"),
        ("inference", f"{result['us_per_action']:.0f} µs per action (batch 1, median)"),
    ]
    return "\n".join(f"{key + ':':<21} {value}" for key, value in lines)


def _cost_meaning(result: dict[str, Any]) -> str:
    if result["valid_action_rate"] is None:
        return "summed info['cost'] per episode"
    return "infeasible actions the policy chose per episode, before enforcement"


def dumps(result: dict[str, Any]) -> str:
    """``result`` as JSON (``acrl evaluate --json``)."""
    return json.dumps(result, indent=2)
