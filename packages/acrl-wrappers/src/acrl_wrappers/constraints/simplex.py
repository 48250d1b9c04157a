"""Allocations: the simplex ``a >= 0, sum a = total`` and the capped simplex ``0 <= a_i <= u_i``.

The bike-sharing shape (ARAM, arXiv:2503.12932): share a fleet of ``total`` bikes among
stations with at most ``u_i`` docks each. Caps and total may be read from the state.
The projection is exact and fast: ``x = clip(a - nu)`` onto the (capped) box, with the
scalar ``nu`` found by sorting (the sort method when no cap can bind, else a sweep over
the breakpoints of the piecewise-linear total): plain Python for one action, one numpy
pass for a batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, as_obs_batch
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint
from acrl_wrappers.constraints.helpers import infer_dim
from acrl_wrappers.constraints.state import StateParameter, first_bad_row
from acrl_wrappers.errors import ConstraintError, EmptyFeasibleSetError
from acrl_wrappers.projection.batched import project_simplex_batch, project_sum_box_batch
from acrl_wrappers.projection.qp import QPForm, QPValues
from acrl_wrappers.projection.sums import project_simplex, project_sum_box

__all__ = ["CappedSimplexConstraint", "SimplexConstraint"]

_ROUNDING = 2.0**-52  # twice the unit roundoff: the float sum's error bound, per term


class CappedSimplexConstraint(Constraint):
    """The capped simplex ``0 <= a_i <= u_i(s)``, ``sum_i a_i = total(s)`` (and the box).

    The sum is an equality, so its row forgives the rounding of a float sum (at most
    ``2 d eps (sum |a_i| + |total|)``, with ``eps = 2^-53``): an action whose entries sum to
    ``total`` exactly, or whose last entry closed the sum by a subtraction, has violation
    exactly 0. ``caps`` and ``total`` may be
    :class:`~acrl_wrappers.constraints.state.StateParameter` specs (docks free, bikes in
    the fleet, read from the observation).

    Args:
        caps: upper limits ``u >= 0`` (scalar, list or state spec); ``None`` for the box's.
        total: the sum, ``sum low' <= total <= sum high'`` over the effective bounds.
        dim: action dimension (inferred from list-valued parameters).
        low, high: action box (entries below 0 are cut off by ``a >= 0``).
        tol: feasibility tolerance.

    Raises:
        ConstraintError: negative caps, or lengths that disagree.
        EmptyFeasibleSetError: ``total`` outside ``[sum low, sum high]`` of the effective
            bounds ``max(low, 0)`` and ``min(high, caps)`` (constant parameters).
        StateParameterError: (on use) the same for state-dependent caps or total; the
            message names the state.

    Example:
        >>> c = CappedSimplexConstraint(caps=[0.5, 0.5, 1.0], total=1.0, low=0.0)
        >>> x = c.project_closed_form(np.array([0.9, 0.6, -0.2]), None)
        >>> x.round(6).tolist(), float(c.violation([0.25, 0.25, 0.5]))
        ([0.5, 0.5, 0.0], 0.0)
    """

    family = "capped-simplex"

    def __init__(
        self,
        caps: Any = None,
        total: Any = 1.0,
        dim: int | None = None,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        dim = infer_dim(dim, caps=caps, low=low, high=high)
        super().__init__(dim=dim, low=low, high=high, tol=tol)
        self.caps = None if caps is None else StateParameter(caps, name="caps", size=dim)
        self.total = StateParameter(total, name="total", scalar=True)
        self._floor = np.maximum(self.low, 0.0)
        self._floor_list: list[float] = self._floor.tolist()
        self._floor_rows = np.flatnonzero(self._floor > self.low)  # where a >= 0 is tighter
        self._floor_pairs = [(self._floor_list[i], i) for i in self._floor_rows.tolist()]
        self._floor_sum = float(self._floor.sum())
        self._floor_min = float(self._floor.min())
        self._uniform_floor = bool(np.all(self._floor == self._floor_min))
        self._reads(self.caps, self.total)
        caps_value = None if self.caps is None else self.caps.constant
        if caps_value is not None and np.any(caps_value < 0):
            raise ConstraintError(f"`caps` must be >= 0, got {caps_value.tolist()}")
        hi, t = self._limits(None)
        self._cap_list: list[float] = hi[0].tolist()  # min(high, caps) when caps are constant
        self._total = float(t[0])
        # the last state's limits (a projection checks, projects and checks one state);
        # a tuple is replaced whole, so a reader never sees a key with another's value
        self._cache_one: tuple[bytes, tuple[list[float], float]] | None = None
        self._cache_batch: tuple[Any, tuple[FloatArray, FloatArray]] | None = None
        if self.obs_dim == 0:
            self._check_reachable(hi[0], float(t[0]), None)
        # no entry can reach its cap: each cap leaves room for the whole total
        self._never_capped = bool(np.all(hi[0] - self._floor >= self._total - self._floor_sum))

    # ------------------------------------------------------------------ the state's set
    def _limits(self, obs: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """Effective upper bounds ``(N or 1, d)`` and totals ``(N or 1,)``, unchecked."""
        hi = self.high if self.caps is None else np.minimum(self.high, self.caps.batch(obs))
        return np.atleast_2d(hi), self.total.batch(obs)[:, 0]

    def limits(self, obs: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """The effective caps and totals for ``(N, k)`` observations, checked.

        Raises:
            StateParameterError: a state whose total lies outside ``[sum low, sum high]``.
        """
        if self.obs_dim and obs is not None:  # one state, several calls (check, project, check)
            key = (obs.shape, obs.tobytes())
            cached = self._cache_batch
            if cached is not None and cached[0] == key:
                return cached[1]
        hi, t = self._limits(obs)
        if self.obs_dim:
            lo_sum = self._floor_sum
            bad = (t < lo_sum - 1e-12) | (t > hi.sum(axis=1) + 1e-12)  # broadcasts to (N,)
            if bad.any() or np.any(hi < self._floor):
                self._raise_unreachable(hi, t, obs)
            if obs is not None:
                self._cache_batch = (key, (hi, t))
        return hi, t

    def _raise_unreachable(self, hi: FloatArray, t: FloatArray, obs: FloatArray | None) -> None:
        """Report the first state whose total the bounds cannot reach (``(N or 1, ...)`` each)."""
        n = max(hi.shape[0], t.shape[0])
        hi, t = np.broadcast_to(hi, (n, self.dim)), np.broadcast_to(t, (n,))
        bad = (t < self._floor_sum - 1e-12) | (t > hi.sum(axis=1) + 1e-12)
        row = first_bad_row(bad | (hi < self._floor).any(axis=1))
        one = None if obs is None else obs[min(row, obs.shape[0] - 1)]
        self._check_reachable(hi[row], float(t[row]), one)

    def _limits_one(self, obs: FloatArray | None) -> tuple[list[float], float]:
        """:meth:`limits` for one ``(k,)`` observation, in plain Python (the fast path)."""
        if not self.obs_dim:
            return self._cap_list, self._total
        key = obs.tobytes()  # type: ignore[union-attr]
        cached = self._cache_one
        if cached is not None and cached[0] == key:
            return cached[1]
        hi = self._cap_list
        if self.caps is not None and self.caps.state_dependent:
            hi = [
                h if h <= c else c for h, c in zip(self._high_list, self.caps.row(obs), strict=True)
            ]
        t = self.total.value(obs)
        if not (self._floor_sum - 1e-12 <= t <= sum(hi) + 1e-12 and self._above_floor(hi)):
            self._check_reachable(np.array(hi), t, obs)
        self._cache_one = (key, (hi, t))
        return hi, t

    def _above_floor(self, hi: list[float]) -> bool:
        """Whether every upper bound is at least its floor ``max(low, 0)``."""
        if self._uniform_floor:
            return min(hi) >= self._floor_min  # (a NaN cap fails the sum test instead)
        return all(h >= f for h, f in zip(hi, self._floor_list, strict=True))

    def _check_reachable(self, hi: FloatArray, t: float, obs: FloatArray | None) -> None:
        lo_sum, hi_sum = float(self._floor.sum()), float(hi.sum())
        if not np.isfinite(hi_sum + t):  # a NaN observation: reported by the finiteness check
            return
        if np.all(hi >= self._floor) and lo_sum - 1e-12 <= t <= hi_sum + 1e-12:
            return
        problem = (
            f"total {t:.6g} lies outside [sum low, sum high] = [{lo_sum:.6g}, {hi_sum:.6g}] "
            f"of the bounds max(low, 0) = {self._floor.tolist()} and min(high, caps) = "
            f"{np.round(hi, 6).tolist()}"
        )
        fix = "choose total (or caps, low, high) so that some allocation reaches it"
        culprit = self.total if self.total.state_dependent else self.caps
        if obs is None or culprit is None or not culprit.state_dependent:
            raise EmptyFeasibleSetError(f"`total`: {problem}; {fix}")
        raise culprit.fail(f"makes the {problem}", obs, fix)

    # ------------------------------------------------------------------ family interface
    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """``-a_i`` (where ``a >= 0`` cuts the box), ``a - caps(s)`` and the two sum rows."""
        hi, t = self.limits(obs)
        n, d, k = actions.shape[0], self.dim, self._floor_rows.size
        out = np.empty((n, k + (d if self.caps is not None else 0) + 2))
        if k:
            out[:, :k] = self._floor[self._floor_rows] - actions[:, self._floor_rows]
        if self.caps is not None:
            np.subtract(actions, hi, out=out[:, k : k + d])
        gap = actions.sum(axis=1) - t
        slack = _ROUNDING * d * (np.abs(actions).sum(axis=1) + np.abs(t))
        np.subtract(gap, slack, out=out[:, -2])
        np.subtract(-gap, slack, out=out[:, -1])
        return out

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        hi, t = self._limits_one(obs)
        out = [f - action[i] for f, i in self._floor_pairs] if self._floor_pairs else []
        if self.caps is not None:
            out += [x - h for x, h in zip(action, hi, strict=True)]
        gap = sum(action) - t
        slack = _ROUNDING * self.dim * (sum(map(abs, action)) + abs(t))
        out += (gap - slack, -gap - slack)
        return out

    def _accepts(self, actions: FloatArray, obs: FloatArray | None) -> bool:
        """A certificate first, else the violation.

        Every entry in ``[max(low, 0), min(high, caps(s))]`` and every sum within
        ``tol / 2`` of its total: then the violation is at most ``tol / 2``.
        """
        if actions.size:
            hi, t = self.limits(obs)  # cached for the state the projection just used
            inside = bool((actions >= self._floor).all() and (actions <= hi).all())
            if inside and bool((np.abs(actions.sum(axis=1) - t) <= 0.5 * self.tol).all()):
                return True
        return super()._accepts(actions, obs)

    def _params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"total": self.total.spec()}
        if self.caps is not None:
            out["caps"] = self.caps.spec()
        return out

    @property
    def has_closed_form(self) -> bool:
        """Always: one multiplier, by a sorted sweep."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Exact projection: ``clip(a - nu)``, by the sort method or the breakpoint sweep."""
        hi, t = self._limits_one(obs)
        values = np.asarray(action, dtype=np.float64).tolist()
        if self._uncapped(hi, t):
            return np.array(project_simplex(values, t, self._floor_list))
        return np.array(project_sum_box(values, t, self._floor_list, hi))

    def _uncapped(self, hi: list[float], t: float) -> bool:
        """Whether no upper bound can bind in this state (each leaves room for the total)."""
        if not self.obs_dim:
            return self._never_capped
        spare = t - self._floor_sum
        if self._uniform_floor:
            return min(hi) - self._floor_min >= spare
        return all(h - f >= spare for h, f in zip(hi, self._floor_list, strict=True))

    def project_closed_form_batch(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Exact projection of every row in one numpy pass.

        The plain sort method when no cap can bind, else the breakpoint sweep.
        """
        hi, t = self.limits(obs)
        spare = t - self._floor_sum  # what the entries above their floor share
        if self._never_capped if self.obs_dim == 0 else np.all(hi - self._floor >= spare[:, None]):
            return project_simplex_batch(actions, t, self._floor)
        return project_sum_box_batch(actions, t, self._floor, hi)

    def qp_form(self) -> QPForm:
        """Rows ``max(low, 0) <= a <= caps(s)`` and ``total(s) <= sum a <= total(s)``."""
        d = self.dim
        rows = np.concatenate([np.arange(d), np.full(d, d)])
        cols = np.concatenate([np.arange(d), np.arange(d)])
        entries = np.ones(2 * d)

        def values(obs: FloatArray | None) -> QPValues:
            hi, t = self.limits(obs)
            return entries, np.r_[self._floor, t[:1]], np.r_[hi[0], t[:1]]

        return QPForm(d, 0, d + 1, rows, cols, values, state_dependent=False)

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform on ``{a >= max(low, 0), sum a = total}``; the last entry closes the sum."""
        _, t = self.limits(obs)
        spacing = rng.exponential(size=(n, self.dim))
        share = spacing / spacing.sum(axis=1, keepdims=True)
        x = self._floor + (float(t[0]) - self._floor.sum()) * share
        x[:, -1] = float(t[0]) - x[:, :-1].sum(axis=1)
        return x

    def safe_action(self, obs: Any = None) -> FloatArray:
        """The projection of the lowest allocation ``max(low, 0)``: always feasible."""
        o = as_obs_batch(obs, self.obs_dim, 1)
        return self.project_closed_form(self._floor.copy(), None if o is None else o[0])


class SimplexConstraint(CappedSimplexConstraint):
    """The probability simplex ``a_i >= 0``, ``sum_i a_i = total(s)`` (and the box).

    A :class:`CappedSimplexConstraint` without caps; ``total`` defaults to 1 (a
    probability vector) and may be read from the state.

    Args:
        dim: action dimension.
        total: the sum (a number or a state spec).
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        EmptyFeasibleSetError: ``total`` outside ``[sum max(low, 0), sum high]``.

    Example:
        >>> c = SimplexConstraint(dim=3, low=0.0)
        >>> c.project_closed_form(np.array([0.5, 0.3, -0.4]), None).round(6).tolist()
        [0.6, 0.4, 0.0]
    """

    family = "simplex"

    def __init__(
        self,
        dim: int | None = None,
        total: Any = 1.0,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(caps=None, total=total, dim=dim, low=low, high=high, tol=tol)
