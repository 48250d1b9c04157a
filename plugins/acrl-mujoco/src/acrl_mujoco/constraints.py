"""The benchmark's action constraints on Gymnasium MuJoCo v5 envs (actions in [-1, 1]^n).

Sources: ARAM's constraint table (arXiv:2503.12932: Reacher, HalfCheetah, Hopper, Ant) and
Kasaura et al.'s problem table (arXiv:2304.08743), re-indexed for the v5 observations.

**Index mapping (v5 observation -> simulator state)**, checked against ``data.qpos`` and
``data.qvel`` in ``tests/mujoco_tests/test_index_mapping.py``:

- Reacher-v5 (10 entries): ``cos q = obs[0:2]``, ``sin q = obs[2:4]``, joint velocities
  ``w = obs[6:8] = qvel[0:2]``; the elbow enters as ``cos q1 = obs[1]`` (PyBullet's
  Reacher had the velocities at obs[6] and obs[8] and the angle at obs[7]).
- HalfCheetah-v5 (17): joint angles ``obs[2:8] = qpos[3:9]``, velocities
  ``obs[11:17] = qvel[3:9]`` (the v3 layout).
- Hopper-v5 (11): angles ``obs[2:5] = qpos[3:6]``, velocities
  ``obs[8:11] = clip(qvel[3:6], -10, 10)`` (clipped by the env).
- Walker2d-v5 (17): angles ``obs[2:8] = qpos[3:9]``, velocities
  ``obs[11:17] = clip(qvel[3:9], -10, 10)``.
- Ant-v5 (105): the Ant constraint reads no state.

As in the published code, the constraints read the *observation* (hence the clipped
velocities for Hopper and Walker2d), so an agent can always evaluate them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np

from acrl_wrappers import (
    BallConstraint,
    Constraint,
    ConstraintError,
    IntersectionConstraint,
    PositivePowerConstraint,
    PowerConstraint,
    QuadraticConstraint,
    SlewRateConstraint,
    StateWeights,
)
from acrl_wrappers.constraints.base import DEFAULT_TOL
from acrl_wrappers.constraints.helpers import FloatArray, float_scalar, index_list, infer_dim
from acrl_wrappers.projection.euclidean import project_slab_box
from acrl_wrappers.projection.qp import QPForm, QPValues

__all__ = [
    "NAMED_CONSTRAINTS",
    "AngleMomentConstraint",
    "SineWeightedBall",
    "TipSpeedConstraint",
]


class TipSpeedConstraint(QuadraticConstraint):
    """Reacher's tip-speed bound ``a1^2 + 2 a1 (a1 + a2) cos(q1) + (a1 + a2)^2 <= bound``.

    A quadratic form ``a^T Q(s) a`` with ``Q = [[2 + 2c, 1 + c], [1 + c, 1]]`` and
    ``c = cos(q1) = obs[cos_index]`` (the elbow angle; positive semidefinite for every
    ``c``). Reference: Kasaura et al., arXiv:2304.08743 (``tip_constraint.py``, where the
    elbow angle is PyBullet's ``obs[7]``; here ``cos q1`` is read directly from Reacher-v5's
    ``obs[1]``).

    Args:
        bound: right-hand side (0.05 in the benchmark).
        cos_index: observation index of the elbow angle's cosine.
        low, high: action box.
        tol: feasibility tolerance.

    Example:
        >>> c = TipSpeedConstraint(bound=0.05)
        >>> obs = np.zeros(10); obs[1] = 1.0  # elbow straight: Q = [[4, 2], [2, 1]]
        >>> round(c.violation([0.1, 0.0], obs), 6), bool(c.contains([0.1, -0.2], obs))
        (0.0, True)
    """

    family = "tip-speed"

    def __init__(
        self,
        bound: float = 0.05,
        cos_index: int = 1,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(Q=np.eye(2), bound=bound, low=low, high=high, tol=tol)
        self.cos_index = index_list([cos_index], "cos_index")[0]
        self.obs_dim = self.cos_index + 1
        self._obs_indices = [self.cos_index]

    def matrix(self, obs: FloatArray | None) -> FloatArray:
        """``Q(s)`` for each of the ``(N, k)`` observations, shape ``(N, 2, 2)``."""
        if obs is None:
            raise ConstraintError(
                "the tip-speed constraint needs the observation (cos of the elbow)"
            )
        c = obs[:, self.cos_index]
        q = np.empty((obs.shape[0], 2, 2))
        q[:, 0, 0] = 2.0 + 2.0 * c
        q[:, 0, 1] = q[:, 1, 0] = 1.0 + c
        q[:, 1, 1] = 1.0
        return q

    def _params(self) -> dict[str, Any]:
        return {"bound": self.bound, "cos_index": self.cos_index}

    @property
    def spec(self) -> dict[str, Any]:
        """``{"name": "tip-speed", "bound", "cos_index", "low", "high"}`` (dim is always 2)."""
        out = super().spec
        out.pop("dim", None)
        return out


class AngleMomentConstraint(Constraint):
    """HalfCheetah's ``HC+MA``: ``sum_k w_k a_k sin(sum of angle group k) <= bound``.

    One linear row with state-dependent coefficients: for the benchmark,
    ``w1 a1 sin(t1 + t2 + t3) + w4 a4 sin(t4 + t5 + t6) <= 5`` with the back and front
    thigh actions ``a1, a4``, their joint velocities ``w1 = obs[11]``, ``w4 = obs[14]``
    and the joint angles ``t1..t6 = obs[2:8]``. Reference: Kasaura et al., arXiv:2304.08743
    (``MA_constraint.py``). Projection: exact (a half-space and the box).

    Args:
        bound: right-hand side, ``>= 0`` (so the zero action is always feasible).
        actions: action indices in the row.
        velocity_index: observation index of each action's joint velocity.
        angle_groups: for each action, the observation indices whose angles are summed.
        dim: action dimension.
        low, high: action box.
        tol: feasibility tolerance.

    Example:
        >>> c = AngleMomentConstraint()
        >>> obs = np.zeros(17); obs[2:5] = 0.5; obs[11] = 10.0
        >>> round(c.violation(np.array([1.0, 0, 0, 0, 0, 0]), obs), 4)
        4.9749
    """

    family = "angle-moment"

    def __init__(
        self,
        bound: float = 5.0,
        actions: Sequence[int] = (0, 3),
        velocity_index: Sequence[int] = (11, 14),
        angle_groups: Sequence[Sequence[int]] = ((2, 3, 4), (5, 6, 7)),
        dim: int | None = 6,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(dim=infer_dim(dim, low=low, high=high), low=low, high=high, tol=tol)
        self.bound = float_scalar(bound, "bound", minimum=0.0)
        self.actions = index_list(list(actions), "actions")
        self.velocity_index = index_list(list(velocity_index), "velocity_index")
        self.angle_groups = [index_list(list(g), "angle_groups") for g in angle_groups]
        if not len(self.actions) == len(self.velocity_index) == len(self.angle_groups):
            raise ConstraintError(
                "`actions`, `velocity_index` and `angle_groups` need one entry per term"
            )
        if max(self.actions) >= self.dim:
            raise ConstraintError(f"`actions` {self.actions} must be below dim={self.dim}")
        if self.low.max() > 0.0 or self.high.min() < 0.0:
            raise ConstraintError("the box must contain 0 (the always-feasible action)")
        read = {*self.velocity_index, *(i for g in self.angle_groups for i in g)}
        self.obs_dim = max(read) + 1
        self._obs_indices = sorted(read)

    def coefficients(self, obs: FloatArray) -> FloatArray:
        """Row coefficients ``(N, dim)`` for ``(N, k)`` observations."""
        coef = np.zeros((obs.shape[0], self.dim))
        for a, v, group in zip(self.actions, self.velocity_index, self.angle_groups, strict=True):
            coef[:, a] = obs[:, v] * np.sin(obs[:, group].sum(axis=1))
        return coef

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """One row: ``coefficients . a - bound``."""
        assert obs is not None
        return (self.coefficients(obs) * actions).sum(axis=1, keepdims=True) - self.bound

    def _params(self) -> dict[str, Any]:
        return {
            "bound": self.bound,
            "actions": list(self.actions),
            "velocity_index": list(self.velocity_index),
            "angle_groups": [list(g) for g in self.angle_groups],
        }

    @property
    def has_closed_form(self) -> bool:
        """Always: one half-space intersected with the box."""
        return True

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray:
        """Exact projection onto the half-space and the box."""
        assert obs is not None
        coef = self.coefficients(obs.reshape(1, -1))[0]
        return project_slab_box(action, coef, -np.inf, self.bound, self._low_list, self._high_list)

    def qp_form(self) -> QPForm:
        """One row over the action entries in the sum."""
        cols = np.asarray(self.actions)

        def values(obs: FloatArray | None) -> QPValues:
            assert obs is not None
            coef = self.coefficients(obs)[0, cols]
            return coef, np.array([-np.inf]), np.array([self.bound])

        return QPForm(
            dim=self.dim,
            n_aux=0,
            n_rows=1,
            rows=np.zeros(len(cols), dtype=int),
            cols=cols,
            values=values,
            state_dependent=True,
        )


class _SineWeights(StateWeights):
    """Weights ``sin(obs[index])``."""

    def __call__(self, obs: FloatArray | None) -> FloatArray:
        return np.sin(super().__call__(obs))

    def row(self, obs: FloatArray | None) -> list[float]:
        return np.sin(super().row(obs)).tolist()


class SineWeightedBall(BallConstraint):
    """``sum_i sin(t_i)^2 a_i^2 <= bound`` with joint angles ``t = obs[angle_index]``.

    The "S" part of the benchmark's ``O+S`` problems (Kasaura et al., arXiv:2304.08743,
    ``sin2_constraint.py``): a ball weighted by ``|sin t_i|``, so an actuator whose joint
    sits at angle 0 is unconstrained. Exact closed-form projection (as for every ball).

    Args:
        bound: right-hand side (0.1 in the benchmark).
        angle_index: observation indices of the joint angles, one per action.
        low, high: action box.
        tol: feasibility tolerance.

    Example:
        >>> c = SineWeightedBall(bound=0.1, angle_index="2:5")
        >>> obs = np.zeros(11); obs[2:5] = np.pi / 2
        >>> round(c.violation([0.3, 0.0, 0.2], obs), 6)
        0.03
    """

    family = "sine-ball"

    def __init__(
        self,
        bound: float,
        angle_index: Any,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(bound, weight_index=angle_index, low=low, high=high, tol=tol)
        self.weights = _SineWeights(self.dim, None, angle_index)

    def _params(self) -> dict[str, Any]:
        return {"bound": self.bound, "angle_index": list(self.weights.index or [])}

    @property
    def spec(self) -> dict[str, Any]:
        """``{"name": "sine-ball", "bound", "angle_index", "low", "high"}``."""
        out = super().spec
        out.pop("dim", None)
        return out


def _power_and_sine(power_index: str, angle_index: str) -> Callable[[], IntersectionConstraint]:
    """Kasaura's ``O+S``: ``sum |w a| <= 10`` and ``sum sin(t)^2 a^2 <= 0.1``."""
    return partial(
        IntersectionConstraint,
        members=[
            {"name": "power", "bound": 10.0, "weight_index": power_index},
            {"name": "sine-ball", "bound": 0.1, "angle_index": angle_index},
        ],
    )


