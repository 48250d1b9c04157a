"""Weighted L2 balls: ``sum_i (w_i (a_i - c_i(s)))^2 <= r(s)^2``, centre and radius may move."""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, row_dot
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint
from acrl_wrappers.constraints.helpers import infer_dim, log_unit_ball_volume, uniform_in_ball
from acrl_wrappers.constraints.state import StateParameter, StateWeights, first_bad_row
from acrl_wrappers.errors import ConstraintError, EmptyFeasibleSetError
from acrl_wrappers.projection.batched import project_ball_box_batch
from acrl_wrappers.projection.euclidean import project_ellipsoid_box

__all__ = ["BallConstraint"]


class BallConstraint(Constraint):
    """An L2 ball, optionally weighted, with a centre and size that may depend on the state.

    The set is ``sum_i (w_i (a_i - c_i))^2 <= bound``. ``bound`` is the squared radius, so
    the constraint reads as the papers write it: Reacher's ``a1^2 + a2^2 <= 0.05`` is
    ``BallConstraint(bound=0.05, dim=2)`` and Ant's ``sum a_i^2 <= 2`` is
    ``BallConstraint(bound=2, dim=8)`` (ARAM, arXiv:2503.12932); or give ``radius``
    instead. ``center``, ``bound`` / ``radius`` may be read from the observation
    (:class:`~acrl_wrappers.constraints.state.StateParameter` specs, e.g. ``center=
    {"index": "17:23"}`` for an L2 rate limit around the previous action), and the
    weights too (``weight_index``).

    The projection onto ball and box is exact, for every state: with the multiplier
    ``mu`` of the ball, the KKT conditions give ``x_i(mu) = clip((a_i + mu w_i^2 c_i) /
    (1 + mu w_i^2))`` coordinate by coordinate (the box is separable), and the ball's
    value along that path is monotone in ``mu``; one scalar equation, solved by a sorted
    sweep over the box breakpoints for a round ball (batched as well) and by safeguarded
    Newton steps for a weighted one. Clipping the radial projection is *not* the answer
    in general; this is.

    Args:
        bound: squared radius ``>= 0`` (or a state-dependent spec); give this or ``radius``.
        dim: action dimension (inferred from list-valued parameters).
        radius: radius ``>= 0`` (or a state-dependent spec), instead of ``bound``.
        center: centre ``c`` (or a state-dependent spec), default 0.
        weights: constant weights ``w`` (scalar or list), default 1.
        weight_index: observation indices of state-dependent weights (multiplied by
            ``weights``), or ``None``.
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: negative ``bound`` / ``radius``, both or neither given, or
            mismatched lengths.
        EmptyFeasibleSetError: the box misses the ball (all parameters constant).
        StateParameterError: (on use) a state-dependent radius or bound below 0; the
            message names the state.

    Example:
        >>> c = BallConstraint(bound=0.05, dim=2)
        >>> x = c.project_closed_form(np.array([0.3, 0.4]), None)
        >>> x.round(4).tolist(), bool(c.contains(x))
        ([0.1342, 0.1789], True)
        >>> moving = BallConstraint(radius=0.1, center={"index": "0:2"})
        >>> moving.project_closed_form(np.array([1.0, 0.5]), np.array([0.5, 0.5])).tolist()
        [0.6, 0.5]
    """

    family = "ball"

    def __init__(
        self,
        bound: Any = None,
        dim: int | None = None,
        *,
        radius: Any = None,
        center: Any = 0.0,
        weights: Any = None,
        weight_index: Any = None,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        if (bound is None) == (radius is None):
            raise ConstraintError(
                "give exactly one of `bound` (the squared radius) and `radius`, got "
                f"bound={bound!r}, radius={radius!r}"
            )
        dim = infer_dim(
            dim, center=center, weights=weights, weight_index=weight_index, low=low, high=high
        )
        super().__init__(dim=dim, low=low, high=high, tol=tol)
        self._squared = radius is None  # the size parameter is the squared radius
        self.radius_param = StateParameter(
            bound if self._squared else radius,
            name="bound" if self._squared else "radius",
            scalar=True,
        )
        """The size parameter as given: ``bound`` (squared radius) or ``radius``."""
        if not self.radius_param.state_dependent and self.radius_param.value(None) < 0.0:
            raise ConstraintError(
                f"`{self.radius_param.name}` must be >= 0, got {self.radius_param.value(None)}"
            )
        value = None if self.radius_param.state_dependent else self.radius_param.value(None)
        self.bound = None if value is None else (value if self._squared else value * value)
        """The squared radius when it is constant, else ``None``."""
        self.center_param = StateParameter(center, name="center", size=dim)
        self.center = self.center_param.constant
        """The centre when it is constant, else ``None``."""
        self._center_list: list[float] = self.center_param.row(None)
        self.weights = StateWeights(dim, weights, weight_index)
        self._reads(self.radius_param, self.center_param, self.weights)
        self._constant = self.obs_dim == 0
        self._round_at_origin = (
            self._constant and bool(np.all(self.weights.scale == 1.0)) and not np.any(self.center)
        )
        scale = self.weights.scale
        self._round = not self.weights.state_dependent and bool(np.all(scale == scale[0]))
        if self._constant:
            gap = np.clip(self.center, self.low, self.high) - self.center
            if float(np.sum((scale * gap) ** 2)) > self.bound:
                raise EmptyFeasibleSetError(
                    f"the ball around center={self.center.tolist()} with bound={self.bound} "
                    "does not meet the action box; move the center inside the box or "
                    "enlarge the bound"
                )
            self._rows_in_box = self._inside_box()

    def _inside_box(self) -> bool:
        """Whether the (constant) ellipsoid lies inside the action box, with room for rounding."""
        w = np.abs(self.weights.scale)
        if np.any(w == 0.0):
            return False
        reach = (1.0 + 1e-9) * math.sqrt(self.bound) / w
        return bool(
            np.all(self.center - reach >= self.low) and np.all(self.center + reach <= self.high)
        )

    # ------------------------------------------------------------------ the state's ball
    def squared_radius(self, obs: FloatArray | None) -> FloatArray:
        """The squared radius for ``(N, k)`` observations, ``(N,)`` (or ``(1,)``).

        Raises:
            StateParameterError: where the radius (or bound) is negative.
        """
        if self.bound is not None:
            return np.array([self.bound])
        value = self.radius_param.batch(obs)[:, 0]
        bad = value < 0.0
        if bad.any():
            row = first_bad_row(bad)
            raise self._negative(float(value[row]), None if obs is None else obs[row])
        return value if self._squared else value * value

    def _squared_one(self, obs: FloatArray | None) -> float:
        if self.bound is not None:
            return self.bound
        value = self.radius_param.value(obs)
        if value < 0.0:
            raise self._negative(value, obs)
        return value if self._squared else value * value

    def _negative(self, value: float, obs: FloatArray | None) -> Exception:
        return self.radius_param.fail(
            f"is {value:.6g} < 0", obs, "a radius must be >= 0: check its index, scale and offset"
        )

    # ------------------------------------------------------------------ family interface
    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """One row: ``sum (w (a - c))^2 - bound``."""
        if self._round_at_origin:
            return (row_dot(actions, actions) - self.bound)[:, None]
        r2 = self.squared_radius(obs)
        scaled = self.weights(obs) * (actions - self.center_param.batch(obs))
        return (row_dot(scaled, scaled) - r2)[:, None]

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        if self._round_at_origin:
            return [sum(map(operator.mul, action, action)) - self.bound]
        r2 = self._squared_one(obs)
        w = self.weights.row(obs)
        total = 0.0
        for x, c, s in zip(action, self.center_param.row(obs), w, strict=False):
            total += (s * (x - c)) ** 2
        return [total - r2]

    def _params(self) -> dict[str, Any]:
        out: dict[str, Any] = {self.radius_param.name: self.radius_param.spec()}
        if self.center is None:
            out["center"] = self.center_param.spec()
        elif np.any(self.center != 0.0):
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
            action,
            squared,
            self.center_param.row(obs),
            self._squared_one(obs),
            self._low_list,
            self._high_list,
        )

    def project_closed_form_batch(self, actions: FloatArray, obs: FloatArray | None) -> Any:
        """Exact batched projection for round balls (equal constant weights), else ``None``."""
        if not self._round or self.weights.scale[0] == 0.0:
            return None
        w2 = float(self.weights.scale[0]) ** 2
        r2 = self.squared_radius(obs) / w2
        return project_ball_box_batch(
            actions, self.center_param.batch(obs), r2, self.low, self.high
        )

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform in the ellipsoid when it is smaller than the box, else in the box."""
        w = np.abs(self.weights(obs)[0])
        r2 = float(self.squared_radius(obs)[0])
        if np.any(w == 0.0) or r2 == 0.0:
            return super()._propose(obs, n, rng)
        radii = math.sqrt(r2) / w
        log_ball = log_unit_ball_volume(self.dim) + float(np.log(np.maximum(radii, 1e-300)).sum())
        if log_ball >= self._log_box_volume:
            return super()._propose(obs, n, rng)
        return self.center_param.batch(obs)[0] + uniform_in_ball(rng, n, self.dim) * radii
