"""Intersections of constraints: every member must hold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint, constraint_from_spec
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.projection.qp import QPForm

__all__ = ["IntersectionConstraint"]


class IntersectionConstraint(Constraint):
    """The intersection of several constraints on the same action.

    The box is the intersection of the members' boxes; the rows are all the members'
    rows, so the violation counts the box once and every member's rows. When every
    member has a QP form the projection is one QP; otherwise the general projector
    handles it. Reference: Kasaura et al., arXiv:2304.08743 (``combined_constraint.py``,
    the benchmark's ``O+S`` tasks).

    Args:
        members: constraints, specs or registered names (at least one).
        tol: feasibility tolerance (default: the smallest member tolerance).

    Raises:
        ConstraintError: no members, or members of different action dimensions.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = IntersectionConstraint([
        ...     {"name": "ball", "bound": 0.5, "dim": 2},
        ...     {"name": "linear", "A": [[1.0, 0.0]], "b": [0.1]},
        ... ])
        >>> c.violation(np.array([[0.6, 0.0], [0.0, 0.5]])).round(3).tolist()
        [0.5, 0.0]
    """

    family = "intersection"

    def __init__(
        self,
        members: Sequence[Constraint | Mapping[str, Any] | str],
        *,
        tol: float | None = None,
    ) -> None:
        if isinstance(members, str | Mapping) or not members:
            raise ConstraintError("`members` must be a non-empty list of constraints or specs")
        self.members = [constraint_from_spec(m) for m in members]
        dims = {m.dim for m in self.members}
        if len(dims) != 1:
            raise ConstraintError(f"members act on different action sizes: {sorted(dims)}")
        low = np.max([m.low for m in self.members], axis=0)
        high = np.min([m.high for m in self.members], axis=0)
        if tol is None:
            tol = min(m.tol for m in self.members) if self.members else DEFAULT_TOL
        super().__init__(dim=dims.pop(), low=low, high=high, tol=tol)
        self.obs_dim = max(m.obs_dim for m in self.members)
        self._obs_indices = sorted({i for m in self.members for i in m.obs_indices})
        self.convex = all(m.convex for m in self.members)
        self._closed_form_member = self._only_member_with_rows()
        self._proposer: tuple[bytes | None, Constraint] | None = None  # (state, member)

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """All members' rows side by side."""
        return np.hstack([m.rows(actions, obs) for m in self.members])

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        return [r for m in self.members for r in m._rows_one(action, obs)]

    def _params(self) -> dict[str, Any]:
        return {"members": [m.spec for m in self.members]}

    @property
    def spec(self) -> dict[str, Any]:
        """``{"name": "intersection", "members": [...]}`` (box and dim come from the members)."""
        out: dict[str, Any] = {"name": self.family, "members": [m.spec for m in self.members]}
        if self.tol != min(m.tol for m in self.members):
            out["tol"] = self.tol
        return out

    @property
    def has_closed_form(self) -> bool:
        """When only one member has rows and it has a closed form over the common box."""
        only = self._closed_form_member
        return only is not None and only.has_closed_form

    def _only_member_with_rows(self) -> Constraint | None:
        """The one member with rows if the others are boxes no tighter than it, else None."""
        probe = np.zeros((1, self.dim))
        obs = np.zeros((1, self.obs_dim)) if self.obs_dim else None
        with_rows = [m for m in self.members if m.rows(probe, obs).shape[1]]
        if len(with_rows) != 1:
            return None
        only = with_rows[0]
        same_box = np.array_equal(only.low, self.low) and np.array_equal(only.high, self.high)
        return only if same_box else None

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray | None:
        """The single constrained member's closed form, when it applies."""
        only = self._closed_form_member
        return None if only is None else only.project_closed_form(action, obs)

    def qp_form(self) -> QPForm | None:
        """All members' QP forms stacked, or ``None`` if a member has none."""
        forms = [m.qp_form() for m in self.members]
        with_rows = [f for f in forms if f is not None and f.n_rows]
        if any(f is None for f in forms):
            return None
        if not with_rows:
            return QPForm.constant(np.zeros((0, self.dim)), np.zeros(0), np.zeros(0))
        return QPForm.stack(with_rows)

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """The proposal of the member with the highest acceptance on this state.

        The member is chosen once per state (``sample`` asks for several batches).
        """
        key = None if obs is None else obs.tobytes()
        if self._proposer is None or self._proposer[0] != key:
            rates = [
                float(np.mean(self._violation(m._propose(obs, 256, rng), obs) == 0.0))
                for m in self.members
            ]
            self._proposer = (key, self.members[int(np.argmax(rates))])
        return self._proposer[1]._propose(obs, n, rng)
