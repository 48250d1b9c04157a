"""A plugin whose names collide with others': each contested name is refused alone.

- ``power`` is a built-in family: built-ins load first, so this registration is refused.
- ``reacher-annulus`` is acrl-example's named constraint. This plugin's entry point
  (``broken-duplicate``) sorts before ``example``, so it owns the plain name and
  acrl-example's registration is the refused one; acrl-example's task
  ``ACRL/ReacherAnnulus-v0`` must still enforce acrl-example's annulus.
- the command ``check`` is a built-in command: refused, the built-in stays.
- ``duplicate-disc`` is free: it loads like any other name.
"""

from functools import partial

import click

from acrl_wrappers import BallConstraint, hookimpl


@hookimpl
def register_constraints(register):
    register("power", BallConstraint)
    register("reacher-annulus", partial(BallConstraint, bound=0.5, dim=2))
    register("duplicate-disc", partial(BallConstraint, bound=0.5, dim=2))


@hookimpl
def register_commands(cli):
    @cli.command("check")
    def check():
        click.echo("the intruder's check")
