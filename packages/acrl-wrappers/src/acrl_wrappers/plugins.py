"""Plugin loading: built-ins and installed ``acrl`` entry points, one at a time.

:class:`PluginHost` owns a pluggy ``PluginManager`` and the registries. Loading is
lazy (on the first lookup), idempotent and isolated per plugin: a plugin that fails to
import, implements an unknown hook, registers something invalid or collides with
another plugin's name is rolled back, reported with a :class:`PluginLoadWarning` naming
its distribution and version, and skipped, while the others load. Built-ins load
first, then entry points in the order of their names; when two plugins register the same
name, the one loaded later is the one skipped, and the error names both.

Environment variables:

- ``ACRL_LOAD_PLUGINS`` — comma-separated allow-list of entry-point or distribution
  names; set but empty loads no third-party plugin.
- ``ACRL_DISABLE_PLUGINS`` — comma-separated block-list.
- ``ACRL_STRICT_PLUGINS=1`` — a failing plugin raises :class:`PluginError` instead.
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from types import ModuleType
from typing import Any

import pluggy

from acrl_wrappers import hookspecs
from acrl_wrappers.errors import (
    PluginError,
    PluginLoadWarning,
    UnknownConstraintError,
    UnknownNameError,
    UnknownProjectorError,
)
from acrl_wrappers.registry import Entry, Registry

__all__ = [
    "DEFAULT_PLUGINS",
    "ENTRY_POINT_GROUP",
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


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that was skipped, and why."""

    name: str
    distribution: str | None
    version: str | None
    error: str

    def describe(self) -> str:
        """One line naming the plugin, its distribution and the error."""
        dist = f" ({self.distribution} {self.version})" if self.distribution else ""
        return f"acrl plugin {self.name!r}{dist} was skipped: {self.error}"


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
        self.distributions: dict[str, metadata.Distribution | None] = {}
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
        for ep in sorted(metadata.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
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
        """Register one plugin and everything it registers, all or nothing.

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
            self._commit(staged)
        except Exception as exc:
            self.pm.unregister(plugin)
            self.distributions.pop(name, None)
            for registry in self._registries.values():
                registry.remove_plugin(name)
            self._fail(name, distribution, f"{type(exc).__name__}: {exc}", exc)
            return False
        return True

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
            caller(register=_register_function(kind, name, staged))
        return staged

    def _commit(self, staged: Sequence[Entry]) -> None:
        """Add staged entries, or none of them if any name is taken."""
        problems: list[str] = []
        trial = {kind: Registry(kind, UnknownNameError, "") for kind in self._registries}
        for entry in staged:
            problems += self._registries[entry.kind].conflicts(entry)
            problems += trial[entry.kind].conflicts(entry)
            if not problems:
                trial[entry.kind].add(entry)
        if problems:
            from acrl_wrappers.errors import DuplicateNameError

            raise DuplicateNameError("; ".join(problems))
        for entry in staged:
            if entry.kind == "env":
                from acrl_wrappers.tasks import register_task

                register_task(entry)
        for entry in staged:
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
        if self.environ.get("ACRL_STRICT_PLUGINS", "") not in ("", "0"):
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
        """Let every plugin add commands to ``cli``; a failing plugin is reported and skipped."""
        self.load()
        for plugin in list(self.pm.get_plugins()):
            others = [p for p in self.pm.get_plugins() if p is not plugin]
            caller = self.pm.subset_hook_caller("register_commands", remove_plugins=others)
            name = self.pm.get_name(plugin) or "?"
            try:
                caller(cli=cli)
            except Exception as exc:
                self._fail(name, self.distributions.get(name), f"register_commands: {exc}", exc)

    def list_plugins(self) -> list[dict[str, Any]]:
        """Loaded plugins (name, distribution, version, hooks, builtin) and failed ones."""
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
                }
            )
        return out


def _register_function(kind: str, plugin: str, staged: list[Entry]) -> Callable[..., None]:
    """The ``register`` callable handed to a plugin's ``register_<kind>s`` hook."""

    def register(name: str, target: Any, **options: Any) -> None:
        if not isinstance(name, str) or not name.strip() or any(ch.isspace() for ch in name):
            raise PluginError(
                f"{kind} names must be non-empty strings without spaces, got {name!r}"
            )
        if not (callable(target) or (isinstance(target, str) and ":" in target)):
            raise PluginError(
                f"{kind} {name!r} must be registered with a class, a callable or a "
                f"'module:attribute' string, got {target!r}"
            )
        aliases = options.pop("aliases", ())
        if isinstance(aliases, str) or not all(isinstance(a, str) and a for a in aliases):
            raise PluginError(
                f"aliases of {kind} {name!r} must be a list of strings, got {aliases!r}"
            )
        doc = options.pop("doc", "")
        if not isinstance(doc, str):
            raise PluginError(f"doc of {kind} {name!r} must be a string, got {doc!r}")
        allowed = {"env": {"constraint", "max_episode_steps", "kwargs"}}.get(kind, set())
        unexpected = set(options) - allowed
        if unexpected:
            raise PluginError(
                f"register() for a {kind} got unexpected options {sorted(unexpected)}"
            )
        staged.append(Entry(kind, name, target, plugin, tuple(aliases), doc, options))

    return register


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
