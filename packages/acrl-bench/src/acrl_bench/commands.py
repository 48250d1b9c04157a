"""The commands ``acrl train``, ``acrl evaluate`` and ``acrl algorithms`` (click).

``acrl bench`` is in :mod:`acrl_bench.bench_command`. Every bad value ends with one
``Error: ...`` line and exit status 1, checked by the same rules as the Python API
(:mod:`acrl_bench.validation`), before anything is created.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from acrl_bench.config import DEFAULT_RUN, ENFORCE_MODES, RunConfig
from acrl_wrappers.default_plugins.commands import _parse_params, _parse_value

__all__ = ["algorithms", "clear_errors", "evaluate", "train"]


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn acrl's errors into a one-line ``Error: ...`` and exit status 1, not a traceback.

    :class:`~acrl_bench.errors.BudgetWarning` s raised meanwhile are printed at once, as
    ``Warning: ...`` lines on stderr.
    """
    from acrl_bench.errors import BudgetWarning
    from acrl_wrappers.errors import AcrlError

    shown = warnings.showwarning

    def show(message: Any, category: Any, *args: Any, **kwargs: Any) -> None:
        if issubclass(category, BudgetWarning):
            click.echo(f"Warning: {message}", err=True)
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show
    try:
        yield
    except AcrlError as exc:
        raise click.ClickException(" ".join(str(exc).split())) from exc
    finally:
        warnings.showwarning = shown


def _config_from_options(options: dict[str, Any]) -> RunConfig:
    """The run config from ``acrl train``'s options: YAML first, then flags on top."""
    from acrl_bench.hyperparams import load_hyperparams, split_run_keys

    chosen = {k: v for k, v in options.items() if v not in (None, ())}
    base = RunConfig() if {"algo", "env", "constraint"} & set(chosen) else DEFAULT_RUN
    config = base.replace(algo=options["algo"], env=options["env"])
    hyperparams = dict(config.hyperparams) if base is DEFAULT_RUN else {}
    extras: dict[str, Any] = {}
    if options["hyperparams"]:
        run_keys, algo_keys = split_run_keys(load_hyperparams(options["hyperparams"], config.env))
        extras.update(run_keys)
        hyperparams.update(algo_keys)
    run_keys, algo_keys = split_run_keys(_parse_params(options["param"]))
    extras.update(run_keys)
    hyperparams.update(algo_keys)
    constraint = options["constraint"]
    flags = {
        "constraint": _parse_value(constraint)
        if constraint and constraint.startswith("{")
        else constraint,
        "enforce": options["enforce"],
        "steps": options["steps"],
        "seed": options["seed"],
        "n_envs": options["n_envs"],
        "save_freq": options["save_freq"],
    }
    changes = {**extras, **{k: v for k, v in flags.items() if v is not None}}  # flags win
    enforce = changes.get("enforce", DEFAULT_RUN.enforce)
    if base is DEFAULT_RUN and enforce != DEFAULT_RUN.enforce and "wrapper_kwargs" not in changes:
        config = config.replace(wrapper_kwargs={})  # the defaults are ProjectAction's options
    return config.replace(**changes, hyperparams=hyperparams)


