"""The ``bench`` plugin: stock SB3 algorithms, the built-in suites, and the commands.

Registered through the same hooks as any third-party plugin: ``register_algorithms``
(every SB3 / sb3-contrib algorithm for continuous actions), ``register_suites`` (the YAML
suites in :mod:`acrl_bench.suites`) and ``register_commands`` (``acrl train``,
``acrl evaluate``, ``acrl bench``).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from acrl_bench.algorithms import STOCK_ALGORITHMS
from acrl_wrappers import hookimpl

if TYPE_CHECKING:
    import click

    from acrl_wrappers.hookspecs import RegisterAlgorithm, RegisterSuite

BUILTIN_SUITES = {
    "smoke": "a few minutes: SAC + AutoMDP, ARAM and C-TRPO on tiny budgets",
    "aram-table": (
        "ARAM paper's comparison: projection (SPre), ARAM, FlowPG, CV-Flow, DPre+, NFWPO on "
        "MuJoCo and resource tasks"
    ),
    "aram-paper": (
        "every task of the ARAM paper (MuJoCo, NSFnet, bike sharing): SPre+, ARAM, FlowPG, "
        "DPre+, NFWPO"
    ),
    "safe-velocity": "TRPO, TRPO-Lagrangian, C-TRPO and CVPO on the velocity-cost tasks",
}


@hookimpl
def register_algorithms(register: RegisterAlgorithm) -> None:
    """Register the stock SB3 and sb3-contrib algorithms (``sac``, ``ppo``, ``trpo``, ...)."""
    for name, (target, doc) in STOCK_ALGORITHMS.items():
        register(name, target, doc=doc)


@hookimpl
def register_suites(register: RegisterSuite) -> None:
    """Register the suites shipped as YAML in ``acrl_bench/suites/``."""
    from acrl_bench.suite import read_builtin_suite

    for name, doc in BUILTIN_SUITES.items():
        register(name, functools.partial(read_builtin_suite, name), doc=doc)


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add ``acrl train``, ``acrl evaluate``, ``acrl bench`` and ``acrl algorithms``."""
    from acrl_bench.bench_command import bench
    from acrl_bench.commands import algorithms, evaluate, train

    cli.add_command(train)
    cli.add_command(evaluate)
    cli.add_command(bench)
    cli.add_command(algorithms)
