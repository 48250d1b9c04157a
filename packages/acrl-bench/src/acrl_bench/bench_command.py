"""``acrl bench SUITE``: run a registered suite or a suite file, then write its report.

Exit status: 0 when every job finished; 1 with one ``Error:`` line for a bad suite or value
(nothing is created) or when jobs failed (with the count; the report lists them); 130
after Ctrl-C, once the running jobs saved a checkpoint and the finished ones were
recorded, with the command that continues the sweep.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from acrl_bench.commands import clear_errors

__all__ = ["bench", "parse_seeds", "resume_command"]


def parse_seeds(text: str | None) -> int | list[int] | None:
    """``--seeds``: a count (``"3"``) or a comma-separated list (``"0,4,7"``).

    Example:
        >>> parse_seeds("3"), parse_seeds("0,4,7"), parse_seeds(None)
        (3, [0, 4, 7], None)
    """
    from acrl_bench.errors import SuiteError

    if text is None:
        return None
    try:
        values = [int(part) for part in text.split(",")]
    except ValueError:
        raise SuiteError(
            f"--seeds must be a count (3) or a comma-separated list of integers (0,4,7), "
            f"got {text!r}"
        ) from None
    return values if "," in text else values[0]


_FLAGS = {
    "seeds": "--seeds",
    "steps": "--steps",
    "scale": "--scale",
    "eval_episodes": "--eval-episodes",
    "backend": "--backend",
    "address": "--address",
    "workers": "-j",
    "threads": "--threads",
}
_DEFAULTS = {"backend": "local", "threads": 1}


def resume_command(suite: str, options: dict[str, Any], out: Path) -> str:
    """The ``acrl bench`` command that continues this sweep (same overrides, same folder).

    Example:
        >>> resume_command("smoke", {"steps": 300, "backend": "ray"}, Path("bench/smoke"))
        'acrl bench smoke --steps 300 --backend ray --out bench/smoke'
    """
    words = ["acrl", "bench", suite]
    for key, flag in _FLAGS.items():
        value = options.get(key)
        if value is not None and value != _DEFAULTS.get(key):
            words += [flag, str(value)]
    return shlex.join([*words, "--out", str(out)])


def _list_suites() -> None:
    from acrl_wrappers.plugins import default_host

    click.echo(f"{'SUITE':<16} {'PLUGIN':<10} DESCRIPTION")
    for entry in default_host().registry("suite"):
        click.echo(f"{entry.name:<16} {entry.plugin:<10} {entry.summary}")


def _report(suite: Any, out: Path, *, required: bool) -> None:
    from acrl_bench.errors import BenchError
    from acrl_bench.report import write_report

    try:
        click.echo(f"report: {write_report(suite, out)}")
    except BenchError:
        if required:
            raise


@click.command(context_settings={"max_content_width": 100})
@click.argument("suite", required=False)
@click.option("--list", "list_suites", is_flag=True, help="list the registered suites and exit")
@click.option("--seeds", help="seeds: a count (3) or a list (0,4,7) [default: the suite's]")
@click.option("--steps", type=int, help="env steps of every run [default: the suite's]")
@click.option("--scale", type=float, help="multiply every run's steps (e.g. 0.1 for a trial)")
@click.option(
    "--eval-episodes", type=int, help="evaluation episodes per run [default: the suite's]"
)
@click.option(
    "--backend",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="local: worker processes on this machine; ray: Ray tasks (pip install 'acrl-bench[ray]')",
)
@click.option("--address", help="Ray cluster address (default: start Ray on this machine)")
@click.option("-j", "--jobs", "workers", type=int, help="runs at once [default: CPU count]")
@click.option("--threads", default=1, show_default=True, type=int, help="torch threads per run")
@click.option(
    "--out", type=click.Path(file_okay=False), help="output folder [default: bench/<suite>]"
)
@click.option("--report-only", is_flag=True, help="rewrite the report from finished runs")
def bench(suite: str | None, list_suites: bool, **options: Any) -> None:
    """Run the benchmark SUITE (a registered name or a .yaml file) and write its report.

    The report is summary.md (tables: mean ± std, IQM with 95 % bootstrap intervals,
    per-seed values, the paper's figures where the suite has them), summary.csv,
    summary.json and learning curves. Finished runs with the same settings are skipped,
    so re-running continues a sweep; a run whose settings changed is re-run. Ctrl-C stops
    the sweep: running jobs save a checkpoint, the command to continue is printed.
    """
    from acrl_bench.errors import SweepInterrupted
    from acrl_bench.suite import find_suite
    from acrl_bench.sweep import run_suite

    if list_suites or suite is None:
        _list_suites()
        if suite is None and not list_suites:
            click.echo("\nrun one with: acrl bench NAME or acrl bench FILE.yaml (--help: options)")
        return
    with clear_errors():
        expanded = find_suite(
            suite,
            seeds=parse_seeds(options["seeds"]),
            steps=options["steps"],
            scale=options["scale"],
            eval_episodes=options["eval_episodes"],
        )
        out = Path(options["out"] or Path("bench") / expanded.name)
        if options["report_only"]:
            _report(expanded, out, required=True)
            return
        try:
            counts = run_suite(
                expanded,
                out,
                backend=options["backend"],
                workers=options["workers"],
                address=options["address"],
                threads=options["threads"],
                echo=click.echo,
            )
        except SweepInterrupted as exc:
            _report(expanded, out, required=False)
            click.echo(f"{exc}\ncontinue with: {resume_command(suite, options, out)}", err=True)
            sys.exit(130)
        click.echo(
            f"done {counts.done}, failed {counts.failed}, skipped {counts.skipped}"
            + (f" (re-run with new settings: {counts.rerun})" if counts.rerun else "")
        )
        _report(expanded, out, required=False)
        if counts.failed:
            raise click.ClickException(
                f"{counts.failed} of {counts.total} jobs failed (each job's error.json has the "
                "traceback; summary.md lists them); running the same command again retries them"
            )
