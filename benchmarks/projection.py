"""Speed of constraint checks and projections, per family, in 6-D and 2-D.

Docs: README.md, section "Benchmarks". Run:

    python benchmarks/projection.py            # full run, writes benchmarks/results/projection.md
    python benchmarks/projection.py --repeats 200 --output /tmp/p.md   # quick

For every family instance it reports median microseconds for
- ``violation`` of one action (the per-step check an enforcement wrapper makes),
- ``violation`` of a batch of 1000 actions (acceptance-rejection proposals),
- ``project`` of an infeasible action, for every projector that supports the family,
  plus a naive OSQP baseline that rebuilds the problem on every call (setup + solve),
  the way a straightforward implementation (or the published code's per-call Gurobi
  model) works;
- ``project_batch`` of 64 infeasible actions (each with its own state) by the chosen
  projector, per action: the path the vector-env wrappers take.
States are random (observations ~ N(0, 10^2); for the state-dependent families of issue
18 — slew rates, moving balls and boxes, capped simplices — states that keep the set
non-empty: previous actions and centres in the box, radii and caps in a range), actions
uniform in the box (in a box twice as wide for the box family); only infeasible actions
are projected.
Targets (issue "Foundation"): violation of one action <= 5 us; closed-form projection
<= 10 us; OSQP projection of the 6-D power constraint <= 100 us median. Issue 18: the new
families' closed forms <= 20 us per action at batch 1 in 6-D and <= 2 us per action in a
batch of 64.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import osqp
import scipy.sparse as sp

import acrl_wrappers as acrl
from acrl_wrappers.projection.osqp_projector import OSQP_SETTINGS


@dataclass
class Args:
    """Command-line arguments."""

    repeats: int = 2000
    """timed calls per measurement (projections: up to this many infeasible actions)"""
    seed: int = 0
    """seed of actions, observations and random matrices"""
    output: str = os.path.join(os.path.dirname(__file__), "results", "projection.md")
    """where to write the markdown table"""


ObsSampler = Callable[[np.random.Generator, int], np.ndarray]


def gaussian(c: acrl.Constraint) -> ObsSampler:
    """Observations ~ N(0, 10^2) of the length the constraint reads."""
    return lambda rng, n: rng.normal(0.0, 10.0, size=(n, c.obs_dim))


def previous_action(dim: int) -> ObsSampler:
    """``dim`` joint-velocity-like entries, then a previous action uniform in [-1, 1]."""
    return lambda rng, n: np.c_[rng.normal(0, 10.0, (n, dim)), rng.uniform(-1, 1, (n, dim))]


def moving_ball(dim: int) -> ObsSampler:
    """A centre uniform in [-0.5, 0.5]^dim, then a radius entry in [0.1, 1]."""
    return lambda rng, n: np.c_[rng.uniform(-0.5, 0.5, (n, dim)), rng.uniform(0.1, 1.0, n)]


def caps(dim: int) -> ObsSampler:
    """Free docks per station in [0, 1] (total bikes stay reachable)."""
    return lambda rng, n: rng.uniform(0.0, 1.0, (n, dim))


def new_instances() -> list[tuple[str, acrl.Constraint, ObsSampler | None]]:
    """The families of issue 18, in 6-D and 2-D, with states that keep them non-empty."""
    out: list[tuple[str, acrl.Constraint, ObsSampler | None]] = []
    for d in (6, 2):
        prev = f"{d}:{2 * d}"
        out += [
            ("slew-rate", acrl.make_constraint("slew-rate", delta=0.2, prev_index=prev), None),
            (
                "slew-rate (l2)",
                acrl.make_constraint("slew-rate", delta=0.3, prev_index=prev, norm="l2"),
                None,
            ),
            (
                "ball (c(s), r(s))",
                acrl.make_constraint(
                    "ball", center={"index": list(range(d))}, radius={"index": d}, dim=d
                ),
                moving_ball(d),
            ),
            ("simplex", acrl.make_constraint("simplex", dim=d, low=0.0), None),
            (
                "capped-simplex (u(s))",
                acrl.make_constraint(
                    "capped-simplex",
                    caps={"index": list(range(d)), "scale": 0.5, "offset": 0.25},
                    total=0.2 * d,  # below the smallest sum of caps (0.25 d): never a point
                    low=0.0,
                ),
                caps(d),
            ),
        ]
        for i in range(len(out) - 5, len(out) - 3):
            out[i] = (out[i][0], out[i][1], previous_action(d))
    out.insert(5, ("psd (3x3)", acrl.make_constraint("psd", n=3, eps=0.05), None))
    out.append(("psd (2x2)", acrl.make_constraint("psd", n=2, eps=0.05), None))
    return out


def instances(rng: np.random.Generator) -> list[tuple[str, acrl.Constraint]]:
    """One instance per family and size, shaped like the benchmark tasks."""
    q6 = rng.normal(size=(6, 6))
    q2 = rng.normal(size=(2, 2))
    nsf = np.array(
        [
            [1, 1, 0, 1, 1, 0],
            [0, 0, 1, 0, 0, 1],
            [1, 1, 0, 1, 0, 0],
            [0, 0, 1, 0, 1, 1],
            [0, 1, 0, 1, 0, 0],
            [1, 0, 0, 0, 0, 0],
        ],
        float,
    )
    return [
        ("box", acrl.make_constraint("box", dim=6)),
        ("box", acrl.make_constraint("box", dim=2)),
        ("ball", acrl.make_constraint("ball", bound=2.0, dim=6)),
        ("ball", acrl.make_constraint("ball", bound=0.05, dim=2)),
        ("power", acrl.make_constraint("power", bound=20.0, weight_index="11:17")),
        ("power", acrl.make_constraint("power", bound=1.0, weight_index="6:8")),
        (
            "positive-power",
            acrl.make_constraint("positive-power", bound=10.0, weight_index="11:17"),
        ),
        ("positive-power", acrl.make_constraint("positive-power", bound=1.0, weight_index="6:8")),
        ("linear", acrl.make_constraint("linear", A=nsf, b=2.0 - nsf.sum(axis=1))),
        ("linear", acrl.make_constraint("linear", A=[[1.0, 1.0], [1.0, -2.0]], b=[0.5, 0.2])),
        ("quadratic", acrl.make_constraint("quadratic", Q=q6 @ q6.T, bound=1.0)),
        ("quadratic", acrl.make_constraint("quadratic", Q=q2 @ q2.T, bound=0.1)),
        ("sum-band", acrl.make_constraint("sum-band", target=1.0, width=0.1, dim=6)),
        ("sum-band", acrl.make_constraint("sum-band", target=1.0, width=0.1, dim=2)),
        (
            "intersection",
            acrl.make_constraint(
                "intersection",
                members=[
                    {"name": "power", "bound": 20.0, "weight_index": "11:17"},
                    {"name": "sum-band", "target": 0.0, "width": 1.0, "dim": 6},
                ],
            ),
        ),
        (
            "intersection",
            acrl.make_constraint(
                "intersection",
                members=[
                    {"name": "power", "bound": 1.0, "weight_index": "6:8"},
                    {"name": "linear", "A": [[1.0, -1.0]], "b": [0.3]},
                ],
            ),
        ),
    ]


def median_us(fn, repeats: int) -> float:
    """Median wall time of ``fn()`` in microseconds."""
    times = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        fn()
        times[i] = time.perf_counter() - start
    return float(np.median(times) * 1e6)


def naive_osqp_us(c: acrl.Constraint, actions: np.ndarray, obs: np.ndarray | None) -> float:
    """Median us of set-up-and-solve per call (no reuse, no warm start): the baseline."""
    form = c.qp_form()
    box = acrl.projection.QPForm.constant(np.eye(c.dim), c.low, c.high)
    full = acrl.projection.QPForm.stack([form, box]) if form.n_rows else box
    n = full.n_vars
    p = sp.triu(sp.diags(np.r_[np.ones(c.dim), np.zeros(n - c.dim)]), format="csc")
    times = []
    for i, a in enumerate(actions):
        start = time.perf_counter()
        entries, lower, upper = full.values(None if obs is None else obs[i : i + 1])
        solver = osqp.OSQP()
        solver.setup(
            p, np.r_[-a, np.zeros(n - c.dim)], full.matrix(entries), lower, upper, **OSQP_SETTINGS
        )
        solver.solve(raise_error=False)
        times.append(time.perf_counter() - start)
    return float(np.median(times) * 1e6)


def batch_us(c: acrl.Constraint, actions: np.ndarray, obs: np.ndarray | None, args: Args) -> float:
    """Median us per action of the chosen projector's ``project_batch`` on 64 actions."""
    projector = acrl.make_projector(c)
    blocks = [
        (actions[i : i + 64], None if obs is None else obs[i : i + 64])
        for i in range(0, len(actions) - 63, 64)
    ][:20]
    if not blocks:
        return float("nan")
    rounds = max(3, args.repeats // (20 * len(blocks)))
    times = []
    for _ in range(rounds):
        for a, o in blocks:
            start = time.perf_counter()
            projector.project_batch(a, o)
            times.append((time.perf_counter() - start) / 64)
    return float(np.median(times) * 1e6)


def measure(
    c: acrl.Constraint, args: Args, rng: np.random.Generator, sampler: ObsSampler | None = None
) -> dict[str, object]:
    """All timings for one constraint instance."""
    n = max(args.repeats, 1000)
    # actions uniform in the box; for the box itself, in a box twice as wide (else nothing
    # would need projecting)
    spread = 0.5 * (c.high - c.low) if c.family == "box" else 0.0
    actions = rng.uniform(c.low - spread, c.high + spread, size=(n, c.dim))
    obs = (sampler or gaussian(c))(rng, n) if c.obs_dim else None
    one_obs = None if obs is None else obs[0]
    row = {
        "violation_1": median_us(lambda: c.violation(actions[0], one_obs), args.repeats),
        "violation_1000": median_us(
            lambda: c.violation(actions[:1000], None if obs is None else obs[:1000]),
            max(20, args.repeats // 50),
        ),
    }
    every_infeasible = np.flatnonzero(~np.asarray(c.contains(actions, obs)))
    row["infeasible"] = float(len(every_infeasible) / n)
    infeasible = every_infeasible[: args.repeats]
    projections = {}
    for entry in acrl.list_projectors():
        try:
            projector = acrl.make_projector(c, entry["name"])
        except acrl.ProjectionError:
            continue
        times = []
        for i in infeasible:
            row_obs = None if obs is None else obs[i]
            start = time.perf_counter()
            projector.project(actions[i], row_obs)
            times.append(time.perf_counter() - start)
        projections[entry["name"]] = float(np.median(times) * 1e6) if times else float("nan")
    if c.qp_form() is not None and len(infeasible):
        projections["naive osqp (rebuild)"] = naive_osqp_us(
            c, actions[infeasible[:200]], None if obs is None else obs[infeasible[:200]]
        )
    row["projections"] = projections
    row["chosen"] = acrl.make_projector(c).name
    chosen = every_infeasible
    row["batch_64"] = batch_us(c, actions[chosen], None if obs is None else obs[chosen], args)
    return row


def main() -> None:
    """Run every instance, print and write the table."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    for name, default in vars(Args()).items():
        parser.add_argument(f"--{name}", type=type(default), default=default)
    args = Args(**vars(parser.parse_args()))
    rng = np.random.default_rng(args.seed)
    lines = [
        "# Projection and violation speed",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on "
        f"{platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, numpy {np.__version__}, "
        f"osqp {osqp.__version__}, acrl-wrappers {acrl.__version__}; "
        f"repeats {args.repeats}, seed {args.seed}. The machine is shared: load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} at the start (medians include "
        "time other processes took).",
        "Median microseconds per call. `project` columns time infeasible actions only; "
        "the chosen projector (what `acrl.make_projector` picks) is marked *.",
        "",
        "| family | dim | infeasible | violation (1) | violation (1000) | project: closed-form "
        "| project: osqp | project: nonlinear | naive osqp (rebuild) | batch of 64, per action |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    every = [(f, c, None) for f, c in instances(rng)] + new_instances()
    for family, c, sampler in every:
        with contextlib.redirect_stdout(open(os.devnull, "w")):
            row = measure(c, args, rng, sampler)
        cells = []
        for key in ("closed-form", "osqp", "nonlinear", "naive osqp (rebuild)"):
            value = row["projections"].get(key)
            mark = "*" if key == row["chosen"] else ""
            cells.append("—" if value is None else f"{value:.1f}{mark}")
        lines.append(
            f"| {family} | {c.dim} | {100 * row['infeasible']:.0f} % | {row['violation_1']:.1f} | "
            f"{row['violation_1000']:.1f} | " + " | ".join(cells) + f" | {row['batch_64']:.2f} |"
        )
        print(lines[-1], flush=True)
    lines += [
        "",
        "Instances: "
        + "; ".join(f"`{c.spec}`" for _, c in instances(np.random.default_rng(args.seed)))
        + "; "
        + "; ".join(f"`{c.spec}`" for _, c, _ in new_instances()),
    ]
    os.makedirs(os.path.dirname(args.output) or ".", exist_ok=True)
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