_ARAM = "(ARAM, arXiv:2503.12932)"
_KASAURA = "(Kasaura et al., arXiv:2304.08743)"

NAMED_CONSTRAINTS: dict[str, tuple[Callable[..., Constraint], tuple[str, ...], str]] = {
    # ARAM's table
    "reacher-l2": (
        partial(BallConstraint, bound=0.05, dim=2),
        ("Re+L2_005", "R+L2"),
        f"Reacher: a1^2 + a2^2 <= 0.05 {_ARAM}",
    ),
    "halfcheetah-o20": (
        partial(PowerConstraint, bound=20.0, weight_index="11:17"),
        ("HC+O_20", "HC+O"),
        f"HalfCheetah: sum |w_i a_i| <= 20, w = obs[11:17] {_ARAM}",
    ),
    "hopper-m10": (
        partial(PositivePowerConstraint, bound=10.0, weight_index="8:11"),
        ("H+M_10", "H+M"),
        f"Hopper: sum max(w_i a_i, 0) <= 10, w = obs[8:11] {_ARAM}",
    ),
    "walker2d-m10": (
        partial(PositivePowerConstraint, bound=10.0, weight_index="11:17"),
        ("W+M_10", "W+M"),
        f"Walker2d: sum max(w_i a_i, 0) <= 10, w = obs[11:17] {_KASAURA}",
    ),
    "ant-l2": (
        partial(BallConstraint, bound=2.0, dim=8),
        ("An+L2_2",),
        f"Ant: sum a_i^2 <= 2 {_ARAM}",
    ),
    # the rest of Kasaura et al.'s set, re-indexed for v5
    "reacher-o03": (
        partial(PowerConstraint, bound=0.3, weight_index="6:8"),
        ("R+O03",),
        f"Reacher: |w1 a1| + |w2 a2| <= 0.3, w = obs[6:8] {_KASAURA}",
    ),
    "reacher-o10": (
        partial(PowerConstraint, bound=1.0, weight_index="6:8"),
        ("R+O10",),
        f"Reacher: |w1 a1| + |w2 a2| <= 1.0, w = obs[6:8] {_KASAURA}",
    ),
    "reacher-o30": (
        partial(PowerConstraint, bound=3.0, weight_index="6:8"),
        ("R+O30",),
        f"Reacher: |w1 a1| + |w2 a2| <= 3.0, w = obs[6:8] {_KASAURA}",
    ),
    "reacher-m": (
        partial(PositivePowerConstraint, bound=1.0, weight_index="6:8"),
        ("R+M",),
        f"Reacher: max(w1 a1, 0) + max(w2 a2, 0) <= 1.0, w = obs[6:8] {_KASAURA}",
    ),
    "reacher-t": (
        partial(TipSpeedConstraint, bound=0.05, cos_index=1),
        ("R+T",),
        f"Reacher: a1^2 + 2 a1 (a1 + a2) cos q1 + (a1 + a2)^2 <= 0.05, cos q1 = obs[1] {_KASAURA}",
    ),
    "halfcheetah-ma": (
        partial(AngleMomentConstraint),
        ("HC+MA",),
        f"HalfCheetah: w1 a1 sin(t1+t2+t3) + w4 a4 sin(t4+t5+t6) <= 5 {_KASAURA}",
    ),
    "hopper-os": (
        _power_and_sine("8:11", "2:5"),
        ("H+O+S",),
        f"Hopper: sum |w a| <= 10 and sum sin(t)^2 a^2 <= 0.1, t = obs[2:5] {_KASAURA}",
    ),
    "walker2d-os": (
        _power_and_sine("11:17", "2:8"),
        ("W+O+S",),
        f"Walker2d: sum |w a| <= 10 and sum sin(t)^2 a^2 <= 0.1, t = obs[2:8] {_KASAURA}",
    ),
    # acrl's own: an actuator rate limit, the previous action observed (PreviousAction)
    "halfcheetah-slew02": (
        partial(SlewRateConstraint, delta=0.2, prev_index="17:23"),
        ("HC+Slew_0.2",),
        "HalfCheetah: |a_t - a_{t-1}| <= 0.2 per component, a_{t-1} = obs[17:23]",
    ),
}
"""Named constraint -> (factory, aliases with the papers' tags, one-line description)."""
