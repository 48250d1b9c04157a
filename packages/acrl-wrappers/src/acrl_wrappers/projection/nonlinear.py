"""The general projector for any constraint: local optimisation from several starts."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import ProjectionError, SamplingError
from acrl_wrappers.projection.base import Projector

if TYPE_CHECKING:
    from acrl_wrappers.constraints.base import Constraint

__all__ = ["NonlinearProjector"]

_SAMPLES = 64
_SAMPLE_STARTS = 3


class NonlinearProjector(Projector):
    """Projects onto any constraint with SLSQP on its rows, started from several points.

    Used for families with neither a closed form nor a QP form (non-convex sets,
    quadratic forms with active box faces). Steps, in order:

    1. the family's closed form, when it answers this input (exact);
    2. SLSQP on ``min ||x - a||^2 s.t. rows(x) <= -tol/10, low <= x <= high`` from the
       clipped action (then, if that fails, from :meth:`Constraint.safe_action`), with
       the rows' Jacobian by forward differences in one batched call;
    3. for a non-convex set, or when step 2 found nothing feasible: SLSQP from the 3
       nearest of 64 feasible samples, which also count as candidates;
    4. the nearest feasible candidate.

    For a convex set the result is the projection (SLSQP finds the global minimum).
    For a non-convex set it is a local projection no farther than any of the samples
    drawn (the documented safe result). If no candidate is feasible, :class:`ProjectionError`.
    Sampling is seeded, so results are deterministic.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("quadratic", Q=[[1.0, 0.0], [0.0, 4.0]], bound=3.0)
        >>> action, info = NonlinearProjector(c).project([1.0, 1.0])
        >>> bool(c.contains(action)), info.method
        (True, 'nonlinear')
    """

    name = "nonlinear"
    priority = 0

    @classmethod
    def supports(cls, constraint: Constraint) -> bool:
        """Every constraint."""
        return True

    def _project(self, action: FloatArray, obs: FloatArray | None) -> FloatArray:
        c = self.constraint
        exact = c.project_closed_form(action, obs)
        if exact is not None:
            self._last = "closed-form"
            return exact
        candidates = self._polish(action, obs, [np.clip(action, c.low, c.high)])
        feasible = [x for x in candidates if self._inside(x, obs)]
        if not feasible:
            with contextlib.suppress(SamplingError):
                candidates = self._polish(action, obs, [c.safe_action(obs)])
                feasible = [x for x in candidates if self._inside(x, obs)]
        if not feasible or not c.convex:
            try:
                samples = c.sample(obs, _SAMPLES, rng=0)
            except SamplingError:
                samples = np.zeros((0, c.dim))
            nearest = samples[np.argsort(np.linalg.norm(samples - action, axis=1))[:_SAMPLE_STARTS]]
            extra = self._polish(action, obs, list(nearest)) + list(nearest[:1])
            feasible += [x for x in extra if self._inside(x, obs)]
        if not feasible:
            self._last = "no feasible point found"
            raise ProjectionError(
                "the nonlinear projector found no feasible action (SLSQP did not converge "
                "and no feasible sample was found); the set may be empty for this observation",
                status=self._last,
            )
        self._last = "solved"
        return min(feasible, key=lambda x: float(np.linalg.norm(x - action)))

    def _inside(self, x: FloatArray, obs: FloatArray | None) -> bool:
        return self.constraint._violation_single(x, obs) <= self.constraint.tol

    def _polish(
        self, action: FloatArray, obs: FloatArray | None, starts: list[FloatArray]
    ) -> list[FloatArray]:
        """SLSQP from each start; returns the clipped end points."""
        from scipy.optimize import minimize  # imported here: scipy.optimize is slow to import

        c = self.constraint
        obs2d = None if obs is None else obs.reshape(1, -1)
        margin = c.tol / 10.0

        step = 1e-7 * np.eye(c.dim)

        def slack(x: FloatArray) -> FloatArray:
            return -(c.rows(x.reshape(1, -1), obs2d)[0] + margin)

        def slack_jacobian(x: FloatArray) -> FloatArray:
            # forward differences of every row in one batched call (one row per perturbation)
            values = c.rows(np.vstack([x, x + step]), obs2d)
            return -(values[1:] - values[0]).T / 1e-7

        has_rows = c.rows(action.reshape(1, -1), obs2d).shape[1] > 0
        constraints = [{"type": "ineq", "fun": slack, "jac": slack_jacobian}] if has_rows else []
        bounds = list(zip(c.low, c.high, strict=True))
        out = []
        for x0 in starts:
            result = minimize(
                lambda x: 0.5 * float((x - action) @ (x - action)),
                x0,
                jac=lambda x: x - action,
                method="SLSQP",
                bounds=bounds,
                constraints=constraints,
                options={"ftol": 1e-12, "maxiter": 200},
            )
            out.append(np.clip(result.x, c.low, c.high))
        return out

    def _status(self) -> str:
        return getattr(self, "_last", "solved")
