"""``acrl check``: feasibility, speed and projection quality of a constraint on random input."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import ProjectionError
from acrl_wrappers.factories import make_projector

__all__ = ["CheckReport", "random_observations", "run_check"]


@dataclass
class CheckReport:
    """Result of :func:`run_check`; :meth:`format` renders it for a terminal."""

    spec: dict[str, Any]
    projector: str
    samples: int
    obs_std: float
    obs_dim: int
    feasible_fraction: float
    violation_us: float
    violation_batch_us: float
    projected: int
    project_us_median: float
    project_us_p90: float
    inside: int
    failures: list[str] = field(default_factory=list)
    max_violation_after: float = 0.0
    tol: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether every projection succeeded and landed inside the set."""
        return not self.failures and self.inside == self.projected

    def format(self) -> str:
        """Human-readable summary."""
        obs = (
            f"observations ~ N(0, {self.obs_std:g}^2) on {self.obs_dim} entries"
            if self.obs_dim
            else "state-independent"
        )
        lines = [
            f"constraint  {self.spec['name']}  {json.dumps(self.spec)}",
            f"projector   {self.projector}",
            f"samples     {self.samples} uniform actions in the box ({obs})",
            f"feasible    {100 * self.feasible_fraction:.1f} % of them",
            f"violation   {self.violation_us:.1f} us per action, "
            f"{self.violation_batch_us:.1f} us per batch of 1000",
            f"projection  {self.project_us_median:.1f} us median, {self.project_us_p90:.1f} us p90"
            f" ({self.projected} infeasible actions projected)",
            f"inside      {self.inside} / {self.projected} projections feasible "
            f"(max violation {self.max_violation_after:.2g}, tol {self.tol:g})",
        ]
        lines += [f"FAILED      {f}" for f in self.failures[:5]]
        lines.append("result      ok" if self.ok else "result      PROBLEMS FOUND")
        return "\n".join(lines)


def random_observations(
    constraint: Constraint, n: int, rng: np.random.Generator, std: float = 10.0
) -> np.ndarray | None:
    """``n`` observations ``N(0, std^2)`` of the length the constraint reads (``None`` if none)."""
    if constraint.obs_dim == 0:
        return None
    return rng.normal(0.0, std, size=(n, constraint.obs_dim))


def _median_us(fn: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def run_check(
    constraint: Constraint,
    *,
    samples: int = 1000,
    seed: int = 0,
    obs_std: float = 10.0,
    method: str | None = None,
) -> CheckReport:
    """Draw uniform actions (and Gaussian observations), time ``violation`` and ``project``.

    Example:
        >>> import acrl_wrappers as acrl
        >>> report = run_check(acrl.make_constraint("ball", bound=0.05, dim=2), samples=200)
        >>> report.ok, report.projected == report.inside
        (True, True)
    """
    rng = np.random.default_rng(seed)
    c = constraint
    actions = rng.uniform(c.low, c.high, size=(samples, c.dim))
    obs = random_observations(c, samples, rng, obs_std)
    feasible = np.asarray(c.contains(actions, obs))
    one_obs = None if obs is None else obs[0]
    violation_us = _median_us(lambda: c.violation(actions[0], one_obs), 2000)
    batch = np.resize(actions, (1000, c.dim))
    batch_obs = None if obs is None else np.resize(obs, (1000, c.obs_dim))
    violation_batch_us = _median_us(lambda: c.violation(batch, batch_obs), 50)
    projector = make_projector(c, method)
    times, failures, inside, worst = [], [], 0, 0.0
    for i in np.flatnonzero(~feasible):
        row_obs = None if obs is None else obs[i]
        start = time.perf_counter()
        try:
            x, _ = projector.project(actions[i], row_obs)
        except ProjectionError as exc:
            failures.append(f"sample {i}: {exc}")
            continue
        times.append(time.perf_counter() - start)
        after = float(c.violation(x, row_obs))
        worst = max(worst, after)
        inside += after <= c.tol
    times_us = np.asarray(times) * 1e6 if times else np.zeros(1)
    return CheckReport(
        spec=c.spec,
        projector=projector.name,
        samples=samples,
        obs_std=obs_std,
        obs_dim=c.obs_dim,
        feasible_fraction=float(feasible.mean()),
        violation_us=violation_us,
        violation_batch_us=violation_batch_us,
        projected=int((~feasible).sum()),
        project_us_median=float(np.median(times_us)),
        project_us_p90=float(np.percentile(times_us, 90)),
        inside=inside,
        failures=failures,
        max_violation_after=worst,
        tol=c.tol,
    )
