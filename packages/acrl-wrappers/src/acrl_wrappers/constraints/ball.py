"""Weighted L2 balls: ``sum_i (w_i (a_i - c_i))^2 <= bound``."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, float_scalar, float_vector
from acrl_wrappers.constraints.base import (
    DEFAULT_TOL,
    Constraint,
    StateWeights,
    infer_dim,
    log_unit_ball_volume,
    uniform_in_ball,
)
from acrl_wrappers.errors import EmptyFeasibleSetError
from acrl_wrappers.projection.euclidean import project_ellipsoid_box

__all__ = ["BallConstraint"]


class BallConstraint(Constraint):
    """An L2 ball, optionally weighted and centred: ``sum_i (w_i (a_i - c_i))^2 <= bound``.

    ``bound`` is the squared radius, so the constraint reads as the papers write it:
    Reacher's ``a1^2 + a2^2 <= 0.05`` is ``BallConstraint(bound=0.05, dim=2)`` and Ant's
    ``sum a_i^2 <= 2`` is ``BallConstraint(bound=2, dim=8)`` (ARAM, arXiv:2503.12932).
    The violation is ``max(0, sum (w (a - c))^2 - bound)`` plus the box part.
    Weights may be read from the observation (``weight_index``). The projection onto
    ball and box is exact (:func:`~acrl_wrappers.projection.euclidean.project_ellipsoid_box`).

    Args:
        bound: squared radius, ``>= 0``.
        dim: action dimension (inferred from list-valued parameters).
        center: centre ``c``, default 0.
        weights: constant weights ``w`` (scalar or list), default 1.
        weight_index: observation indices of state-dependent weights (multiplied by
            ``weights``), or ``None``.
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: negative ``bound`` or mismatched lengths.
        EmptyFeasibleSetError: the box misses the ball (constant weights).

    Example:
        >>> c = BallConstraint(bound=0.05, dim=2)
        >>> x = c.project_closed_form(np.array([0.3, 0.4]), None)
        >>> x.round(4).tolist(), bool(c.contains(x))
        ([0.1342, 0.1789], True)
    """

    family = "ball"

    def __init__(
        self,
        bound: float,
        dim: int | None = None,
        *,
        center: Any = 0.0,
        weights: Any = None,
        weight_index: Any = None,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        dim = infer_dim(
            dim, center=center, weights=weights, weight_index=weight_index, low=low, high=high
        )
        super().__init__(dim=dim, low=low, high=high, tol=tol)
        self.bound = float_scalar(bound, "bound", minimum=0.0)
        self.center = float_vector(center, dim, "center")
        self._center_list: list[float] = self.center.tolist()
        self.weights = StateWeights(dim, weights, weight_index)
        self.obs_dim = self.weights.obs_dim
        self._obs_indices = sorted(set(self.weights.index or []))
        self._round_at_origin = (
            not self.weights.state_dependent
            and bool(np.all(self.weights.scale == 1.0))
            and not np.any(self.center)
        )
        if not self.weights.state_dependent:
            gap = np.clip(self.center, self.low, self.high) - self.center
            if float(np.sum((self.weights.scale * gap) ** 2)) > self.bound:
                raise EmptyFeasibleSetError(
                    f"the ball around center={self.center.tolist()} with bound={self.bound} "
                    "does not meet the action box; move the center inside the box or "
                    "enlarge the bound"
                )

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """One row: ``sum (w (a - c))^2 - bound``."""
        scaled = self.weights(obs) * (actions - self.center)
        return np.einsum("ij,ij->i", scaled, scaled)[:, None] - self.bound

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        if self._round_at_origin:
            return [sum(map(operator.mul, action, action)) - self.bound]
        w = self.weights.row(obs)
        total = 0.0
        for x, c, s in zip(action, self._center_list, w, strict=False):
            total += (s * (x - c)) ** 2
        return [total - self.bound]

    def _params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"bound": self.bound}
        if np.any(self.center != 0.0):
            out["center"] = self.center.tolist()
        out.update(self.weights.params())
        return out

    @property
    def has_closed_form(self) -> bool:
        """Always: a scalar secular equation, solved exactly."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Exact projection onto ball and box."""
        squared = [wi * wi for wi in self.weights.row(obs)]
        return project_ellipsoid_box(
            action, squared, self._center_list, self.bound, self._low_list, self._high_list
        )

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform in the ellipsoid when it is smaller than the box, else in the box."""
        w = np.abs(self.weights(obs)[0])
        if np.any(w == 0.0):
            return super()._propose(obs, n, rng)
        radii = math.sqrt(self.bound) / w
        log_ball = log_unit_ball_volume(self.dim) + float(np.log(np.maximum(radii, 1e-300)).sum())
        if log_ball >= self._log_box_volume:
            return super()._propose(obs, n, rng)
        return self.center + uniform_in_ball(rng, n, self.dim) * radii
