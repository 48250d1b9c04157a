"""The plain store of registered names: :class:`Entry` and :class:`Registry`.

This module sits at the bottom of ``acrl_wrappers``' import graph: it knows nothing of
plugins, constraints or projectors. The plugin host (:mod:`acrl_wrappers.plugins`) fills
one :class:`Registry` per kind and decides who owns a name; the factories users call
(:func:`acrl_wrappers.make_constraint`, ...) live in :mod:`acrl_wrappers.factories`.
Names are matched case-insensitively; an unknown name raises an error suggesting close
matches.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from acrl_wrappers.errors import DuplicateNameError, PluginError, UnknownNameError

__all__ = ["Entry", "Registry"]


@dataclass(frozen=True)
class Entry:
    """One registered name.

    Attributes:
        kind: ``"constraint"``, ``"projector"``, ``"env"``, ``"policy"``, ``"algorithm"``
            or ``"suite"``.
        name: the canonical name.
        target: the registered object, or a ``"module:attribute"`` string.
        plugin: name of the plugin that registered it.
        aliases: other names that resolve to this entry.
        doc: one-line description.
        options: kind-specific extras (for envs: constraint, max_episode_steps, kwargs).
    """

    kind: str
    name: str
    target: Any
    plugin: str
    aliases: tuple[str, ...] = ()
    doc: str = ""
    options: Mapping[str, Any] = field(default_factory=dict)

    def load(self) -> Any:
        """The registered object, importing a ``"module:attribute"`` target on first use.

        Raises:
            PluginError: if the import fails (names the plugin).
        """
        if not isinstance(self.target, str):
            return self.target
        module_name, _, attr = self.target.partition(":")
        try:
            obj: Any = importlib.import_module(module_name)
            for part in attr.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError) as exc:
            raise PluginError(
                f"{self.kind} {self.name!r} from plugin {self.plugin!r} points at "
                f"{self.target!r}, which cannot be imported: {exc}"
            ) from exc
        return obj

    @property
    def summary(self) -> str:
        """The first line of :attr:`doc`, or of the target's docstring."""
        text = self.doc or (
            "" if isinstance(self.target, str) else (inspect.getdoc(self.target) or "")
        )
        return text.strip().splitlines()[0] if text.strip() else ""


class Registry:
    """Names of one kind, with aliases, duplicate detection and helpful lookups.

    Example:
        >>> reg = Registry("color", UnknownNameError, "acrl colors")
        >>> reg.add(Entry("color", "red", (255, 0, 0), plugin="demo", aliases=("rouge",)))
        >>> reg.get("ROUGE").target
        (255, 0, 0)
        >>> try:
        ...     reg.get("rde")
        ... except UnknownNameError as exc:
        ...     print(exc)
        unknown color 'rde'; did you mean 'red'? (acrl colors lists all)
    """

    def __init__(self, kind: str, unknown_error: type[UnknownNameError], list_command: str) -> None:
        self.kind = kind
        self.unknown_error = unknown_error
        self.list_command = list_command
        self._entries: dict[str, Entry] = {}
        self._keys: dict[str, str] = {}  # lower-cased name or alias -> canonical name
        self._shadowed: dict[tuple[str, str], Entry] = {}  # (plugin, name) refused as taken

    def owner(self, name: str) -> Entry | None:
        """The entry that holds ``name`` (as its name or an alias), or ``None`` if it is free."""
        canonical = self._keys.get(name.lower())
        return None if canonical is None else self._entries[canonical]

    def conflicts(self, entry: Entry) -> list[str]:
        """Messages for each name of ``entry`` that is already taken."""
        out = []
        for key in (entry.name, *entry.aliases):
            owner = self.owner(key)
            if owner is not None:
                out.append(
                    f"{self.kind} {key!r} is registered by both plugin {owner.plugin!r} and "
                    f"plugin {entry.plugin!r}"
                )
        return out

    def add(self, entry: Entry) -> None:
        """Add an entry.

        Raises:
            DuplicateNameError: if its name or an alias is taken (names both plugins).
        """
        problems = self.conflicts(entry)
        if problems:
            raise DuplicateNameError("; ".join(problems))
        self._entries[entry.name] = entry
        for key in (entry.name, *entry.aliases):
            self._keys[key.lower()] = entry.name

    def remove_plugin(self, plugin: str) -> None:
        """Forget everything ``plugin`` registered."""
        for name in [n for n, e in self._entries.items() if e.plugin == plugin]:
            del self._entries[name]
        self._keys = {k: v for k, v in self._keys.items() if v in self._entries}
        self._shadowed = {k: e for k, e in self._shadowed.items() if e.plugin != plugin}

    def shadow(self, entry: Entry) -> None:
        """Keep an entry refused for a taken name, reachable only as ``"plugin:name"``."""
        self._shadowed[(entry.plugin.lower(), entry.name.lower())] = entry

    def get(self, name: str) -> Entry:
        """The entry for ``name`` or one of its aliases (case-insensitive).

        ``"plugin:name"`` asks for what that plugin registered under the name, also when
        another plugin owns the plain name.

        Raises:
            UnknownNameError: (the registry's subclass) with close matches suggested.
        """
        if not isinstance(name, str):
            raise self.unknown_error(f"{self.kind} names are strings, got {name!r}")
        plugin, sep, plain = name.rpartition(":")
        if sep and plugin and "/" not in plugin:
            return self._qualified(plugin, plain, name)
        canonical = self._keys.get(name.lower())
        if canonical is None:
            raise self._unknown(name)
        return self._entries[canonical]

    def _qualified(self, plugin: str, name: str, asked: str) -> Entry:
        owner = self.owner(name)
        if owner is not None and owner.plugin.lower() == plugin.lower():
            return owner
        shadowed = self._shadowed.get((plugin.lower(), name.lower()))
        if shadowed is None:
            raise self._unknown(asked)
        return shadowed

    def _unknown(self, name: str) -> UnknownNameError:
        close = difflib.get_close_matches(name.lower(), list(self._keys), n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(repr(self._keys[c]) for c in close)}?" if close else ""
        return self.unknown_error(
            f"unknown {self.kind} {name!r}{hint} ({self.list_command} lists all)"
        )

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._keys

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)
