"""An annulus ``lower <= ||a - c||^2 <= upper`` and its exact radial projection.

The annulus is not convex (for ``lower > 0``), so acrl's general projector could only
give a local answer; the nearest point is known in closed form, which is what this
plugin contributes. Reference: CV-Flow (arXiv:2502.10431), its non-convex ``R+L2LB``
problem (``0.045 <= ||a||^2 <= 0.05`` on Reacher).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from acrl_wrappers import ConstraintError, Projector
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint, infer_dim, uniform_in_ball

__all__ = ["AnnulusConstraint", "RadialProjector"]


class AnnulusConstraint(Constraint):
    """Actions whose squared distance to ``center`` lies in ``[lower, upper]``.

    The annulus must lie inside the action box, so the box never binds and the radial
    projection is exact.

    Args:
        lower: smallest squared distance, ``>= 0``.
        upper: largest squared distance, ``>= lower`` (equal gives a sphere).
        dim: action dimension (inferred from ``center`` when it is a list).
        center: centre, default 0.
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: ``lower > upper``, a negative bound, or an annulus leaving the box.

    Example:
        >>> c = AnnulusConstraint(lower=0.045, upper=0.05, dim=2)
        >>> bool(c.contains([0.0, 0.215])), bool(c.contains([0.0, 0.1]))
        (True, False)
    """

    family = "annulus"

    def __init__(
        self,
        lower: float,
        upper: float,
        dim: int | None = None,
        *,
        center: Any = 0.0,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(
            dim=infer_dim(dim, center=center, low=low, high=high), low=low, high=high, tol=tol
        )
        self.lower, self.upper = float(lower), float(upper)
        if not 0.0 <= self.lower <= self.upper:
            raise ConstraintError(f"need 0 <= lower <= upper, got lower={lower}, upper={upper}")
        self.center = np.broadcast_to(np.asarray(center, dtype=np.float64), (self.dim,)).copy()
        radius = math.sqrt(self.upper)
        if np.any(self.center - radius < self.low) or np.any(self.center + radius > self.high):
            raise ConstraintError(
                "the annulus must lie inside the action box (so the radial projection is "
                "exact); shrink `upper` or move `center`"
            )
        self.convex = self.lower == 0.0

    def rows(self, actions: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
        """Two rows: ``||a - c||^2 - upper`` and ``lower - ||a - c||^2``."""
        squared = ((actions - self.center) ** 2).sum(axis=1, keepdims=True)
        return np.hstack([squared - self.upper, self.lower - squared])

    def _params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"lower": self.lower, "upper": self.upper}
        if np.any(self.center != 0.0):
            out["center"] = self.center.tolist()
        return out

    def _propose(self, obs: np.ndarray | None, n: int, rng: np.random.Generator) -> np.ndarray:
        """Uniform in the outer ball (the rejection step removes the hole)."""
        return self.center + uniform_in_ball(rng, n, self.dim) * math.sqrt(self.upper)


class RadialProjector(Projector):
    """Exact projection onto an :class:`AnnulusConstraint`: move along the ray from the centre.

    A point outside is pulled in to radius ``sqrt(upper)``, a point in the hole is
    pushed out to ``sqrt(lower)``; the centre itself (every direction is nearest) goes
    along the first axis, so the result is deterministic.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = AnnulusConstraint(lower=0.25, upper=1.0, dim=2)
        >>> x, info = RadialProjector(c).project([0.3, 0.4])
        >>> x.round(3).tolist(), info.method
        ([0.3, 0.4], 'annulus-radial')
        >>> RadialProjector(c).project([0.1, 0.0])[0].round(3).tolist()
        [0.5, 0.0]
    """

    name = "annulus-radial"
    priority = 200  # above acrl's own projectors, so make_projector picks it

    @classmethod
    def supports(cls, constraint: Constraint) -> bool:
        """Annulus constraints only."""
        return isinstance(constraint, AnnulusConstraint)

    def _project(self, action: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
        c = self.constraint
        assert isinstance(c, AnnulusConstraint)
        offset = action - c.center
        distance = float(np.linalg.norm(offset))
        radius = min(max(distance, math.sqrt(c.lower)), math.sqrt(c.upper))
        if distance == 0.0:
            offset, distance = np.eye(c.dim)[0], 1.0
        return c.center + offset * (radius / distance)
