"""The factories users call: :func:`make_constraint`, :func:`make_projector` and the listings.

They look names up in the default plugin host's registries
(:func:`acrl_wrappers.plugins.default_host`). This module sits above the host, the
constraint and projector types and the plain store (:mod:`acrl_wrappers.registry`); none
of those imports it. Constraint types that hold other constraints (an intersection, a
spec rebuilt by :meth:`Constraint.from_spec`) reach it through
:func:`acrl_wrappers.constraints.base.constraint_from_spec`, which this module wires up
when ``acrl_wrappers`` is imported.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.constraints.specs import set_spec_resolver
from acrl_wrappers.errors import PluginError, ProjectionError, SpecError
from acrl_wrappers.plugins import default_host
from acrl_wrappers.projection.base import Projector
from acrl_wrappers.registry import Entry

__all__ = ["list_constraints", "list_projectors", "make_constraint", "make_projector"]


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
        ['ball', 'box', 'capped-simplex']
    """
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
    try:
        target = entry.load()
        if isinstance(target, type) and issubclass(target, Constraint):
            return target.family
        return str(target().family)
    except Exception:  # a family that needs parameters, or a broken factory
        return "?"


def list_projectors() -> list[dict[str, Any]]:
    """Every registered projector: name, priority, plugin and summary."""
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


set_spec_resolver(make_constraint)
