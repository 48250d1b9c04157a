"""Quadratic constraints ``a^T Q a <= bound``."""

from __future__ import annotations

from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, float_scalar
from acrl_wrappers.constraints.base import (
    DEFAULT_TOL,
    Constraint,
    infer_dim,
    log_unit_ball_volume,
    uniform_in_ball,
)
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.projection.euclidean import project_ellipsoid

__all__ = ["QuadraticConstraint"]


class QuadraticConstraint(Constraint):
    """A quadratic form ``a^T Q a <= bound`` (an ellipsoid when ``Q`` is positive semidefinite).

    For a PSD ``Q`` the projection onto the ellipsoid is exact; when that point leaves the
    box, the general projector takes over. An indefinite ``Q`` gives a non-convex set
    (:attr:`convex` is then ``False`` on the instance). State-dependent matrices (the
    benchmark's tip-speed constraint) subclass this and override :meth:`matrix`.
    Reference: Kasaura et al., arXiv:2304.08743 (``quadratic_constraint.py`` in their code, whose
    radial-scaling "projection" is not Euclidean; this one is).

    Args:
        Q: symmetric ``(dim, dim)`` matrix.
        bound: right-hand side.
        dim: action dimension (inferred from ``Q``).
        low, high: action box.
        tol: feasibility tolerance.

    Raises:
        ConstraintError: non-square, non-symmetric or non-finite ``Q``; negative bound
            with a PSD ``Q`` (empty set).

    Example:
        >>> c = QuadraticConstraint(Q=[[2.0, 0.5], [0.5, 1.0]], bound=0.1)
        >>> bool(c.contains([0.1, 0.1])), round(float(c.violation([0.5, 0.0])), 6)
        (True, 0.4)
    """

    family = "quadratic"

    def __init__(
        self,
        Q: Any,
        bound: float,
        dim: int | None = None,
        *,
        low: Any = -1.0,
        high: Any = 1.0,
        tol: float = DEFAULT_TOL,
    ) -> None:
        super().__init__(dim=infer_dim(dim, Q=Q, low=low, high=high), low=low, high=high, tol=tol)
        self.Q = np.asarray(Q, dtype=np.float64)
        if self.Q.shape != (self.dim, self.dim) or not np.isfinite(self.Q).all():
            raise ConstraintError(
                f"`Q` must be a finite ({self.dim}, {self.dim}) matrix, got shape {self.Q.shape}"
            )
        if not np.allclose(self.Q, self.Q.T):
            raise ConstraintError("`Q` must be symmetric; pass (Q + Q.T) / 2")
        self.bound = float_scalar(bound, "bound")
        self.psd = bool(np.linalg.eigvalsh(self.Q).min() >= -1e-12)
        self.convex = self.psd and self.bound >= 0.0
        if self.psd and self.bound < 0.0:
            raise ConstraintError(
                f"`bound` is {self.bound} but a^T Q a >= 0 for a PSD Q: the set is empty"
            )

    def matrix(self, obs: FloatArray | None) -> FloatArray:
        """``Q`` for ``(N, k)`` observations: ``(d, d)`` if constant, else ``(N, d, d)``.

        Constant here; state-dependent subclasses override it.
        """
        return self.Q

    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """One row: ``a^T Q a - bound``."""
        q = self.matrix(obs)
        if q.ndim == 3 and q.shape[0] == 1:  # one observation for a batch of actions
            q = q[0]
        pattern = "ij,jk,ik->i" if q.ndim == 2 else "ij,ijk,ik->i"
        return np.einsum(pattern, actions, q, actions)[:, None] - self.bound

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Uniform in the ellipsoid (positive definite ``Q``) when it is smaller than the box."""
        q = self.matrix(None if obs is None else obs.reshape(1, -1))
        q = q if q.ndim == 2 else q[0]
        eigval, eigvec = np.linalg.eigh(q)
        if eigval.min() <= 1e-12 or self.bound <= 0.0:
            return super()._propose(obs, n, rng)
        radii = np.sqrt(self.bound / eigval)
        if log_unit_ball_volume(self.dim) + float(np.log(radii).sum()) >= self._log_box_volume:
            return super()._propose(obs, n, rng)
        return (uniform_in_ball(rng, n, self.dim) * radii) @ eigvec.T

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> list[float]:
        q = self.matrix(None if obs is None else obs.reshape(1, -1))
        x = np.array(action)
        return [float(x @ (q if q.ndim == 2 else q[0]) @ x) - self.bound]

    def _params(self) -> dict[str, Any]:
        return {"Q": self.Q.tolist(), "bound": self.bound}

    def project_closed_form(self, action: Any, obs: FloatArray | None) -> FloatArray | None:
        """The ellipsoid projection when it lies in the box (then it is exact), else ``None``."""
        if not self.psd:
            return None
        q = self.matrix(None if obs is None else obs.reshape(1, -1))
        x = project_ellipsoid(
            np.asarray(action, dtype=np.float64), q if q.ndim == 2 else q[0], self.bound
        )
        if np.all(x >= self.low) and np.all(x <= self.high):
            return x
        return None
