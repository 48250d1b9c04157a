"""Actuator slew-rate limits: ``|a_t - a_{t-1}| <= delta`` per component, or in L2.

The previous executed action is part of the observation (put there by
:class:`~acrl_wrappers.PreviousAction`), so the limit is an ordinary state-dependent
constraint and the task stays Markov: the agent sees what the constraint sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, as_single_obs, float_vector, index_list
from acrl_wrappers.constraints.ball import BallConstraint
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint
from acrl_wrappers.constraints.box import BoxConstraint
from acrl_wrappers.constraints.helpers import infer_dim
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.projection.qp import QPForm

__all__ = ["SlewRateConstraint"]

NORMS = ("inf", "l2")


class SlewRateConstraint(Constraint):
    """A rate limit around the previous action ``p = obs[prev_index]``.

    - ``norm="inf"`` (per component): ``|a_i - p_i| <= delta_i``, a box
      ``[p - delta, p + delta]`` intersected with the action box (a
      :class:`~acrl_wrappers.BoxConstraint` with state-dependent bounds: projection is a
      clip, batched too, and a QP form, so ``slew-rate`` ∩ ``power`` is one QP);
    - ``norm="l2"``: ``||a - p|| <= delta``, a ball centred on ``p``
      (:class:`~acrl_wrappers.BallConstraint` with a state-dependent centre: exact
      projection onto ball ∩ box).

    Compose it with any other family by intersection, e.g.
    ``{"name": "intersection", "members": [slew, {"name": "power", ...}]}``.

    Args:
        delta: the largest change per step, ``>= 0`` (one number, or one per component
            for ``norm="inf"``).
        prev_index: observation indices of the previous action (``"17:23"``), one per
            action dimension; :attr:`acrl_wrappers.PreviousAction.action_index` says where
            that wrapper put it.
        dim: action dimension (inferred from ``prev_index``).
        norm: ``"inf"`` (per component) or ``"l2"``.
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: a negative ``delta``, an unknown ``norm``, or lengths that disagree.
        StateParameterError: (on use) a previous action farther than ``delta`` from the
            action box, which leaves no feasible action; the message names the state.

    Example:
        >>> c = SlewRateConstraint(delta=0.2, prev_index="2:4")
        >>> obs = np.array([0.0, 0.0, 0.5, -1.0])  # previous action (0.5, -1.0)
        >>> float(c.violation([0.9, -1.0], obs)), c.project_closed_form([0.9, 0.0], obs).tolist()
        (0.2, [0.7, -0.8])
    """

    family = "slew-rate"

    def __init__(
        self,
        delta: Any,
        prev_index: Any,
        dim: int | None = None,
        *,
        norm: str = "inf",
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        if norm not in NORMS:
            raise ConstraintError(f"`norm` must be one of {NORMS}, got {norm!r}")
        index = index_list(prev_index, "prev_index")
        dim = infer_dim(dim, prev_index=index, low=low, high=high)
        super().__init__(dim=dim, low=low, high=high, tol=tol)
        if norm == "l2" and np.ndim(delta) != 0:
            raise ConstraintError(f"`delta` of an L2 slew limit is one number, got {delta!r}")
        self.delta = float_vector(delta, dim, "delta")
        if np.any(self.delta < 0.0):
            raise ConstraintError(f"`delta` must be >= 0, got {self.delta.tolist()}")
        self.norm = norm
        self.prev_index = index
        self.inner = self._build_inner(low, high)
        self._reads(*_sources(self.inner))

    def _build_inner(self, low: Any, high: Any) -> Constraint:
        box = {"low": low, "high": high, "tol": self.tol}
        if self.norm == "l2":
            center = {"index": self.prev_index}
            return BallConstraint(radius=float(self.delta[0]), center=center, **box)
        offset = self.delta.tolist()
        return BoxConstraint(
            lower={"index": self.prev_index, "offset": [-d for d in offset]},
            upper={"index": self.prev_index, "offset": offset},
            **box,
        )

    # ------------------------------------------------------------------ delegated structure
    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """The inner box's or ball's rows."""
        return self.inner.rows(actions, obs)

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> Sequence[float]:
        return self.inner._rows_one(action, obs)

    def _accepts_values(self, values: list[float], obs: FloatArray | None) -> bool:
        return self.inner._accepts_values(values, obs)

    def _params(self) -> dict[str, Any]:
        delta = float(self.delta[0]) if np.all(self.delta == self.delta[0]) else self.delta.tolist()
        out: dict[str, Any] = {"delta": delta, "prev_index": list(self.prev_index)}
        if self.norm != "inf":
            out["norm"] = self.norm
        return out

    @property
    def has_closed_form(self) -> bool:
        """Always: a clip (``inf``) or the exact ball ∩ box projection (``l2``)."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray | None:
        """The inner family's exact projection."""
        return self.inner.project_closed_form(action, obs)

    def project_closed_form_batch(self, actions: FloatArray, obs: FloatArray | None) -> Any:
        """The inner family's batched projection."""
        return self.inner.project_closed_form_batch(actions, obs)

    def qp_form(self) -> QPForm | None:
        """The box rows for ``norm="inf"``; none for the ball."""
        return self.inner.qp_form()

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        return self.inner._propose(obs, n, rng)

    def safe_action(self, obs: Any = None) -> FloatArray:
        """Keep the previous action (clipped to the box): always feasible.

        Example:
            >>> SlewRateConstraint(0.1, "0:2").safe_action([0.3, -2.0]).tolist()
            [0.3, -1.0]
        """
        prev = np.asarray(as_single_obs(obs, self.obs_dim))[self.prev_index]
        return np.clip(prev, self.low, self.high)


def _sources(inner: Constraint) -> list[Any]:
    """The state parameters of the inner box or ball."""
    if isinstance(inner, BoxConstraint):
        return [inner.lower, inner.upper]
    assert isinstance(inner, BallConstraint)
    return [inner.center_param]
