"""Plugin loading: built-ins and installed ``acrl`` entry points, one at a time.

:class:`PluginHost` owns a pluggy ``PluginManager`` and the registries. Loading is
lazy (on the first lookup), idempotent and isolated per plugin: a plugin that fails to
import, implements an unknown hook or registers something invalid is rolled back,
reported with a :class:`PluginLoadWarning` naming its distribution and version, and
skipped, while the others load.

Names are owned. Built-ins load first, then entry points in the order of their names
(then distribution names). A name (constraint, projector, env id, policy, algorithm,
suite, command) belongs to the first plugin that registers it; a later plugin that
registers it again is refused *for that name alone* (a :class:`NameConflictWarning`
names both distributions and versions and how to resolve it) and the rest of both
plugins still load, so installing a package never changes what an existing name means.
The refused registration stays reachable under its qualified name ``"plugin:name"``,
and a task whose constraint name is taken by another plugin still enforces its own
plugin's constraint. Installed packages run code when imported, so this guards against
accidental collisions, not against a malicious package.

The host is one class (loading, isolation, name ownership, commands) and stays one module
(about 480 lines) so the rules a plugin author meets read in one place; the records it
reports and the ``register`` callable are in :mod:`acrl_wrappers.plugin_reports` and
:mod:`acrl_wrappers.registration`.

Environment variables:

- ``ACRL_LOAD_PLUGINS`` — comma-separated allow-list of entry-point or distribution
  names; set but empty loads no third-party plugin.
- ``ACRL_DISABLE_PLUGINS`` — comma-separated block-list.
- ``ACRL_STRICT_PLUGINS=1`` — a failing plugin or a name conflict raises
  :class:`PluginError` (:class:`DuplicateNameError`) instead.
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import metadata
from types import ModuleType
from typing import Any

import gymnasium as gym
import pluggy

from acrl_wrappers import hookspecs
from acrl_wrappers.errors import (
    DuplicateNameError,
    NameConflictWarning,
    PluginError,
    PluginLoadWarning,
    UnknownConstraintError,
    UnknownNameError,
    UnknownProjectorError,
)
from acrl_wrappers.plugin_reports import NameConflict, PluginFailure
from acrl_wrappers.registration import (
    TASK_ENTRY_POINT,
    check_task_id,
    register_function,
    register_task,
)
from acrl_wrappers.registry import Entry, Registry

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
    "TASK_ENTRY_POINT",
    "NameConflict",
    "PluginFailure",
    "PluginHost",
    "default_host",
    "list_plugins",
    "load_plugins",
]

ENTRY_POINT_GROUP = "acrl"
DEFAULT_PLUGINS = (
    "acrl_wrappers.default_plugins.constraints",
    "acrl_wrappers.default_plugins.projectors",
    "acrl_wrappers.default_plugins.commands",
)
"""Built-in plugins, registered through the same hooks as third-party ones."""

REGISTRATION_HOOKS = {
    "register_constraints": "constraint",
    "register_projectors": "projector",
    "register_envs": "env",
    "register_policies": "policy",
    "register_algorithms": "algorithm",
    "register_suites": "suite",
}
_UNKNOWN_ERRORS: dict[str, type[UnknownNameError]] = {
    "constraint": UnknownConstraintError,
    "projector": UnknownProjectorError,
}
_LIST_COMMANDS = {
    "constraint": "acrl constraints",
    "projector": "acrl plugins",
    "env": "acrl envs",
    "policy": "acrl plugins",
    "algorithm": "acrl plugins",
    "suite": "acrl bench --list",
}
_KINDS = (*REGISTRATION_HOOKS.values(), "command")


def _csv_env(environ: Mapping[str, str], key: str) -> set[str] | None:
    value = environ.get(key)
    if value is None:
        return None
    return {_normalise(v) for v in value.split(",") if v.strip()}


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


class PluginHost:
    """A plugin manager with its registries; :func:`default_host` is the one users share.

    Args:
        entry_points: load installed ``acrl`` entry points (``False`` gives a host with
            only the built-ins, for hermetic tests).
        environ: where to read ``ACRL_*`` variables (default ``os.environ``).

    Example:
        >>> from acrl_wrappers import hookimpl, PowerConstraint
        >>> class MyPlugin:
        ...     @hookimpl
        ...     def register_constraints(self, register):
        ...         register("my-budget", PowerConstraint)
        >>> host = PluginHost(entry_points=False)
        >>> host.add_plugin(MyPlugin(), "my-plugin")
        True
        >>> host.registry("constraint").get("my-budget").plugin
        'my-plugin'
    """

    def __init__(self, *, entry_points: bool = True, environ: Mapping[str, str] | None = None):
        self.environ = os.environ if environ is None else environ
        self.use_entry_points = entry_points
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self._registries = {
            kind: Registry(kind, _UNKNOWN_ERRORS.get(kind, UnknownNameError), _LIST_COMMANDS[kind])
            for kind in REGISTRATION_HOOKS.values()
        }
        self.failures: list[PluginFailure] = []
        self.conflicts: list[NameConflict] = []
        self.distributions: dict[str, metadata.Distribution | None] = {}
        self._order: list[str] = []  # plugin names in load order (built-ins first)
        self._command_owners: dict[str, str] = {}
        self._loaded = False
        self._loading = False

    # ------------------------------------------------------------------ loading
    def load(self) -> None:
        """Register built-ins, then each allowed entry point (idempotent)."""
        if self._loaded or self._loading:
            return
        self._loading = True
        try:
            for module_name in DEFAULT_PLUGINS:
                module = importlib.import_module(module_name)
                if not self.add_plugin(module, f"acrl.{module_name.rsplit('.', 1)[-1]}"):
                    raise PluginError(f"built-in plugin {module_name} failed: {self.failures[-1]}")
            if self.use_entry_points:
                self._load_entry_points()
            self.pm.check_pending()
        finally:
            self._loading = False
        self._loaded = True

    def _allowed(self, ep: metadata.EntryPoint) -> bool:
        names = {_normalise(ep.name)}
        if ep.dist is not None:
            names.add(_normalise(ep.dist.name))
        allow = _csv_env(self.environ, "ACRL_LOAD_PLUGINS")
        block = _csv_env(self.environ, "ACRL_DISABLE_PLUGINS") or set()
        return (allow is None or bool(names & allow)) and not names & block

    def _load_entry_points(self) -> None:
        seen: dict[str, str] = {}
        eps = metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in sorted(eps, key=lambda e: (e.name, e.dist.name if e.dist is not None else "")):
            if not self._allowed(ep):
                continue
            dist_name = ep.dist.name if ep.dist is not None else "?"
            if ep.name in seen:
                self._fail(
                    ep.name,
                    ep.dist,
                    f"distributions {seen[ep.name]!r} and {dist_name!r} both declare the "
                    f"plugin name {ep.name!r}; uninstall one of them",
                )
                continue
            seen[ep.name] = dist_name
            try:
                plugin = ep.load()
            except Exception as exc:
                self._fail(ep.name, ep.dist, f"import failed: {type(exc).__name__}: {exc}", exc)
                continue
            self.add_plugin(plugin, ep.name, ep.dist)

    def add_plugin(
        self,
        plugin: ModuleType | object,
        name: str,
        distribution: metadata.Distribution | None = None,
    ) -> bool:
        """Register one plugin and everything it registers.

        A name another plugin already owns is refused for that name alone (reported by
        :class:`NameConflict`); any other problem rolls the whole plugin back.

        Returns:
            ``True`` if the plugin was added; ``False`` if it was rolled back and
            reported (or :class:`PluginError` with ``ACRL_STRICT_PLUGINS=1``).
        """
        try:
            self.pm.register(plugin, name=name)
        except Exception as exc:
            self._fail(name, distribution, f"invalid hooks: {exc}", exc)
            return False
        self.distributions[name] = distribution
        try:
            self._check_hook_names(plugin)
            staged = self._collect_registrations(plugin, name)
            self._commit(self._claim(staged, name))
        except Exception as exc:
            self._roll_back(plugin, name)
            if isinstance(exc, DuplicateNameError) and self._strict:
                raise  # a name conflict in strict mode: its message already says both fixes
            self._fail(name, distribution, f"{type(exc).__name__}: {exc}", exc)
            return False
        self._order.append(name)
        return True

    def _roll_back(self, plugin: object, name: str) -> None:
        self.pm.unregister(plugin)
        self.distributions.pop(name, None)
        for registry in self._registries.values():
            registry.remove_plugin(name)
        self.conflicts = [c for c in self.conflicts if c.refused_plugin != name]

    def _check_hook_names(self, plugin: object) -> None:
        """Reject hook implementations whose name matches no hook (typos)."""
        known = [*sorted(REGISTRATION_HOOKS), "register_commands"]
        for caller in self.pm.get_hookcallers(plugin) or []:
            if not caller.has_spec():
                close = difflib.get_close_matches(caller.name, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise PluginError(f"unknown hook {caller.name!r}{hint} (hooks: {', '.join(known)})")

    def _collect_registrations(self, plugin: object, name: str) -> list[Entry]:
        """Call the plugin's registration hooks and return what it registered, validated."""
        others = [p for p in self.pm.get_plugins() if p is not plugin]
        staged: list[Entry] = []
        for hook_name, kind in REGISTRATION_HOOKS.items():
            caller = self.pm.subset_hook_caller(hook_name, remove_plugins=others)
            caller(register=register_function(kind, name, staged))
        return staged

    def _claim(self, staged: Sequence[Entry], plugin: str) -> list[Entry]:
        """The staged entries with every name another plugin owns refused (and reported).

        A refused entry is kept as ``"plugin:name"``; a task naming its own plugin's
        constraint is bound to it by that qualified name, so it enforces what its plugin
        registered even when another plugin owns the plain name.
        """
        accepted: list[Entry] = []
        trial = {kind: Registry(kind, UnknownNameError, "") for kind in self._registries}
        refused_constraints: set[str] = set()
        for entry in staged:
            owner = self._owner(entry.kind, entry.name, trial)
            if owner is not None:
                self._refuse(entry.kind, entry.name, owner.plugin, plugin)
                if entry.kind == "constraint":
                    self._registries["constraint"].shadow(entry)
                    refused_constraints.add(entry.name.lower())
                continue
            aliases = []
            for alias in entry.aliases:
                alias_owner = self._owner(entry.kind, alias, trial)
                if alias_owner is None:
                    aliases.append(alias)
                else:
                    self._refuse(entry.kind, alias, alias_owner.plugin, plugin)
            entry = replace(entry, aliases=tuple(aliases))
            constraint = entry.options.get("constraint")
            if entry.kind == "env" and str(constraint).lower() in refused_constraints:
                bound = f"{plugin}:{constraint}"
                entry = replace(entry, options={**entry.options, "constraint": bound})
            trial[entry.kind].add(entry)
            accepted.append(entry)
        return accepted

    def _owner(self, kind: str, name: str, trial: Mapping[str, Registry]) -> Entry | None:
        """Who already holds ``name``: a loaded plugin, this plugin, or a Gymnasium id.

        An env id registered with Gymnasium outside acrl counts as taken too.
        """
        owner = self._registries[kind].owner(name) or trial[kind].owner(name)
        outside = kind == "env" and name in gym.registry
        if owner is None and outside and gym.registry[name].entry_point != TASK_ENTRY_POINT:
            return Entry("env", name, gym.registry[name].entry_point, "gymnasium.registry")
        return owner

    def _refuse(self, kind: str, name: str, owner: str, refused: str, reason: str = "") -> None:
        """Record (and warn about, or in strict mode raise) a refused name."""
        dist = self.distributions.get(refused)
        conflict = NameConflict(
            kind,
            name,
            self.describe_plugin(owner),
            self.describe_plugin(refused),
            owner,
            refused,
            dist.name if dist is not None else None,
            reason,
        )
        if self._strict:
            raise DuplicateNameError(
                f"{conflict.describe()} (ACRL_STRICT_PLUGINS is set); {conflict.fix}"
            )
        self.conflicts.append(conflict)
        warnings.warn(
            f"acrl: {conflict.describe()}; {conflict.fix}", NameConflictWarning, stacklevel=5
        )

    def describe_plugin(self, name: str) -> str:
        """``plugin 'name' (distribution version)``, or the name alone when it is unknown."""
        if name not in self.distributions:
            return f"{name!r}"
        dist = self.distributions[name]
        if dist is None:
            dist_name, version = (
                ("acrl-wrappers", _own_version()) if name.startswith("acrl.") else ("", "")
            )
        else:
            dist_name, version = dist.name, dist.version
        return f"plugin {name!r} ({dist_name} {version})" if dist_name else f"plugin {name!r}"

    @property
    def _strict(self) -> bool:
        return self.environ.get("ACRL_STRICT_PLUGINS", "") not in ("", "0")

    def _commit(self, accepted: Sequence[Entry]) -> None:
        """Publish the accepted entries: task ids to Gymnasium, then every entry to its registry."""
        for entry in accepted:
            if entry.kind == "env":
                check_task_id(entry)
        for entry in accepted:
            if entry.kind == "env":
                register_task(entry)
        for entry in accepted:
            self._registries[entry.kind].add(entry)

    def _fail(
        self,
        name: str,
        distribution: metadata.Distribution | None,
        error: str,
        exc: BaseException | None = None,
    ) -> None:
        dist_name = distribution.name if distribution is not None else None
        version = distribution.version if distribution is not None else None
        failure = PluginFailure(name, dist_name, version, error)
        self.failures.append(failure)
        fix = (
            f"pip uninstall {dist_name}"
            if dist_name
            else f"remove the plugin or set ACRL_DISABLE_PLUGINS={name}"
        )
        if self._strict:
            error_class = type(exc) if isinstance(exc, PluginError) else PluginError
            raise error_class(
                f"{failure.describe()} (ACRL_STRICT_PLUGINS is set); fix: {fix}"
            ) from exc
        message = f"{failure.describe()}. The other plugins still load; to silence this: {fix}."
        warnings.warn(message, PluginLoadWarning, stacklevel=4)

    # ------------------------------------------------------------------ queries
    def registry(self, kind: str) -> Registry:
        """The registry of ``kind`` (loads plugins first)."""
        self.load()
        return self._registries[kind]

    def add_commands(self, cli: Any) -> None:
        """Let every plugin add commands to ``cli``, in load order; names are owned.

        A plugin that replaces a command another plugin added is refused for that
        command (the first one is put back); a failing plugin is reported and skipped.
        """
        self.load()
        for name in self._order:
            plugin = self.pm.get_plugin(name)
            if plugin is None:
                continue
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            caller = self.pm.subset_hook_caller("register_commands", remove_plugins=others)
            before = dict(cli.commands)
            try:
                caller(cli=cli)
            except Exception as exc:
                self._fail(name, self.distributions.get(name), f"register_commands: {exc}", exc)
            for command, obj in list(cli.commands.items()):
                if command not in before:
                    self._command_owners[command] = name
                elif obj is not before[command]:
                    cli.commands[command] = before[command]
                    self._refuse("command", command, self._command_owners.get(command, "?"), name)

    def list_plugins(self) -> list[dict[str, Any]]:
        """Loaded and failed plugins: name, distribution, version, hooks, status, conflicts."""
        self.load()
        out = []
        for name, plugin in sorted(self.pm.list_name_plugin()):
            dist = self.distributions.get(name)
            out.append(
                {
                    "name": name,
                    "distribution": dist.name if dist is not None else "acrl-wrappers",
                    "version": dist.version if dist is not None else _own_version(),
                    "hooks": sorted(c.name for c in self.pm.get_hookcallers(plugin) or []),
                    "builtin": name.startswith("acrl."),
                    "status": "loaded",
                    "conflicts": [
                        f"{c.describe()}; {c.fix}"
                        for c in self.conflicts
                        if c.refused_plugin == name
                    ],
                }
            )
        for f in self.failures:
            out.append(
                {
                    "name": f.name,
                    "distribution": f.distribution,
                    "version": f.version,
                    "hooks": [],
                    "builtin": False,
                    "status": f"failed: {f.error}",
                    "conflicts": [],
                }
            )
        return out


def _own_version() -> str:
    try:
        return metadata.version("acrl-wrappers")
    except metadata.PackageNotFoundError:
        return "0+unknown"


_DEFAULT_HOST: PluginHost | None = None


def default_host() -> PluginHost:
    """The process-wide host behind :func:`acrl.make_constraint` and friends."""
    global _DEFAULT_HOST
    if _DEFAULT_HOST is None:
        _DEFAULT_HOST = PluginHost()
    return _DEFAULT_HOST


def load_plugins() -> None:
    """Load built-in and installed plugins now (otherwise done on first use)."""
    default_host().load()


def list_plugins() -> list[dict[str, Any]]:
    """Loaded and failed plugins: name, distribution, version, hooks, builtin, status.

    Example:
        >>> import acrl_wrappers as acrl
        >>> [p["name"] for p in acrl.list_plugins() if p["builtin"]]
        ['acrl.commands', 'acrl.constraints', 'acrl.projectors']
    """
    return default_host().list_plugins()
