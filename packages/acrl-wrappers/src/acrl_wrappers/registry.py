"""Registries of named things (constraints, projectors, envs, policies, algorithms), factories.

Plugins fill the registries through the hooks of :mod:`acrl_wrappers.hookspecs`; users
reach them through :func:`make_constraint`, :func:`make_projector`,
:func:`list_constraints` and :func:`list_projectors`. Names are matched
case-insensitively; an unknown name raises an error suggesting close matches.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from acrl_wrappers.errors import (
    DuplicateNameError,
    PluginError,
    ProjectionError,
    SpecError,
    UnknownNameError,
)

if TYPE_CHECKING:
    from acrl_wrappers.constraints.base import Constraint
    from acrl_wrappers.projection.base import Projector

__all__ = [
    "Entry",
    "Registry",
    "list_constraints",
    "list_projectors",
    "make_constraint",
    "make_projector",
]


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

    def conflicts(self, entry: Entry) -> list[str]:
        """Messages for each name of ``entry`` that is already taken."""
        out = []
        for key in (entry.name, *entry.aliases):
            taken = self._keys.get(key.lower())
            if taken is not None:
                owner = self._entries[taken].plugin
                out.append(
                    f"{self.kind} {key!r} is registered by both plugin {owner!r} and plugin "
                    f"{entry.plugin!r}"
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

    def get(self, name: str) -> Entry:
        """The entry for ``name`` or one of its aliases (case-insensitive).

        Raises:
            UnknownNameError: (the registry's subclass) with close matches suggested.
        """
        if not isinstance(name, str):
            raise self.unknown_error(f"{self.kind} names are strings, got {name!r}")
        canonical = self._keys.get(name.lower())
        if canonical is None:
            close = difflib.get_close_matches(name.lower(), list(self._keys), n=3, cutoff=0.6)
            hint = (
                f"; did you mean {' or '.join(repr(self._keys[c]) for c in close)}?"
                if close
                else ""
            )
            raise self.unknown_error(
                f"unknown {self.kind} {name!r}{hint} ({self.list_command} lists all)"
            )
        return self._entries[canonical]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._keys

    def __iter__(self) -> Iterator[Entry]:
        return iter(sorted(self._entries.values(), key=lambda e: e.name))

    def __len__(self) -> int:
        return len(self._entries)


# ---------------------------------------------------------------------- factories
def make_constraint(name_or_spec: Any, /, **params: Any) -> Constraint:
    """Build a constraint from a registered name, a spec dict, or return a given constraint.

    Args:
        name_or_spec: a family (``"power"``), a named constraint from a plugin
            (``"halfcheetah-o20"``), a spec ``{"name": ..., **params}``, or a
            :class:`~acrl_wrappers.Constraint` (returned as is).
        **params: parameters for the factory (override the spec's).

    Raises:
        UnknownConstraintError: no plugin registered the name (suggests close matches).
        SpecError: malformed spec, unexpected or missing parameters.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
        >>> c.dim, c.obs_dim
        (6, 17)
        >>> acrl.make_constraint({"name": "ball", "bound": 0.05, "dim": 2}).spec["bound"]
        0.05
    """
    from acrl_wrappers.constraints.base import Constraint
    from acrl_wrappers.plugins import default_host

    if isinstance(name_or_spec, Constraint):
        if params:
            raise SpecError("parameters cannot be applied to an existing Constraint object")
        return name_or_spec
    if isinstance(name_or_spec, Mapping):
        spec = dict(name_or_spec)
        name = spec.pop("name", None)
        if not isinstance(name, str):
            raise SpecError(
                f"a constraint spec needs a string 'name' key (a family such as 'power'), "
                f"got keys {sorted(map(str, name_or_spec))}"
            )
        params = {**spec, **params}
    elif isinstance(name_or_spec, str):
        name = name_or_spec
    else:
        raise SpecError(
            f"expected a constraint name, a spec dict or a Constraint, got {name_or_spec!r}"
        )
    entry = default_host().registry("constraint").get(name)
    factory = entry.load()
    _check_params(factory, params, entry)
    constraint = factory(**params)
    if not isinstance(constraint, Constraint):
        raise PluginError(
            f"constraint {entry.name!r} from plugin {entry.plugin!r} built "
            f"{type(constraint).__name__}, not an acrl_wrappers.Constraint"
        )
    return constraint


def _check_params(factory: Callable[..., Any], params: dict[str, Any], entry: Entry) -> None:
    """Raise :class:`SpecError` naming unexpected or missing parameters of ``factory``."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # builtins without a signature: let the call decide
        return
    accepted = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    if any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values()):
        return
    for key in params:
        if key not in accepted:
            close = difflib.get_close_matches(key, accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise SpecError(
                f"constraint {entry.name!r} got an unexpected parameter {key!r}{hint} "
                f"(accepted: {', '.join(accepted)})"
            )
    try:
        signature.bind(**params)
    except TypeError as exc:
        raise SpecError(
            f"constraint {entry.name!r}: {exc} (accepted: {', '.join(accepted)})"
        ) from exc


def make_projector(constraint: Any, method: str | None = None) -> Projector:
    """The best projector for a constraint, or the one named by ``method``.

    Projectors are tried by decreasing ``priority``: closed form (100), OSQP (50),
    nonlinear (0), plus any a plugin registers.

    Args:
        constraint: a constraint, name or spec (see :func:`make_constraint`).
        method: a registered projector name (``"closed-form"``, ``"osqp"``,
            ``"nonlinear"``, ...) to force one.

    Raises:
        UnknownProjectorError: unknown ``method``.
        ProjectionError: ``method`` cannot handle this constraint (status ``"unsupported"``).

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("linear", A=[[1.0, 1.0], [1.0, -1.0]], b=[1.0, 0.5])
        >>> acrl.make_projector(c).name, acrl.make_projector(c, "nonlinear").name
        ('osqp', 'nonlinear')
    """
    from acrl_wrappers.plugins import default_host

    c = make_constraint(constraint)
    classes = [(entry, _projector_class(entry)) for entry in default_host().registry("projector")]
    if method is not None:
        entry = default_host().registry("projector").get(method)
        cls = _projector_class(entry)
        if not cls.supports(c):
            able = [e.name for e, k in classes if k.supports(c)]
            raise ProjectionError(
                f"projector {entry.name!r} cannot handle {c.family!r} constraints; "
                f"use one of {able}",
                status="unsupported",
            )
        return cls(c)
    for _, cls in sorted(classes, key=lambda item: (-item[1].priority, item[0].name)):
        if cls.supports(c):
            return cls(c)
    raise ProjectionError(f"no registered projector supports {c!r}", status="unsupported")


def _projector_class(entry: Entry) -> type[Projector]:
    from acrl_wrappers.projection.base import Projector

    cls = entry.load()
    if not (isinstance(cls, type) and issubclass(cls, Projector)):
        raise PluginError(
            f"projector {entry.name!r} from plugin {entry.plugin!r} is {cls!r}, "
            "not a subclass of acrl_wrappers.Projector"
        )
    return cls


def list_constraints() -> list[dict[str, Any]]:
    """Every registered constraint: name, family, aliases, plugin and summary.

    Example:
        >>> import acrl_wrappers as acrl
        >>> [c["name"] for c in acrl.list_constraints() if c["plugin"] == "acrl.constraints"][:3]
        ['ball', 'box', 'intersection']
    """
    from acrl_wrappers.plugins import default_host

    return [
        {
            "name": e.name,
            "family": _family_of(e),
            "aliases": list(e.aliases),
            "plugin": e.plugin,
            "summary": e.summary,
        }
        for e in default_host().registry("constraint")
    ]


def _family_of(entry: Entry) -> str:
    """The family of a registered constraint (building named constraints to find out)."""
    from acrl_wrappers.constraints.base import Constraint

    try:
        target = entry.load()
        if isinstance(target, type) and issubclass(target, Constraint):
            return target.family
        return str(target().family)
    except Exception:  # a family that needs parameters, or a broken factory
        return "?"


def list_projectors() -> list[dict[str, Any]]:
    """Every registered projector: name, priority, plugin and summary."""
    from acrl_wrappers.plugins import default_host

    out = []
    for e in default_host().registry("projector"):
        cls = e.load()
        out.append(
            {
                "name": e.name,
                "priority": getattr(cls, "priority", 0),
                "plugin": e.plugin,
                "summary": e.summary,
            }
        )
    return out
