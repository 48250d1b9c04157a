"""The action box alone: ``low <= a <= high``."""

from __future__ import annotations

from typing import Any

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint, infer_dim
from acrl_wrappers.projection.euclidean import project_box

__all__ = ["BoxConstraint"]


class BoxConstraint(Constraint):
    """The action box ``low <= a <= high`` and nothing else (the "no constraint" baseline).

    Args:
        dim: action dimension (inferred from ``low``/``high`` when they are lists).
        low: lower bounds, default -1.
        high: upper bounds, default 1.
        tol: feasibility tolerance.

    Example:
        >>> c = BoxConstraint(dim=2)
        >>> float(c.violation([1.5, -2.0])), c.project_closed_form([1.5, -2.0], None).tolist()
        (1.5, [1.0, -1.0])
    """

    family = "box"

    def __init__(
        self,
        dim: int | None = None,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(dim=infer_dim(dim, low=low, high=high), low=low, high=high, tol=tol)

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        return []

    def _params(self) -> dict[str, Any]:
        return {}

    @property
    def has_closed_form(self) -> bool:
        """Always: the projection is a clip."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Clip to the box."""
        return project_box(action, self.low, self.high)
