"""How constraint names and specs become constraints, without importing the registry.

:mod:`acrl_wrappers.factories` sets :func:`acrl_wrappers.make_constraint` as the resolver
when ``acrl_wrappers`` is imported (:func:`set_spec_resolver`), so constraint types can
rebuild members from specs (:func:`resolve_spec`) and never import the registry or the
plugin host, which sit above them. Internal: users call ``acrl.make_constraint``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from acrl_wrappers.errors import ConstraintError

if TYPE_CHECKING:
    from acrl_wrappers.constraints.base import Constraint

__all__ = ["SpecResolver", "resolve_spec", "set_spec_resolver"]

SpecResolver = Callable[[Any], "Constraint"]
_spec_resolver: SpecResolver | None = None


def set_spec_resolver(resolver: SpecResolver) -> None:
    """Set how :func:`resolve_spec` turns names and specs into constraints."""
    global _spec_resolver
    _spec_resolver = resolver


def resolve_spec(value: Any) -> Constraint:
    """The constraint a family name or spec dict builds, through the resolver set."""
    if _spec_resolver is None:  # pragma: no cover - acrl_wrappers/__init__ always sets it
        raise ConstraintError("import acrl_wrappers before building constraints from specs")
    return _spec_resolver(value)
