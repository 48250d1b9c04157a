"""Power budgets weighted by state: ``sum |w_i a_i| <= c`` and ``sum max(w_i a_i, 0) <= c``.

With ``w`` the joint velocities and ``a`` the torques, ``w_i a_i`` is the mechanical power
of actuator ``i``: :class:`PowerConstraint` caps total absolute power (the benchmark's
"O" / orthoplex constraints, HalfCheetah ``sum |w_i a_i| <= 20`` with ``w = obs[11:17]``)
and :class:`PositivePowerConstraint` caps positive work only (the "M" constraints,
Hopper/Walker2d ``sum max(w_i a_i, 0) <= 10``); from ARAM, arXiv:2503.12932, and
Kasaura et al., arXiv:2304.08743.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, float_scalar
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint, StateWeights, infer_dim
from acrl_wrappers.projection.euclidean import project_budget_box
from acrl_wrappers.projection.qp import QPForm, QPValues

__all__ = ["PositivePowerConstraint", "PowerConstraint"]


class _PowerBudget(Constraint):
    """Shared parameters and structure of the two power-budget families."""

    positive_only = False

    def __init__(
        self,
        bound: float,
        dim: int | None = None,
        *,
        weights: Any = None,
        weight_index: Any = None,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        dim = infer_dim(dim, weights=weights, weight_index=weight_index, low=low, high=high)
        super().__init__(dim=dim, low=low, high=high, tol=tol)
        self.bound = float_scalar(bound, "bound", minimum=0.0)
        self.weights = StateWeights(dim, weights, weight_index)
        self.obs_dim = self.weights.obs_dim
        self._obs_indices = sorted(set(self.weights.index or []))
        self._zero_in_box = bool(np.all(self.low <= 0.0) and np.all(self.high >= 0.0))

    def _params(self) -> dict[str, Any]:
        return {"bound": self.bound, **self.weights.params()}

    @property
    def has_closed_form(self) -> bool:
        """When the box contains 0 (always for the normalised box [-1, 1])."""
        return self._zero_in_box

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray | None:
        """Exact projection by soft thresholding with a budget multiplier."""
        if not self._zero_in_box:
            return None
        return project_budget_box(
            action,
            self.weights.row(obs),
            self.bound,
            self._low_list,
            self._high_list,
            positive_only=self.positive_only,
        )

    def qp_form(self) -> QPForm:
        """Auxiliary rows ``t_i >= w_i x_i``, ``t_i >= -w_i x_i`` (or 0), ``sum t <= c``."""
        d = self.dim
        idx = np.arange(d)
        # rows 0..d-1:  w_i x_i - t_i <= 0          (entries: w_i, -1)
        # rows d..2d-1: -w_i x_i - t_i <= 0 (|.|)   or  -t_i <= 0 (positive power)
        # row 2d:       sum_i t_i <= bound
        if self.positive_only:
            rows = np.concatenate([idx, idx, d + idx, np.full(d, 2 * d)])
            cols = np.concatenate([idx, d + idx, d + idx, d + idx])
            tail = np.concatenate([-np.ones(d), -np.ones(d), np.ones(d)])
        else:
            rows = np.concatenate([idx, d + idx, idx, d + idx, np.full(d, 2 * d)])
            cols = np.concatenate([idx, idx, d + idx, d + idx, d + idx])
            tail = np.concatenate([-np.ones(d), -np.ones(d), np.ones(d)])
        lower = np.full(2 * d + 1, -np.inf)
        upper = np.concatenate([np.zeros(2 * d), [self.bound]])
        positive_only = self.positive_only

        def values(obs: FloatArray | None) -> QPValues:
            w = self.weights(obs)[0]
            head = w if positive_only else np.concatenate([w, -w])
            return np.concatenate([head, tail]), lower, upper

        return QPForm(
            dim=d,
            n_aux=d,
            n_rows=2 * d + 1,
            rows=rows,
            cols=cols,
            values=values,
            state_dependent=self.weights.state_dependent,
        )


class PowerConstraint(_PowerBudget):
    """Weighted L1 budget ``sum_i |w_i a_i| <= bound`` (total absolute power).

    ``w`` is constant (``weights``) or read from the observation (``weight_index``, times
    ``weights``). The projection is exact in closed form when the box contains 0, and a
    QP (via auxiliary variables) otherwise. Reference: ARAM, arXiv:2503.12932
    (HalfCheetah, ``HC+O``) and Kasaura et al., arXiv:2304.08743 (``OrthoplexConstraint``,
    which their code encodes as ``2^n`` sign rows; here one row with auxiliaries, the
    same set).

    Args:
        bound: the budget ``c >= 0``.
        dim: action dimension (inferred from ``weights`` or ``weight_index``).
        weights: constant weights (scalar or list), default 1.
        weight_index: observation indices of the state-dependent weights, e.g. ``"11:17"``.
        low, high: action box.
        tol: feasibility tolerance.

    Example:
        >>> c = PowerConstraint(bound=20.0, weight_index="11:17")
        >>> obs = np.zeros(17); obs[11:17] = 10.0
        >>> float(c.violation(np.full(6, 0.5), obs)), bool(c.contains(np.full(6, 0.3), obs))
        (10.0, True)
    """

    family = "power"

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """One row: ``sum |w a| - bound``."""
        return np.abs(self.weights(obs) * actions).sum(axis=1, keepdims=True) - self.bound

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        return [sum(map(abs, map(operator.mul, action, self.weights.row(obs)))) - self.bound]

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform in the weighted cross-polytope when it is smaller than the box."""
        w = np.abs(self.weights(obs)[0])
        if np.any(w == 0.0) or self.bound == 0.0:
            return super()._propose(obs, n, rng)
        log_poly = self.dim * math.log(2.0 * self.bound) - math.lgamma(self.dim + 1)
        log_poly -= float(np.log(w).sum())
        if log_poly >= self._log_box_volume:
            return super()._propose(obs, n, rng)
        # uniform in the unit L1 ball: exponential spacings with random signs
        spacing = rng.exponential(size=(n, self.dim + 1))
        unit = spacing[:, : self.dim] / spacing.sum(axis=1, keepdims=True)
        return unit * rng.choice([-1.0, 1.0], size=(n, self.dim)) * (self.bound / w)


