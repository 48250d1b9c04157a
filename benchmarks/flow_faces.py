"""Flows where a saturated tanh actor acts: feasibility on the base box's outer shell.

A deterministic actor's tanh output crowds the base box's faces, where a box-onto-box
spline flow maps onto the action box's faces. This trains FlowPG's flow for
`halfcheetah-o20` (the task's conditions, U[-20, 20]) with and without the reverse-KL
term on that shell (`face_fraction`) and reports, besides accuracy and coverage on
uniform base samples, the feasible share of the flow's outputs at base points whose
coordinates lie in the outer 1 % of the box: half of them (`shell, half`) or all of them
(`shell, all`). One thread. Run:

    python benchmarks/flow_faces.py                      # ~4 min, writes results/flow_faces.md
    python benchmarks/flow_faces.py --updates 300 --output /tmp/faces.md   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import datetime, timezone

import gymnasium as gym
import numpy as np
import torch

import acrl_wrappers as acrl
from acrl_policies.flows import Conditioning, FlowCheckpoint, evaluate_flow, train_flow
from acrl_policies.flows.visited import task_condition

RESULTS = os.path.join(os.path.dirname(__file__), "results")
CONSTRAINT, TASK = "halfcheetah-o20", "ACRL/HalfCheetahO20-v0"


def shell_feasibility(ckpt: FlowCheckpoint, share: float, n: int, seed: int) -> float:
    """Feasible share of outputs at base points with ``share`` of coordinates in the shell."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(-1.0, 1.0, (n, ckpt.constraint.dim))
    chosen = rng.random(z.shape) < share
    z[chosen] = np.sign(z[chosen]) * rng.uniform(0.99, 1.0, int(chosen.sum()))
    cond = ckpt.conditioning
    y = ckpt.condition.sample(n, cond.dim, rng)
    with torch.no_grad():
        a, _ = ckpt.flow(torch.as_tensor(z, dtype=ckpt.dtype), torch.as_tensor(y, dtype=ckpt.dtype))
    v = ckpt.constraint._violation(a.double().numpy(), cond.observations(y))
    return float(np.mean(v <= ckpt.constraint.tol))


def main() -> None:
    """Train one flow per face_fraction, print and write the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=2000, help="flow updates (500 per epoch)")
    parser.add_argument("--faces", default="0,0.15,0.3", help="face_fraction values")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=os.path.join(RESULTS, "flow_faces.md"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    acrl.load_plugins()
    cond = Conditioning(acrl.make_constraint(CONSTRAINT))
    dist, source = task_condition(gym.make(TASK), cond)
    epochs, per_epoch = max(1, args.updates // 500), min(500, args.updates)
    rows = []
    for face in (float(f) for f in args.faces.split(",")):
        start = time.process_time()
        ckpt = train_flow(
            CONSTRAINT,
            method="flowpg",
            epochs=epochs,
            steps_per_epoch=per_epoch,
            condition=dist.to_dict(),
            face_fraction=face,
            eval_samples=5000,
            seed=args.seed,
        )
        cpu = time.process_time() - start
        m = evaluate_flow(ckpt, n=10_000, seed=7)
        cells = [m["accuracy"], m["coverage"]]
        cells += [shell_feasibility(ckpt, s, 5000, 3) for s in (0.5, 1.0)]
        row = f"| {face:g} | " + " | ".join(f"{100 * c:.2f}" for c in cells) + f" | {cpu:.0f} |"
        print(row, flush=True)
        rows.append(row)
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# FlowPG's flow on the outer shell of the base box",
        "",
        f"Run {when}, `python benchmarks/flow_faces.py` ({args.updates} updates per flow, "
        f"seed {args.seed}, conditions: {dist} ({source}), one thread). Percentages; "
        "shell: base points with half / all coordinates in `0.99 <= |z_i| <= 1`.",
        "",
        "| face_fraction | accuracy | coverage | shell, half | shell, all | CPU s |",
        "|---|---|---|---|---|---|",
        *rows,
        "",
    ]
    with open(args.output, "w") as fh:
        fh.write("\n".join(lines))
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
