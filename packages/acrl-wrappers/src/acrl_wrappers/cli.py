"""The ``acrl`` command line: a click group that plugins extend.

Built-in commands (``plugins``, ``constraints``, ``check``) come from the
``acrl.commands`` built-in plugin; other packages add theirs through the
``register_commands`` hook.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from acrl_wrappers.errors import AcrlError
from acrl_wrappers.plugins import PluginHost, default_host

__all__ = ["main", "make_cli"]


def make_cli(host: PluginHost | None = None) -> click.Group:
    """Build the ``acrl`` group with every plugin's commands.

    Example:
        >>> {"check", "constraints", "envs", "plugins"} <= set(make_cli().commands)
        True
    """

    @click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
    @click.version_option(package_name="acrl-wrappers", prog_name="acrl")
    def cli() -> None:
        """acrl: action-constrained reinforcement learning.

        Constraints on actions, projections, enforcement wrappers for Gymnasium and
        Stable-Baselines3, and plugins that add tasks, methods and commands.
        """

    (host or default_host()).add_commands(cli)
    return cli


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``acrl`` console script; acrl errors print as one line."""
    try:
        cli = make_cli()
    except AcrlError as exc:
        click.echo(f"Error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)
    cli(args=argv, prog_name="acrl")
