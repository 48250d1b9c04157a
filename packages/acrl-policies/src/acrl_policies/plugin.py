"""The ``policies`` plugin: registers acrl-policies' algorithms and commands with acrl.

Classes are given as ``"module:Class"`` strings, so loading plugins imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acrl_wrappers import hookimpl

if TYPE_CHECKING:
    import click

    from acrl_wrappers.hookspecs import RegisterAlgorithm

# Flows (FlowPG, CV-Flow) -------------------------------------------------------------
FLOW_ALGORITHMS: dict[str, tuple[str, str]] = {}

# Safe RL with costs (C-TRPO, Lagrangian baselines) -------------------------------------
COST_ALGORITHMS: dict[str, tuple[str, str]] = {}


@hookimpl
def register_algorithms(register: RegisterAlgorithm) -> None:
    """Register every algorithm of this package under its ``acrl train --algo`` name."""
    for name, (target, doc) in {**FLOW_ALGORITHMS, **COST_ALGORITHMS}.items():
        register(name, target, doc=doc)


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add this package's commands to ``acrl``."""