@click.command(context_settings={"max_content_width": 100})
@click.option(
    "--algo",
    help="algorithm: sac, ppo, td3, trpo, tqc, aram, flowpg, cvflow_sac, ctrpo, cvpo, ... "
    "(acrl algorithms lists them)",
)
@click.option(
    "--env", help="Gymnasium id, e.g. ACRL/HalfCheetahO20-v0 (acrl envs lists the ACRL/ tasks)"
)
@click.option("--constraint", help="constraint name or JSON spec (default: the task's own)")
@click.option(
    "--enforce",
    type=click.Choice(ENFORCE_MODES),
    help="enforcement wrapper (default: project if there is a constraint)",
)
@click.option("-n", "--steps", type=int, help="total env steps [default: 10000]")
@click.option("--seed", type=int, help="seed of the envs and the algorithm [default: 0]")
@click.option("--n-envs", "n_envs", type=int, help="parallel envs [default: 1]")
@click.option(
    "--hyperparams",
    type=click.Path(exists=True, dir_okay=False),
    help="zoo-style YAML keyed by env id (and 'default')",
)
@click.option(
    "-p",
    "--param",
    multiple=True,
    metavar="KEY=VALUE",
    help="an algorithm hyperparameter (JSON value); repeatable",
)
@click.option(
    "--log-dir",
    type=click.Path(file_okay=False),
    help="the run directory [default: runs/<algo>/<env>_<n>]",
)
@click.option(
    "--log-root",
    default="runs",
    show_default=True,
    type=click.Path(file_okay=False),
    help="parent of the default run directories",
)
@click.option("--save-freq", type=int, help="env steps between checkpoints [default: 10000]")
@click.option(
    "--resume",
    type=click.Path(exists=True, file_okay=False),
    help="continue RUN_DIR from its newest checkpoint",
)
@click.option(
    "--threads",
    default=1,
    show_default=True,
    type=int,
    help="torch threads (small MLPs run fastest on one)",
)
@click.option("--progress/--no-progress", default=True, help="show a progress bar")
def train(**options: Any) -> None:
    """Train an agent into a run directory and print a short report.

    Without options: stock SAC + ProjectAction (penalty 1) on ACRL/ReacherL2-v0 for
    10,000 steps (about 2.5 minutes on two cores). --algo, --env or --constraint start
    from stock settings instead (enforce project if there is a constraint). The
    --hyperparams file applies first, then -p, then the flags. Ctrl-C saves a checkpoint;
    --resume RUN_DIR continues.
    """
    import torch

    from acrl_bench.train import TrainingInterrupted, train_run
    from acrl_bench.train import train as train_config
    from acrl_bench.validation import check_count

    def started(run_dir: Path, config: RunConfig) -> None:
        click.echo(
            f"training {config.algo} on {config.env} for {config.steps} steps "
            f"(enforce {config.enforce}) into {run_dir}"
        )

    with clear_errors():
        torch.set_num_threads(check_count("threads", options["threads"], flag="--threads"))
        try:
            if options["resume"]:
                run_dir = Path(options["resume"])
                _refuse_changes_on_resume(options)
                if options["steps"] is not None:
                    check_count("steps", options["steps"], flag="-n/--steps")
                click.echo(f"resuming {run_dir}")
                report = train_run(
                    run_dir, steps=options["steps"], progress_bar=options["progress"]
                )
            else:  # the whole config is checked before the run directory is created
                report = train_config(
                    _config_from_options(options),
                    run_dir=options["log_dir"],
                    log_root=options["log_root"],
                    progress_bar=options["progress"],
                    on_start=started,
                )
        except TrainingInterrupted as exc:
            click.echo(f"\n{exc}", err=True)
            sys.exit(130)
    click.echo(report.text())


_FIXED_ON_RESUME = (
    "algo",
    "env",
    "constraint",
    "enforce",
    "seed",
    "n_envs",
    "hyperparams",
    "param",
    "log_dir",
    "save_freq",
)


def _refuse_changes_on_resume(options: dict[str, Any]) -> None:
    """``--resume`` continues a run as it was configured: only ``-n`` may change it."""
    from acrl_bench.errors import ConfigError

    given = [name for name in _FIXED_ON_RESUME if options[name] not in (None, ())]
    if given:
        flags = ", ".join(
            {"param": "-p", "hyperparams": "--hyperparams"}.get(n, "--" + n.replace("_", "-"))
            for n in given
        )
        raise ConfigError(
            f"--resume continues {options['resume']} with its own config.yml, so {flags} cannot "
            "change it (only -n raises the step budget); start a new run instead"
        )


@click.command(context_settings={"max_content_width": 100})
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--episodes", default=10, show_default=True, type=int, help="evaluation episodes")
@click.option(
    "--samples",
    default=100,
    show_default=True,
    type=int,
    help="policy samples per state: for the valid-action rate, and M of acceptance-rejection",
)
@click.option(
    "--deploy",
    type=click.Choice(["acceptance-rejection", "deterministic"]),
    help="how actions are chosen [default: acceptance-rejection for ARAM and AutoMDP runs, "
    "else deterministic]",
)
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def evaluate(run_dir: str, episodes: int, samples: int, deploy: str | None, as_json: bool) -> None:
    """Evaluate the model of RUN_DIR: return, cost, valid-action rate, violations, QP, µs/action.

    ARAM and AutoMDP-trained models are deployed the paper's way: up to --samples draws
    from the stochastic policy, the first feasible one executed, else a projection.
    """
    from acrl_bench.evaluate import dumps, evaluate_run, format_evaluation
    from acrl_bench.validation import check_count

    with clear_errors():
        check_count("episodes", episodes, flag="--episodes")
        check_count("samples", samples, flag="--samples")
        result = evaluate_run(run_dir, episodes=episodes, samples=samples, deploy=deploy)
    click.echo(dumps(result) if as_json else format_evaluation(result))


@click.command(context_settings={"max_content_width": 100})
@click.option("--json", "as_json", is_flag=True, help="print JSON")
def algorithms(as_json: bool) -> None:
    """List every algorithm acrl train and acrl bench can run, with the plugin that adds it."""
    import json

    from acrl_bench.algorithms import list_algorithms
    from acrl_wrappers.default_plugins.commands import _table

    found = list_algorithms()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    rows = [[a["name"], a["plugin"], a["distribution"] or "?", a["summary"]] for a in found]
    click.echo(_table(rows, ["algorithm", "plugin", "distribution", "summary"]))
