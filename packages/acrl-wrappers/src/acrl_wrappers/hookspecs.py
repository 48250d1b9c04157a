"""Plugin hooks of acrl (pluggy project and entry-point group ``acrl``).

Every hook is called once per plugin when plugins load, never per env step. Each
``register_<thing>`` hook receives a ``register`` callable; the host validates and
stores what it is given, so a plugin only ever calls ``register``. Built-in constraint
families, projectors and commands register through these same hooks.

A plugin is a module with ``@hookimpl`` functions, published through an entry point::

    # pyproject.toml of the plugin's distribution
    [project.entry-points.acrl]
    my_plugin = "my_package.plugin"

    # my_package/plugin.py
    from acrl_wrappers import hookimpl

    @hookimpl
    def register_constraints(register):
        register("my-cone", MyConeConstraint, doc="a friction cone")

A hook implementation may take fewer arguments than its spec. All hooks are plain
(not ``firstresult``): every plugin's implementation runs. A name belongs to the first
plugin that registers it (built-ins first, then entry points by name); a later plugin's
registration of the same name is refused for that name alone, reported naming both, and
reachable as ``"plugin:name"``. Names may not contain ``:``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import pluggy

if TYPE_CHECKING:
    import click

__all__ = [
    "RegisterAlgorithm",
    "RegisterConstraint",
    "RegisterEnv",
    "RegisterPolicy",
    "RegisterProjector",
    "RegisterSuite",
    "hookimpl",
    "hookspec",
]

PROJECT_NAME = "acrl"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class RegisterConstraint(Protocol):
    """``register(name, factory, *, aliases=(), doc="")`` for constraints.

    ``factory`` is a :class:`~acrl_wrappers.Constraint` subclass (a *family*, built from
    parameters) or any callable returning a constraint (a *named constraint*, e.g.
    ``functools.partial(PowerConstraint, bound=20, weight_index="11:17")``), or a
    ``"module:attribute"`` string imported on first use.
    """

    def __call__(
        self,
        name: str,
        factory: Callable[..., Any] | str,
        *,
        aliases: Sequence[str] = (),
        doc: str = "",
    ) -> None:
        """Register one item (see the class docstring)."""


class RegisterProjector(Protocol):
    """``register(name, projector_class, *, doc="")``: a :class:`~acrl_wrappers.Projector` subclass.

    The class says which constraints it handles (``supports``) and how much it is
    preferred (``priority``); ``"module:Class"`` strings are imported on first use.
    """

    def __call__(self, name: str, projector: type | str, *, doc: str = "") -> None:
        """Register one projector class."""


class RegisterEnv(Protocol):
    """``register(env_id, entry_point, *, constraint=None, max_episode_steps=None, kwargs=None)``.

    Also takes ``action_dim=None``, ``reward_transform=None`` and ``doc=""``.

    Registers a Gymnasium task id (use the ``ACRL/`` namespace, e.g.
    ``"ACRL/HalfCheetahO20-v0"``). ``constraint`` is the task's constraint (a registered
    name or a spec) so enforcement can be chosen at ``gym.make`` time. ``action_dim`` is
    listing metadata for a task without a constraint (a task with one takes the
    constraint's dimension): ``acrl envs`` shows it without building the env.
    ``reward_transform`` (``{"scale": s, "offset": o, "source": "arXiv:..."}``) declares the
    transform ``r -> r * s + o`` the task's paper applies to executed steps in an augmented
    MDP; ``gym.make`` attaches it as ``env.task_reward_transform`` and ARAM and ``AutoMDP``
    apply it (see :mod:`acrl_wrappers.reward_calibration`).
    """

    def __call__(
        self,
        env_id: str,
        entry_point: Callable[..., Any] | str,
        *,
        constraint: str | Mapping[str, Any] | None = None,
        max_episode_steps: int | None = None,
        kwargs: Mapping[str, Any] | None = None,
        action_dim: int | None = None,
        reward_transform: Mapping[str, Any] | None = None,
        doc: str = "",
    ) -> None:
        """Register one item (see the class docstring)."""


class RegisterPolicy(Protocol):
    """``register(name, policy_class, *, doc="")``: an SB3 policy class or ``"module:Class"``."""

    def __call__(self, name: str, policy: type | str, *, doc: str = "") -> None:
        """Register one policy class."""


class RegisterAlgorithm(Protocol):
    """``register(name, algorithm_class, *, aliases=(), doc="")``: an SB3 algorithm class.

    The class may be given as a ``"module:Class"`` string, imported on first use.
    """

    def __call__(
        self, name: str, algorithm: type | str, *, aliases: Sequence[str] = (), doc: str = ""
    ) -> None:
        """Register one item (see the class docstring)."""


class RegisterSuite(Protocol):
    """``register(name, suite, *, doc="")``: a benchmark suite for ``acrl bench NAME``.

    ``suite`` is a callable returning the suite as a mapping (for example one that reads
    a YAML file shipped in the plugin's package), or a ``"module:attribute"`` string naming
    such a callable or the mapping itself. The mapping's format is documented by
    acrl-bench (``acrl bench --help``).
    """

    def __call__(
        self, name: str, suite: Callable[[], Mapping[str, Any]] | str, *, doc: str = ""
    ) -> None:
        """Register one suite."""


@hookspec
def register_constraints(register: RegisterConstraint) -> None:
    """Register constraint families and named constraints.

    Args:
        register: see :class:`RegisterConstraint`.

    Example:
        >>> from acrl_wrappers import hookimpl, PowerConstraint
        >>> @hookimpl
        ... def register_constraints(register):
        ...     register("my-budget", PowerConstraint, doc="power budget under my name")

    .. versionadded:: 0.1
    """


@hookspec
def register_projectors(register: RegisterProjector) -> None:
    """Register projector classes (``acrl.make_projector`` picks by ``priority``).

    Args:
        register: see :class:`RegisterProjector`.

    .. versionadded:: 0.1
    """


@hookspec
def register_envs(register: RegisterEnv) -> None:
    """Register Gymnasium task ids with their constraint.

    Args:
        register: see :class:`RegisterEnv`.

    .. versionadded:: 0.1
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``acrl`` command line (a click group).

    Args:
        cli: the ``acrl`` click group; decorate functions with ``@cli.command()``.

    .. versionadded:: 0.1
    """


@hookspec
def register_policies(register: RegisterPolicy) -> None:
    """Register SB3 policy classes under names usable in ``acrl train --policy``.

    Args:
        register: see :class:`RegisterPolicy`.

    .. versionadded:: 0.1
    """


@hookspec
def register_algorithms(register: RegisterAlgorithm) -> None:
    """Register SB3-compatible algorithm classes under names usable in ``acrl train --algo``.

    Args:
        register: see :class:`RegisterAlgorithm`.

    .. versionadded:: 0.1
    """


@hookspec
def register_suites(register: RegisterSuite) -> None:
    """Register benchmark suites (runs as data) under names usable in ``acrl bench NAME``.

    Args:
        register: see :class:`RegisterSuite`.

    Example:
        >>> from acrl_wrappers import hookimpl
        >>> @hookimpl
        ... def register_suites(register):
        ...     register("my-suite", "my_package.suites:load_my_suite", doc="my tasks x SAC")

    .. versionadded:: 0.1
    """
