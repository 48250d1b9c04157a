"""``acrl evaluate``: a trained run measured the papers' way.

- deployment: ``"acceptance-rejection"`` (ARAM's way, the default for ARAM and for
  models trained under ``AutoMDP``): ``samples`` actions are drawn from the stochastic
  policy, the first feasible one is executed, and the last is projected when none is;
  it cannot get stuck re-proposing an infeasible mean action. ``"deterministic"`` (the
  default otherwise) executes the mean action through the run's enforcement wrapper;
- return and episode cost over ``episodes`` episodes (task return, from ``Monitor``
  inside the enforcement wrapper);
- valid-action rate: the fraction of ``samples`` policy samples that are feasible, per
  distinct simulator state (a self-loop's repeated observation is not a new state; ARAM's
  measure);
- executed violations: actions outside the constraint that reached the simulator, counted
  by an :class:`~acrl_wrappers.testing.ActionProbe` directly around it;
- QP solves of the enforcement wrapper and of the method's own safety net;
- per-action inference time at batch 1 (``model.predict``): the median over visited
  states, in each of several rounds, and the median of the rounds.
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
from acrl_policies.arm import first_feasible
from acrl_policies.common.safety_net import safety_net_counts

__all__ = [
    "DEPLOYMENTS",
    "default_deployment",
    "evaluate_run",
    "format_evaluation",
    "policy_samples",
]

_TIMED_STATES = 200
_TIMING_ROUNDS = 5
DEPLOYMENTS = ("acceptance-rejection", "deterministic")
"""How ``acrl evaluate --deploy`` turns the policy into executed actions."""


def default_deployment(algo: str, enforce: str | None) -> str:
    """ARAM's acceptance-rejection for ARAM and ``AutoMDP``-trained models, else deterministic.

    Example:
        >>> default_deployment("sac", "automdp"), default_deployment("sac", "project")
        ('acceptance-rejection', 'deterministic')
    """
    return "acceptance-rejection" if algo == "aram" or enforce == "automdp" else "deterministic"


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
    run_dir: str | Path,
    *,
    episodes: int = 10,
    samples: int = 100,
    seed: int = 10_000,
    deploy: str | None = None,
) -> dict[str, Any]:
    """Measure the model of ``run_dir`` (see the module docstring).

    Args:
        run_dir: a run directory with ``model.zip``.
        episodes: evaluation episodes (seeds ``seed, seed + 1, ...``).
        samples: policy samples per visited state for the valid-action rate, and M, the
            proposals per step of acceptance-rejection.
        seed: first episode seed.
        deploy: one of :data:`DEPLOYMENTS`; ``None``: :func:`default_deployment`.

    Raises:
        CheckpointError: not a finished run, or a model that cannot be loaded.
    """
    import acrl_wrappers as acrl
    from acrl_wrappers.testing import ActionProbe

    acrl.load_plugins()
    for name, count in (("episodes", episodes), ("samples", samples)):
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigError(f"{name} must be a positive integer, got {count!r}")
    if deploy is not None and deploy not in DEPLOYMENTS:
        raise ConfigError(f"deploy must be one of {DEPLOYMENTS}, got {deploy!r}")
    run_dir = Path(run_dir)
    config = read_config(run_dir)
    _model_file(run_dir)  # before anything is built
    constraint = config.task_constraint()
    c = None if constraint is None else acrl.make_constraint(constraint)
    deploy = deploy or default_deployment(config.algo, config.enforce)
    if c is None:
        deploy = "deterministic"  # nothing to accept or reject
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
    qp_solves = projections = self_loops = 0
    deployment = _Deployment(model, c, deploy, samples)
    net = safety_net_counts(model)
    net_projections_before = 0 if net is None else net.projections
    for episode in range(episodes):
        obs, _ = env.reset(seed=seed + episode)
        done, cost, new_state = False, 0.0, True
        while not done:
            policy_obs = norm(obs)
            proposals = None
            if c is not None:
                proposals = policy_samples(model, policy_obs, samples)
                if new_state:  # each simulator state once, not once per self-loop
                    valid.append(float(c.contains(proposals, obs if c.obs_dim else None).mean()))
            states.append(policy_obs)
            action = deployment.act(policy_obs, obs, proposals)
            executed_before = probes[0].steps
            obs, _, terminated, truncated, info = env.step(action)
            new_state = probes[0].steps > executed_before
            self_loops += not new_state
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
    projections += deployment.projections
    qp_solves += deployment.projections
    return {
        "run_dir": str(run_dir),
        "algo": config.algo,
        "env": config.env,
        "enforce": config.enforce,
        "episodes": episodes,
        "deploy": deploy,
        "accepted_rate": deployment.accepted_rate,
        "samples_per_state": samples,
        "return_mean": float(np.mean(returns)) if returns else None,
        "return_std": float(np.std(returns)) if returns else None,
        "episode_cost": float(np.mean(costs)),
        "valid_action_rate": float(np.mean(valid)) if valid else None,
        "executed_steps": probes[0].steps,
        "self_loops": self_loops,
        "distinct_states": len(valid),
        "executed_violations": probes[0].infeasible if c is not None else None,
        "projections": projections,
        "qp_solves": qp_solves,
        "us_per_action": _inference_microseconds(model, states[:_TIMED_STATES]),
    }


class _Deployment:
    """Turns the policy into the action sent to the env: deterministic, or acceptance-rejection.

    Acceptance-rejection executes the first feasible of the step's policy samples (the same
    ones the valid-action rate counts) and projects the last when none is feasible, so at
    most ``samples`` proposals are made per simulator step.
    """

    def __init__(self, model: Any, constraint: Any, mode: str, samples: int) -> None:
        import acrl_wrappers as acrl

        self.model, self.constraint, self.mode, self.samples = model, constraint, mode, samples
        self.projector = None if constraint is None else acrl.make_projector(constraint)
        self.steps = self.accepted = self.projections = 0

    def act(self, policy_obs: np.ndarray, raw_obs: np.ndarray, proposals: Any) -> np.ndarray:
        if self.mode == "deterministic":
            action, _ = self.model.predict(policy_obs, deterministic=True)
            return np.asarray(action)
        c = self.constraint
        obs = np.asarray(raw_obs, dtype=np.float64) if c.obs_dim else None
        candidates = np.asarray(proposals, dtype=np.float64)[None]
        index, violation = first_feasible(c, candidates, None if obs is None else obs[None])
        self.steps += 1
        if index[0] >= 0:
            self.accepted += 1
            return candidates[0, index[0]]
        self.projections += 1
        projected, _ = self.projector.project_checked(candidates[0, -1], obs, violation[0, -1])
        return projected

    @property
    def accepted_rate(self) -> float | None:
        """Share of steps answered by an accepted sample (``None`` when deterministic)."""
        return self.accepted / self.steps if self.steps else None


def _inference_microseconds(model: Any, states: list[np.ndarray]) -> float:
    """``model.predict`` wall-clock on one observation: median of :data:`_TIMING_ROUNDS` rounds.

    Each round times every state once and takes the median, so one busy moment on a shared
    machine does not become the figure.
    """
    for obs in states[:10]:
        model.predict(obs, deterministic=True)
    rounds = []
    for _ in range(_TIMING_ROUNDS if states else 0):
        times = []
        for obs in states:
            start = time.perf_counter()
            model.predict(obs, deterministic=True)
            times.append(time.perf_counter() - start)
        rounds.append(float(np.median(times)))
    return float(np.median(rounds) * 1e6) if rounds else float("nan")


def format_evaluation(result: dict[str, Any]) -> str:
    """The evaluation as the aligned text ``acrl evaluate`` prints (``--json`` prints JSON)."""

    def number(value: Any, fmt: str) -> str:
        return "-" if value is None else format(value, fmt)

    executed = result["executed_violations"]
    lines = [
        ("run", result["run_dir"]),
        ("task", f"{result['algo']} on {result['env']} (enforce {result['enforce']})"),
        ("episodes", f"{result['episodes']}, deployed {_deployment_text(result)}"),
        (
            "return",
            f"{number(result['return_mean'], '.2f')} ± {number(result['return_std'], '.2f')}",
        ),
        ("episode cost", f"{result['episode_cost']:.2f} ({_cost_meaning(result)})"),
        (
            "valid-action rate",
            number(result["valid_action_rate"], ".3f")
            + f" (feasible share of {result['samples_per_state']} policy samples per distinct "
            "simulator state)",
        ),
        (
            "executed violations",
            "-"
            if executed is None
            else f"{executed} of {result['executed_steps']} executed actions",
        ),
        ("projections", f"{result['projections']} (QP solves: {result['qp_solves']})"),
        ("self-loops", f"{result['self_loops']} (rejected proposals answered without a step)"),
        (
            "inference",
            f"{result['us_per_action']:.0f} µs per action (batch 1, median of "
            f"{_TIMING_ROUNDS} rounds)",
        ),
    ]
    return "\n".join(f"{key + ':':<21} {value}" for key, value in lines)


def _deployment_text(result: dict[str, Any]) -> str:
    if result.get("deploy") != "acceptance-rejection":
        return "deterministic (the mean action)"
    rate = result.get("accepted_rate")
    share = "" if rate is None else f"; {rate:.3f} of steps took a feasible sample"
    return (
        f"by acceptance-rejection (up to {result['samples_per_state']} samples, else "
        f"projection{share})"
    )


def _cost_meaning(result: dict[str, Any]) -> str:
    if result["valid_action_rate"] is None:
        return "summed info['cost'] per episode"
    return "infeasible actions the policy chose per episode, before enforcement"


def dumps(result: dict[str, Any]) -> str:
    """``result`` as JSON (``acrl evaluate --json``)."""
    return json.dumps(result, indent=2)
