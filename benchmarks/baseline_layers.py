"""Per-action cost of the baselines' layers: differentiable projection and linear oracle.

Docs: packages/acrl-policies/README.md, section "Projection baselines". Run:

    python benchmarks/baseline_layers.py          # writes benchmarks/results/baseline_layers.md
    python benchmarks/baseline_layers.py --repeats 3 --output /tmp/b.md   # quick

At batch 256 (one TD3 minibatch), median microseconds per action of:
- the differentiable projection's forward pass alone (no autograd), and forward +
  backward (the DOpt actor's cost per update), with their ratio (issue 20's target for
  the 6-D power constraint: <= 3);
- the candidates for QP-representable sets on the 6-D power constraint: acrl's OSQP
  layer (OSQP forward, polished; batched KKT solve backward), and OSQP 1.x's own adjoint
  derivatives (``adjoint_derivative_compute``), which need the solver of each row, so the
  backward pass re-solves row by row; qpth and cvxpylayers are not installed here (they
  solve every QP again by an interior-point method) and are not measured;
- the linear-maximisation oracle (NFWPO's step): closed form in torch, and the HiGHS
  linear program (one block-diagonal LP per batch, and one LP per row for comparison).
States: observations ~ N(0, 15^2) where the constraint reads them; actions uniform in
[-2, 2] (mostly infeasible), gradients N(0, 1).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import osqp
import scipy.sparse as sp
import torch

import acrl_wrappers as acrl
from acrl_policies.constraints import DifferentiableProjection, LinearMaximizationOracle
from acrl_policies.constraints.qp_layer import QPProjection
from acrl_wrappers.projection.osqp_projector import OSQP_SETTINGS
from acrl_wrappers.projection.qp import QPForm


@dataclass
class Args:
    """Command-line arguments."""

    repeats: int = 30
    """Timed repetitions per measurement (the median is reported)."""
    batch: int = 256
    """Actions per call."""
    output: str = os.path.join(os.path.dirname(__file__), "results", "baseline_layers.md")
    """Where the markdown table goes."""


TASKS = ["reacher-l2", "halfcheetah-o20", "hopper-m10", "ant-l2", "halfcheetah-slew02",
         "bss5z", "nsfnet"]  # fmt: skip


def median_us(fn: Callable[[], object], repeats: int, per: int) -> float:
    """Median wall time of ``fn`` in microseconds per item (``per`` items a call)."""
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6 / per


def inputs(c: acrl.Constraint, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray | None]:
    """Random actions (mostly infeasible) and observations for ``c``."""
    rng = np.random.default_rng(seed)
    actions = rng.uniform(-2.0, 2.0, size=(n, c.dim))
    obs = rng.normal(0.0, 15.0, size=(n, c.obs_dim)) if c.obs_dim else None
    if c.family == "slew-rate":  # the previous action lies in the box
        obs = rng.uniform(-1.0, 1.0, size=(n, c.obs_dim))
    return actions, obs


def projection_row(name: str, args: Args) -> list[str]:
    """Forward, forward + backward and their ratio for one task constraint."""
    c = acrl.make_constraint(name)
    layer = DifferentiableProjection(c)
    a, obs = inputs(c, args.batch)
    obs_t = None if obs is None else torch.tensor(obs)
    v = torch.randn(args.batch, c.dim, dtype=torch.float64)

    def forward() -> None:
        with torch.no_grad():
            layer(torch.tensor(a), obs_t)

    def forward_backward() -> None:
        x = torch.tensor(a, requires_grad=True)
        (layer(x, obs_t) * v).sum().backward()

    fwd = median_us(forward, args.repeats, args.batch)
    both = median_us(forward_backward, args.repeats, args.batch)
    return [name, layer.method, f"{fwd:.2f}", f"{both:.2f}", f"{both / fwd:.2f}"]


def qp_candidates(args: Args) -> list[list[str]]:
    """The 6-D power constraint through the QP paths (as if it had no closed form)."""
    c = acrl.make_constraint("halfcheetah-o20")
    a, obs = inputs(c, args.batch)
    v = np.random.default_rng(1).normal(size=a.shape)
    layer = QPProjection(c)
    repeats = max(1, args.repeats // 5)

    def layer_forward() -> None:
        with torch.no_grad():
            layer(torch.tensor(a), obs)

    def layer_both() -> None:
        x = torch.tensor(a, requires_grad=True)
        (layer(x, obs) * torch.tensor(v)).sum().backward()

    form = layer.form
    d, n = c.dim, form.n_vars
    p = sp.triu(sp.diags(np.r_[np.ones(d), np.zeros(n - d)]), format="csc")
    entries, lower, upper = form.values(obs[:1])
    solver = osqp.OSQP()
    solver.setup(p, np.zeros(n), form.matrix(entries), lower, upper, **OSQP_SETTINGS)

    def adjoint(backward: bool) -> Callable[[], None]:
        def run() -> None:
            for i in range(args.batch):
                e, lo, hi = form.values(obs[i : i + 1])
                q = np.zeros(n)
                q[:d] = -a[i]
                solver.update(q=q, l=lo, u=hi, Ax=e[form.csc_order])
                solver.solve(raise_error=False)
                if backward:
                    dx = np.zeros(n)
                    dx[:d] = v[i]
                    solver.adjoint_derivative_compute(dx=dx)
                    solver.adjoint_derivative_get_vec()

        return run

    # accuracy of each candidate's gradient against acrl's closed form (exact)
    exact = DifferentiableProjection(c)
    x_t = torch.tensor(a, requires_grad=True)
    (exact(x_t, obs) * torch.tensor(v)).sum().backward()
    reference = x_t.grad.numpy()
    x_q = torch.tensor(a, requires_grad=True)
    (layer(x_q, obs) * torch.tensor(v)).sum().backward()
    kkt_error = float(np.abs(x_q.grad.numpy() - reference).max())
    grads = np.zeros_like(a)
    for i in range(args.batch):
        e, lo, hi = form.values(obs[i : i + 1])
        q = np.zeros(n)
        q[:d] = -a[i]
        solver.update(q=q, l=lo, u=hi, Ax=e[form.csc_order])
        solver.solve(raise_error=False)
        dx = np.zeros(n)
        dx[:d] = v[i]
        solver.adjoint_derivative_compute(dx=dx)
        grads[i] = -np.asarray(solver.adjoint_derivative_get_vec()[0])[:d]
    adjoint_error = float(np.abs(grads - reference).max())
    rows = []
    for label, fwd, both, err in (
        ("acrl OSQP layer (KKT backward)", layer_forward, layer_both, kkt_error),
        ("OSQP 1.x adjoint derivatives", adjoint(False), adjoint(True), adjoint_error),
    ):
        f = median_us(fwd, repeats, args.batch)
        b = median_us(both, repeats, args.batch)
        rows.append([label, f"{f:.1f}", f"{b:.1f}", f"{b / f:.2f}", f"{err:.1e}"])
    return rows


def oracle_rows(args: Args) -> list[list[str]]:
    """The oracle NFWPO uses, and the LP batched and per row, for every task constraint."""
    from scipy.optimize import linprog

    rows = []
    for name in TASKS:
        c = acrl.make_constraint(name)
        lmo = LinearMaximizationOracle(c)
        _, obs = inputs(c, args.batch)
        g = torch.randn(args.batch, c.dim, dtype=torch.float64)
        obs_t = None if obs is None else torch.tensor(obs)
        repeats = args.repeats if lmo.method == "closed-form" else max(1, args.repeats // 5)
        us = median_us(lambda lmo=lmo, g=g, obs_t=obs_t: lmo(g, obs_t), repeats, args.batch)
        lp = (
            median_us(lambda lmo=lmo, g=g, o=obs: lmo._solve_lp(g, o), 1, args.batch)
            if (c.qp_form() is not None)
            else float("nan")
        )
        form = c.qp_form()
        per_row = float("nan")
        if form is not None:
            box = QPForm.constant(np.eye(c.dim), c.low, c.high)
            stacked = QPForm.stack([form, box]) if form.n_rows else box

            def one_by_one(
                stacked: QPForm = stacked, g: torch.Tensor = g, obs=obs, d=c.dim
            ) -> None:
                for i in range(16):
                    e, lo, hi = stacked.values(None if obs is None else obs[i : i + 1])
                    m = sp.csr_matrix(
                        (e, (stacked.rows, stacked.cols)), shape=(stacked.n_rows, stacked.n_vars)
                    )
                    fin = np.isfinite(hi)
                    cost = np.zeros(stacked.n_vars)
                    cost[:d] = -g[i].numpy()
                    a_ub = sp.vstack([m[fin], -m[np.isfinite(lo)]])
                    b_ub = np.r_[hi[fin], -lo[np.isfinite(lo)]]
                    linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=(None, None), method="highs")

            per_row = median_us(one_by_one, 1, 16)
        rows.append([name, lmo.method, f"{us:.2f}", f"{lp:.1f}", f"{per_row:.1f}"])
    return rows


def table(header: list[str], rows: list[list[str]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join([*lines, *("| " + " | ".join(r) + " |" for r in rows)])


def main() -> None:
    """Measure, print and write the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for field, default in Args.__dataclass_fields__.items():
        parser.add_argument(f"--{field}", type=type(default.default), default=default.default)
    args = Args(**vars(parser.parse_args()))
    torch.set_num_threads(1)
    acrl.load_plugins()
    run = f"baseline_layers__batch{args.batch}__{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    sections = [
        f"# Baseline layers: differentiable projection and linear oracle\n\nRun `{run}`: "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__} "
        f"({torch.get_num_threads()} thread), batch {args.batch}, median of {args.repeats}. "
        "Microseconds per action.",
        "## Differentiable projection (DOpt's layer)\n\n"
        + table(
            ["constraint", "method", "forward", "forward + backward", "ratio"],
            [projection_row(name, args) for name in TASKS],
        ),
        "## QP candidates on the 6-D power constraint (HalfCheetahO20)\n\n"
        "Gradient error: max |difference| to the exact closed-form gradient on the batch.\n\n"
        + table(
            ["candidate", "forward", "forward + backward", "ratio", "gradient error"],
            qp_candidates(args),
        ),
        "## Linear-maximisation oracle (NFWPO's step)\n\n"
        "`closed form / chosen`: the oracle NFWPO uses; `LP batched`: HiGHS on one "
        "block-diagonal LP per batch; `LP per row`: one `linprog` call per action.\n\n"
        + table(["constraint", "method", "chosen", "LP batched", "LP per row"], oracle_rows(args)),
    ]
    text = "\n\n".join(sections) + "\n"
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
