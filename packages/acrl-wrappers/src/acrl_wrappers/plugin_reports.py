"""What the plugin host reports: a plugin it skipped, a name it refused.

:class:`PluginFailure` and :class:`NameConflict` are plain records; the host
(:mod:`acrl_wrappers.plugins`) makes them, warns with their text and lists them in
``acrl plugins``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["NameConflict", "PluginFailure"]


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


@dataclass(frozen=True)
class NameConflict:
    """A name a plugin registered that another plugin already owned: the later one is refused.

    Attributes:
        kind: ``"constraint"``, ``"projector"``, ``"env"``, ``"policy"``, ``"algorithm"``,
            ``"suite"`` or ``"command"``.
        name: the contested name.
        owner: who keeps it, ``"plugin (distribution version)"``.
        refused: who was refused, ``"plugin (distribution version)"``.
        owner_plugin, refused_plugin: the two plugin names.
        refused_distribution: the refused plugin's distribution (``None`` for code added
            with :meth:`PluginHost.add_plugin`).
        reason: why, when it is not a plain duplicate (a task whose constraint was refused).
    """

    kind: str
    name: str
    owner: str
    refused: str
    owner_plugin: str
    refused_plugin: str
    refused_distribution: str | None
    reason: str = ""

    def describe(self) -> str:
        """One sentence: who owns the name, who was refused, what still works."""
        why = self.reason or f"{self.owner} registered it first"
        return (
            f"{self.kind} {self.name!r} from {self.refused} was refused: {why}, so "
            f"{self.name!r} keeps meaning what {self.owner_plugin!r} registered; the rest of "
            f"{self.refused_plugin!r} still loads"
        )

    @property
    def fix(self) -> str:
        """How to resolve the conflict either way."""
        remove = (
            f"pip uninstall {self.refused_distribution} or " if self.refused_distribution else ""
        )
        keep = f"{remove}ACRL_DISABLE_PLUGINS={self.refused_plugin}"
        if self.kind == "command" or self.reason:
            return f"to silence this, {keep}"
        return (
            f"to silence this, {keep}; to use {self.refused_plugin!r}'s instead, ask for "
            f"'{self.refused_plugin}:{self.name}' or set ACRL_DISABLE_PLUGINS={self.owner_plugin}"
        )
