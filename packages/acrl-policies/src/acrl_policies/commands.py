"""``acrl flow``: commands added to the ``acrl`` CLI by the acrl-policies plugin.

``acrl flow train --constraint reacher-l2 --method cvflow`` trains a flow, shows a progress
bar, prints the per-epoch metrics table and writes the checkpoint plus
``<checkpoint>.metrics.md``. Torch is imported only when a command runs.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import click


@click.group()
def flow() -> None:
    """Normalizing flows for action constraints (FlowPG, CV-Flow)."""


@flow.command("train")
@click.option("--constraint", "constraint", default=None, help="Registered name or JSON spec.")
@click.option(
    "--task",
    default=None,
    help="Registered task id instead of --constraint (e.g. ACRL/HalfCheetahO20-v0): its "
    "constraint, on the conditions it declares or, failing that, measured on it.",
)
@click.option(
    "--method",
    type=click.Choice(["flowpg", "cvflow"]),
    default="flowpg",
    show_default=True,
    help="flowpg: maximum likelihood on feasible samples; "
    "cvflow: reverse KL to exp(-violation/sigma).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False),
    default=None,
    help="Checkpoint file [default: flows/<constraint>-<method>.flow].",
)
@click.option("--epochs", type=int, default=20, show_default=True)
@click.option("--steps-per-epoch", type=int, default=500, show_default=True)
@click.option("--batch-size", type=int, default=256, show_default=True)
@click.option("--learning-rate", type=float, default=1e-3, show_default=True)
@click.option("--layers", "n_layers", type=int, default=6, show_default=True)
@click.option("--hidden", type=int, default=256, show_default=True)
@click.option(
    "--base", type=click.Choice(["uniform", "gaussian"]), default="uniform", show_default=True
)
@click.option(
    "--sampler",
    default="rejection",
    show_default=True,
    help="Sampler of FlowPG's training data: rejection, hmc or a plugin's.",
)
@click.option(
    "--samples",
    "n_samples",
    type=int,
    default=100_000,
    show_default=True,
    help="FlowPG training samples.",
)
@click.option(
    "--condition",
    default=None,
    help="Distribution of the condition entries: uniform:LOW,HIGH or normal:STD "
    "[default: the task's with --task, else uniform:-10,10].",
)
@click.option(
    "--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True
)
@click.option(
    "--target-accuracy",
    type=float,
    default=None,
    help="Exit with status 1 (after saving) if the final accuracy is below this.",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
def train(
    constraint: str | None,
    task: str | None,
    method: str,
    output: str | None,
    no_progress: bool,
    **settings: object,
) -> None:
    """Train a flow for a constraint (or a task's) and write its checkpoint and metrics."""
    from acrl_policies.errors import FlowAccuracyWarning
    from acrl_policies.flows.training import FlowTrainingConfig, train_flow
    from acrl_wrappers.errors import AcrlError

    if (constraint is None) == (task is None):
        raise click.UsageError("give one of --constraint NAME and --task ID")
    try:
        c, name, condition = _target(constraint, task, settings.pop("condition"))  # type: ignore[arg-type]
        if condition is not None:
            settings["condition"] = condition
        cfg = FlowTrainingConfig(method=method, **settings)  # type: ignore[arg-type]
        path = Path(output or f"flows/{name}-{method}.flow")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FlowAccuracyWarning)
            ckpt = train_flow(c, cfg, progress_bar=not no_progress)
    except AcrlError as exc:
        raise click.ClickException(str(exc)) from exc
    ckpt.save(path)
    table = ckpt.metrics_table()
    path.with_name(path.name + ".metrics.md").write_text(
        f"# {method} flow for {name}\n\n{table}\n", encoding="utf-8"
    )
    click.echo(table)
    click.echo(f"wrote {path} and {path.name}.metrics.md")
    for warning in caught:
        click.echo(f"warning: {warning.message}", err=True)
    if caught:
        sys.exit(1)


def _target(
    constraint: str | None, task: str | None, condition: str | None
) -> tuple[Any, str, str | dict[str, Any] | None]:
    """The constraint, the name for the default file, and the condition distribution."""
    import json

    from acrl_wrappers import make_constraint

    if constraint is not None:
        spec = json.loads(constraint) if constraint.lstrip().startswith("{") else constraint
        c = make_constraint(spec)
        return c, constraint if isinstance(spec, str) else c.family, condition
    import gymnasium as gym

    import acrl_wrappers as acrl
    from acrl_policies.flows.conditions import Conditioning
    from acrl_policies.flows.visited import task_condition

    acrl.load_plugins()
    try:
        env = gym.make(task, enforce="project")
    except gym.error.Error as exc:
        raise acrl.AcrlError(f"cannot make task {task!r}: {exc}") from None
    c = acrl.find_constraint(env)
    if c is None:
        raise acrl.AcrlError(f"task {task!r} has no action constraint to train a flow for")
    name = task.split("/")[-1]
    if condition is None and Conditioning(c).dim:
        dist, source = task_condition(env, Conditioning(c))
        click.echo(f"conditions: {dist} ({source})")
        return c, name, dist.to_dict()
    return c, name, condition