class PositivePowerConstraint(_PowerBudget):
    """Positive-work budget ``sum_i max(w_i a_i, 0) <= bound``.

    Only actuators doing positive work count; braking is free. Exact closed-form
    projection when the box contains 0, a QP otherwise. Reference: ARAM, arXiv:2503.12932
    (Hopper ``H+M_10``: ``w = obs[8:11]``, bound 10) and Kasaura et al., arXiv:2304.08743
    (``PowerConstraint``, encoded there as ``2^n - 1`` subset rows; here one row with auxiliaries).

    Args:
        bound: the budget ``c >= 0``.
        dim: action dimension (inferred from ``weights`` or ``weight_index``).
        weights: constant weights (scalar or list), default 1.
        weight_index: observation indices of the state-dependent weights, e.g. ``"8:11"``.
        low, high: action box.
        tol: feasibility tolerance.

    Example:
        >>> c = PositivePowerConstraint(bound=1.0, weights=[2.0, 2.0])
        >>> float(c.violation([0.5, -1.0])), float(c.violation([0.75, 0.5]))
        (0.0, 1.5)
    """

    family = "positive-power"
    positive_only = True

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """One row: ``sum max(w a, 0) - bound``."""
        power = self.weights(obs) * actions
        return np.maximum(power, 0.0).sum(axis=1, keepdims=True) - self.bound

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        w = self.weights.row(obs)
        products = [x * y for x, y in zip(action, w, strict=False)]
        # NaN must reach the caller's finiteness check, which max() would hide
        return [sum([p for p in products if p > 0.0 or p != p]) - self.bound]
