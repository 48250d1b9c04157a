"""Built-in plugin adding ``acrl plugins``, ``constraints``, ``envs`` and ``check``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import click

from acrl_wrappers.hookspecs import hookimpl


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _parse_params(pairs: tuple[str, ...]) -> dict[str, Any]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--param")
        params[key.strip()] = _parse_value(value)
    return params


def _action_dim(options: Mapping[str, Any]) -> int | str:
    """A task's action dimension from its registration alone: no env is built.

    The declared ``action_dim``, else the dimension of the task's constraint (building a
    constraint is cheap and starts no simulator), else ``"?"``.
    """
    from acrl_wrappers.factories import make_constraint

    if options.get("action_dim") is not None:
        return int(options["action_dim"])
    constraint = options.get("constraint")
    if constraint is None:
        return "?"
    try:
        return int(make_constraint(constraint).dim)
    except Exception:  # a task whose constraint cannot be built here is still listed
        return "?"


def _constraint_name(constraint: Any) -> str:
    if constraint is None:
        return "-"
    return constraint if isinstance(constraint, str) else str(constraint.get("name", "?"))


def _table(rows: list[list[Any]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(header, widths, strict=True))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add the core commands."""

    @cli.command("plugins")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
    def plugins_command(as_json: bool) -> None:
        """List loaded plugins, ones that failed to load, and refused duplicate names."""
        from acrl_wrappers.plugins import list_plugins

        found = list_plugins()
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        rows = [
            [
                p["name"],
                p["distribution"] or "?",
                p["version"] or "?",
                ", ".join(h.removeprefix("register_") for h in p["hooks"]) or "-",
                p["status"],
            ]
            for p in found
        ]
        click.echo(_table(rows, ["plugin", "distribution", "version", "registers", "status"]))
        conflicts = [line for p in found for line in p["conflicts"]]
        if conflicts:
            click.echo("\nname conflicts (each refused name alone; the rest of the plugin loaded):")
            click.echo("\n".join(f"- {line}" for line in conflicts))

    @cli.command("constraints")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
    def constraints_command(as_json: bool) -> None:
        """List registered constraints: families and named constraints from plugins."""
        from acrl_wrappers.factories import list_constraints

        found = list_constraints()
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        rows = [
            [c["name"], c["family"], ", ".join(c["aliases"]) or "-", c["plugin"], c["summary"]]
            for c in found
        ]
        click.echo(_table(rows, ["name", "family", "aliases", "plugin", "summary"]))

    @cli.command("envs")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
    def envs_command(as_json: bool) -> None:
        """List registered task ids (use them with gym.make(ID, enforce=...)).

        Read from the registrations alone: no env is built. The action dimension is the
        one the task declares or its constraint's; "?" where neither is known.
        """
        from acrl_wrappers.plugins import default_host

        found = [
            {
                "id": e.name,
                "constraint": e.options.get("constraint"),
                "action_dim": _action_dim(e.options),
                "max_episode_steps": e.options.get("max_episode_steps"),
                "plugin": e.plugin,
                "summary": e.summary,
            }
            for e in default_host().registry("env")
        ]
        if as_json:
            click.echo(json.dumps(found, indent=2))
            return
        rows = [
            [
                f["id"],
                _constraint_name(f["constraint"]),
                f["action_dim"],
                f["max_episode_steps"] or "-",
                f["plugin"],
                f["summary"],
            ]
            for f in found
        ]
        header = ["id", "constraint", "actions", "steps", "plugin", "summary"]
        click.echo(_table(rows, header))

    @cli.command("check")
    @click.argument("constraint")
    @click.option(
        "-p",
        "--param",
        "params",
        multiple=True,
        metavar="KEY=VALUE",
        help="Constraint parameter (VALUE parsed as JSON when it can be); repeatable.",
    )
    @click.option("--samples", default=1000, show_default=True, help="Random actions to test.")
    @click.option("--seed", default=0, show_default=True, help="Seed of the random draws.")
    @click.option(
        "--obs-std",
        default=10.0,
        show_default=True,
        help="Observations are drawn from N(0, obs_std^2) for state-dependent constraints.",
    )
    @click.option(
        "--method", default=None, help="Force a projector (closed-form, osqp, nonlinear, ...)."
    )
    def check_command(
        constraint: str,
        params: tuple[str, ...],
        samples: int,
        seed: int,
        obs_std: float,
        method: str | None,
    ) -> None:
        """Check CONSTRAINT on random actions: feasibility, timing, projections.

        CONSTRAINT is a registered name (see `acrl constraints`) or a JSON spec, e.g.

            acrl check power -p bound=20 -p weight_index=11:17
        """
        from acrl_wrappers.diagnostics import run_check
        from acrl_wrappers.errors import AcrlError
        from acrl_wrappers.factories import make_constraint

        target: Any = json.loads(constraint) if constraint.lstrip().startswith("{") else constraint
        try:
            c = make_constraint(target, **_parse_params(params))
            report = run_check(c, samples=samples, seed=seed, obs_std=obs_std, method=method)
        except AcrlError as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc
        click.echo(report.format())
        if not report.ok:
            raise click.ClickException("some projections failed or landed outside the set")
