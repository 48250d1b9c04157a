"""The action box, optionally tightened by state-dependent bounds ``lower(s)``, ``upper(s)``."""

from __future__ import annotations

from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, as_obs_batch
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint
from acrl_wrappers.constraints.helpers import infer_dim
from acrl_wrappers.constraints.state import StateParameter, first_bad_row
from acrl_wrappers.projection.euclidean import project_box
from acrl_wrappers.projection.qp import QPForm, QPValues

__all__ = ["BoxConstraint"]

_FIX = "the bounds must leave a non-empty box: check the parameter's index, scale and offset"


class BoxConstraint(Constraint):
    """The action box ``low <= a <= high``, optionally tightened by bounds read from the state.

    ``lower`` and ``upper`` are the state-dependent bounds ``low(s)`` and ``high(s)``
    (for example ``{"index": "17:23", "offset": -0.2}`` for a rate limit around the
    previous action); the feasible set is ``max(low, lower(s)) <= a <= min(high,
    upper(s))`` and the projection is a clip onto it (closed form, batched too).
    Constant ``lower`` / ``upper`` simply tighten ``low`` / ``high``.

    Args:
        dim: action dimension (inferred from list-valued parameters).
        low: lower bounds of the action box, default -1.
        high: upper bounds of the action box, default 1.
        lower: state-dependent lower bound ``low(s)`` (a
            :class:`~acrl_wrappers.constraints.state.StateParameter` spec), or ``None``.
        upper: state-dependent upper bound ``high(s)``, or ``None``.
        tol: feasibility tolerance.

    Raises:
        StateParameterError: (on use) ``low(s) > high(s)`` in some state, or the state's
            bounds miss the action box; the message names the state.

    Example:
        >>> c = BoxConstraint(dim=2)
        >>> float(c.violation([1.5, -2.0])), c.project_closed_form([1.5, -2.0], None).tolist()
        (1.5, [1.0, -1.0])
        >>> rate = BoxConstraint(dim=1, lower={"index": 0, "offset": -0.2},
        ...                      upper={"index": 0, "offset": 0.2})
        >>> rate.project_closed_form(np.array([0.9]), np.array([0.5])).tolist()
        [0.7]
    """

    family = "box"

    def __init__(
        self,
        dim: int | None = None,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        lower: Any = None,
        upper: Any = None,
        tol: float = DEFAULT_TOL,
    ) -> None:
        dim = infer_dim(dim, low=low, high=high, lower=lower, upper=upper)
        lower_p = None if lower is None else StateParameter(lower, name="lower", size=dim)
        upper_p = None if upper is None else StateParameter(upper, name="upper", size=dim)
        if lower_p is not None and not lower_p.state_dependent:  # a constant tightens the box
            low, lower_p = np.maximum(np.broadcast_to(low, (dim,)), lower_p.offset), None
        if upper_p is not None and not upper_p.state_dependent:
            high, upper_p = np.minimum(np.broadcast_to(high, (dim,)), upper_p.offset), None
        super().__init__(dim=dim, low=low, high=high, tol=tol)
        self.lower, self.upper = lower_p, upper_p
        self._reads(lower_p, upper_p)
        self._shared_index = (
            lower_p is not None
            and upper_p is not None
            and lower_p.index == upper_p.index
            and lower_p._unit_scale
            and upper_p._unit_scale
        )
        self._bounds_cache: tuple[bytes, tuple[list[float], list[float]]] | None = None

    @property
    def state_dependent(self) -> bool:
        """Whether a bound is read from the observation."""
        return self.lower is not None or self.upper is not None

    # ------------------------------------------------------------------ the state's box
    def bounds(self, obs: FloatArray | None) -> tuple[FloatArray, FloatArray]:
        """The effective box ``(lo, hi)`` for ``(N, k)`` observations, each ``(N or 1, dim)``.

        Raises:
            StateParameterError: where ``lo > hi`` (names the first such state).
        """
        lo = self.low if self.lower is None else np.maximum(self.low, self.lower.batch(obs))
        hi = self.high if self.upper is None else np.minimum(self.high, self.upper.batch(obs))
        if self.state_dependent:
            bad = lo > hi
            if bad.any():
                self._raise_empty(obs, first_bad_row(np.atleast_2d(bad)))
        return np.atleast_2d(lo), np.atleast_2d(hi)

    def bounds_one(self, obs: FloatArray | None) -> tuple[list[float], list[float]]:
        """The effective box for one ``(k,)`` observation as lists (the fast path)."""
        lo, hi = self._low_list, self._high_list
        # written so that a NaN bound propagates (max() would drop it) and is reported
        if self.lower is not None:
            lo = [a if a >= b else b for a, b in zip(lo, self.lower.row(obs), strict=True)]
        if self.upper is not None:
            hi = [a if a <= b else b for a, b in zip(hi, self.upper.row(obs), strict=True)]
        if self.state_dependent and any(a > b for a, b in zip(lo, hi, strict=True)):
            self._raise_empty(None if obs is None else obs.reshape(1, -1), 0)
        return lo, hi

    def _raise_empty(self, obs: FloatArray | None, row: int) -> None:
        one = None if obs is None else obs[min(row, obs.shape[0] - 1)]
        culprit = self.lower if self.lower is not None else self.upper
        assert culprit is not None
        lo = self.low if self.lower is None else np.maximum(self.low, self.lower.row(one))
        hi = self.high if self.upper is None else np.minimum(self.high, self.upper.row(one))
        where = np.flatnonzero(np.asarray(lo) > np.asarray(hi)).tolist()
        raise culprit.fail(
            f"gives low(s) > high(s) at action index {where} (low(s) = "
            f"{np.round(lo, 6).tolist()}, high(s) = {np.round(hi, 6).tolist()}, action box "
            f"[{self.low.tolist()}, {self.high.tolist()}])",
            one,
            _FIX,
        )

    # ------------------------------------------------------------------ family interface
    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """``lower(s) - a`` and ``a - upper(s)`` for the state-dependent sides (none otherwise)."""
        if not self.state_dependent:
            return np.zeros((actions.shape[0], 0))
        lo, hi = self.bounds(obs)
        parts = []
        if self.lower is not None:
            parts.append(lo - actions)
        if self.upper is not None:
            parts.append(actions - hi)
        return np.hstack(parts)

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        if not self.state_dependent:
            return []
        if self.lower is None or self.upper is None:
            lo, hi = self.bounds_one(obs)
            if self.lower is not None:
                return [b - x for x, b in zip(action, lo, strict=True)]
            return [x - b for x, b in zip(action, hi, strict=True)]
        lo, hi = self._both_one(obs)
        return [a - x for x, a in zip(action, lo, strict=True)] + [
            x - b for x, b in zip(action, hi, strict=True)
        ]

    def _both_one(self, obs: FloatArray | None) -> tuple[list[float], list[float]]:
        """The state's bounds when both sides move (a rate limit): one pass, checked.

        The last state's bounds are kept: a projection checks, projects and checks again
        in the same state (a tuple replaced whole, so key and value always match).
        """
        assert self.lower is not None and self.upper is not None
        key = obs.tobytes()  # type: ignore[union-attr]
        cached = self._bounds_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        if self._shared_index:  # lower = p + lo_offset, upper = p + hi_offset: read p once
            p = obs[self.lower._selector].tolist()  # type: ignore[index]
            lows = [v + o for v, o in zip(p, self.lower._list, strict=True)]
            highs = [v + o for v, o in zip(p, self.upper._list, strict=True)]
        else:
            lows, highs = self.lower.row(obs), self.upper.row(obs)
        lo, hi = [], []
        for a, b, box_lo, box_hi in zip(lows, highs, self._low_list, self._high_list, strict=True):
            a = box_lo if a <= box_lo else a  # max(), but a NaN bound stays NaN (reported later)
            b = box_hi if b >= box_hi else b
            if a > b:
                self._raise_empty(None if obs is None else obs.reshape(1, -1), 0)
            lo.append(a)
            hi.append(b)
        self._bounds_cache = (key, (lo, hi))
        return lo, hi

    def _accepts_values(self, values: list[float], obs: FloatArray | None) -> bool:
        """Inside the state's box (violation exactly 0), else the violation decides."""
        if self.lower is not None and self.upper is not None:
            lo, hi = self._both_one(obs)
            if all(a <= v <= b for v, a, b in zip(values, lo, hi, strict=True)):
                return True
        return super()._accepts_values(values, obs)

    def _params(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.lower is not None:
            out["lower"] = self.lower.spec()
        if self.upper is not None:
            out["upper"] = self.upper.spec()
        return out

    @property
    def has_closed_form(self) -> bool:
        """Always: the projection is a clip."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Clip to the (state's) box."""
        if not self.state_dependent:
            return project_box(action, self.low, self.high)
        both = self.lower is not None and self.upper is not None
        lo, hi = self._both_one(obs) if both else self.bounds_one(obs)
        return np.array(
            [min(max(x, a), b) for x, a, b in zip(np.asarray(action).tolist(), lo, hi, strict=True)]
        )

    def project_closed_form_batch(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Clip every row to its state's box."""
        lo, hi = self.bounds(obs)
        return np.minimum(np.maximum(actions, lo), hi)

    def qp_form(self) -> QPForm:
        """The state's bounds as identity rows (none when the box is constant)."""
        if not self.state_dependent:
            return QPForm.constant(np.zeros((0, self.dim)), np.zeros(0), np.zeros(0))
        d = self.dim
        ones = np.ones(d)

        def values(obs: FloatArray | None) -> QPValues:
            lo, hi = self.bounds(obs)
            return ones, lo[0], hi[0]

        return QPForm(d, 0, d, np.arange(d), np.arange(d), values, state_dependent=False)

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform in the state's box (every candidate is feasible)."""
        lo, hi = self.bounds(obs)
        return rng.uniform(lo[0], hi[0], size=(n, self.dim))

    def safe_action(self, obs: Any = None) -> FloatArray:
        """The point of the state's box nearest zero.

        Example:
            >>> BoxConstraint(dim=2, low=0.5).safe_action().tolist()
            [0.5, 0.5]
        """
        lo, hi = self.bounds(as_obs_batch(obs, self.obs_dim, 1))
        return np.clip(np.zeros(self.dim), lo[0], hi[0])
