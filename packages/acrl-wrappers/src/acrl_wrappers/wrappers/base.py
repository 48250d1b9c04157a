"""What every enforcement wrapper shares: the check, the ``info`` schema, the env contract.

:class:`ConstraintWrapper` validates the env against the constraint once, keeps the
current observation (the state the constraint is evaluated in), checks each proposed
action with one call of the constraint, and writes the same ``info`` keys for every
wrapper:

- ``info["cost"]`` — 1.0 when the proposed action was infeasible, else 0.0 (the CMDP cost
  key of Safety-Gymnasium, FSRL and SafePO);
- ``info["constraint"]`` — ``{"violation", "feasible", "enforcement", "qp_solves",
  "distance"}`` with ``enforcement`` one of ``"none"``, ``"projected"``, ``"rejected"``,
  ``"fallback"``;
- ``info["reward_vector"]`` — ``[task_reward, penalty]`` where the wrapper defines a penalty.

Plugin objects are never trusted: the wrappers call the constraint, the projector and
the safe action only through :mod:`acrl_wrappers.wrappers.faults`, so a raising or
malformed one is named and answered by the documented policy (the constraint's safe
action, or a :class:`~acrl_wrappers.ProjectionError` / :class:`~acrl_wrappers.PluginFaultError`
with nothing executed), never by an unchecked action or a raw traceback.

Algorithms find the constraint through the env: ``env.get_wrapper_attr("constraint")``
(or ``vec_env.get_attr("constraint")``); see :func:`acrl_wrappers.find_constraint`.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from acrl_wrappers._arrays import FloatArray, as_single_action, raise_non_finite
from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import ConstraintError, InvalidActionError, ProjectionError
from acrl_wrappers.factories import make_constraint, make_projector
from acrl_wrappers.projection.base import Projector
from acrl_wrappers.wrappers.faults import checked_projection, checked_safe_action, checked_violation

__all__ = [
    "ConstraintWrapper",
    "Enforcement",
    "check_max_rejections",
    "check_spaces",
    "constraint_info",
]

ConstraintLike = Constraint | Mapping[str, Any] | str


class Enforcement:
    """Values of ``info["constraint"]["enforcement"]``."""

    NONE = "none"
    PROJECTED = "projected"
    REJECTED = "rejected"
    FALLBACK = "fallback"


def constraint_info(
    violation: float, feasible: bool, enforcement: str, qp_solves: int = 0, distance: float = 0.0
) -> dict[str, Any]:
    """The ``info["constraint"]`` dict."""
    return {
        "violation": violation,
        "feasible": feasible,
        "enforcement": enforcement,
        "qp_solves": qp_solves,
        "distance": distance,
    }


def check_max_rejections(value: Any) -> int:
    """Validate ``max_rejections`` (self-loops allowed in a row).

    Raises:
        ConstraintError: unless it is an integer >= 1.
    """
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConstraintError(f"`max_rejections` must be an integer >= 1, got {value!r}")
    return value


def check_spaces(c: Constraint, action_space: Any, observation_space: Any) -> None:
    """Check an env's (or a vector env's single) spaces against the constraint.

    Raises:
        ConstraintError: the action space is not a 1-D ``Box`` of the constraint's size,
            the constraint's box reaches outside it, or the constraint reads more
            observation entries than there are (for a hook parameter: says how to add it).
    """
    space = action_space
    if not isinstance(space, spaces.Box) or len(space.shape) != 1:
        raise ConstraintError(
            f"acrl wrappers need a 1-D Box action space, got {space}; flatten the action "
            "space first (gymnasium.wrappers.FlattenAction does)"
        )
    if space.shape[0] != c.dim:
        raise ConstraintError(
            f"the constraint acts on {c.dim}-D actions but the env's actions are "
            f"{space.shape[0]}-D; pick the constraint made for this env"
        )
    if np.any(c.low < space.low - 1e-9) or np.any(c.high > space.high + 1e-9):
        raise ConstraintError(
            f"the constraint's box [{c.low.tolist()}, {c.high.tolist()}] reaches outside the "
            f"action space [{space.low.tolist()}, {space.high.tolist()}]; pass low/high "
            "matching the env"
        )
    if not c.obs_dim:
        return
    obs_space = observation_space
    if not isinstance(obs_space, spaces.Box) or len(obs_space.shape) != 1:
        raise ConstraintError(
            f"the constraint reads the observation but the observation space is {obs_space}; "
            "state-dependent constraints need a flat Box observation"
        )
    size = obs_space.shape[0]
    if size < c.obs_dim:
        missing = {k: v for k, v in c.hook_parameters.items() if max(v) >= size}
        if missing:
            raise ConstraintError(
                f"the constraint reads the env's hook values {sorted(missing)} at obs{missing} "
                f"but observations have {size} entries; wrap the env with "
                f"acrl.ObserveParameters(env, {dict((k, len(v)) for k, v in missing.items())}) "
                "or use acrl.wrap(env, constraint, ...), which does"
            )
        raise ConstraintError(
            f"the constraint reads observation index {c.obs_dim - 1} but observations have "
            f"{size} entries; check its indices (weight_index, index) against the env's layout"
        )


class ConstraintWrapper(gym.Wrapper[Any, Any, Any, Any]):
    """Base class of the enforcement wrappers: the checks and bookkeeping they share.

    Subclasses call :meth:`_setup` from ``__init__`` and implement ``step``. Not meant to
    be used directly.

    Args:
        env: an env with a 1-D ``Box`` action space (and a ``Box`` observation space when
            the constraint reads the observation).
        constraint: a :class:`~acrl_wrappers.Constraint`, a spec dict or a registered name.
        projector: a projector name to force (``"closed-form"``, ``"osqp"``, ...), or
            ``None`` for the best one.

    Raises:
        ConstraintError: the action space is not a 1-D ``Box``, the constraint's dimension
            differs from it, its box reaches outside the action space, or it reads more
            observation entries than the env has.
    """

    def _setup(self, constraint: ConstraintLike, projector: str | None) -> None:
        c = make_constraint(constraint)
        check_spaces(c, self.env.action_space, self.env.observation_space)
        self._constraint = c
        self._projector_name = projector
        self._projector: Projector | None = None
        self._obs: FloatArray | None = None  # float64 observation the constraint reads
        self._last_obs: Any = None  # the observation as the env returned it (for self-loops)
        self._rejections = 0  # self-loops in a row (wrappers that self-loop)

    # ------------------------------------------------------------------ env contract
    @property
    def constraint(self) -> Constraint:
        """The constraint this wrapper enforces (the env contract algorithms read)."""
        return self._constraint

    @property
    def projector(self) -> Projector:
        """The projector (built on first use, so each worker process builds its own)."""
        return self._projector or self._build_projector()

    def _build_projector(self) -> Projector:
        self._projector = make_projector(self._constraint, self._projector_name)
        return self._projector

    # ------------------------------------------------------------------ shared steps
    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env, remember the observation the constraint reads, clear the counters."""
        self._rejections = 0
        obs, info = self.env.reset(seed=seed, options=options)
        self._remember(obs)
        return obs, info

    def _remember(self, obs: Any) -> None:
        self._last_obs = obs
        if self._constraint.obs_dim:
            self._obs = (
                obs if getattr(obs, "dtype", None) == np.float64 else np.asarray(obs, np.float64)
            )

    def _check(self, action: Any) -> tuple[np.ndarray, float]:
        """The action as an array (dtype as given) and its violation in the current state.

        Raises:
            InvalidActionError: wrong shape or dtype, NaN or inf (never counted as a
                rejection: a non-finite policy output is a bug to surface).
            PluginFaultError: the constraint raised or returned no valid violation
                (named; nothing is executed).
        """
        arr = np.asarray(action)
        c = self._constraint
        if arr.ndim != 1 or arr.shape[0] != c.dim or arr.dtype.kind not in "fiu":
            if arr.ndim != 1:
                raise InvalidActionError(
                    f"expected one action of shape ({c.dim},), got shape {arr.shape}"
                )
            as_single_action(arr, c.dim)  # raises the detailed error
        values = arr.tolist()
        if not math.isfinite(sum(values)):
            raise_non_finite(arr.reshape(1, -1), None)  # the policy's fault, not the constraint's
        return arr, checked_violation(c, values, self._obs)

    def _project(self, action: np.ndarray, violation: float) -> tuple[FloatArray, dict[str, Any]]:
        """The projection of an infeasible action, or the constraint's safe action if it fails.

        Returns:
            the feasible action to execute and its ``info["constraint"]`` (``enforcement``
            ``"projected"``, or ``"fallback"`` with ``"error"`` holding the solver status,
            e.g. ``"error: ZeroDivisionError"`` or ``"malformed"`` for a faulty projector,
            and ``"error_detail"`` the message naming the projector and its plugin).

        A projector that raises, or returns a malformed or infeasible action, counts as a
        failed projection (``"error"`` then names the fault).

        Raises:
            ProjectionError: if the projection failed and no safe action exists either;
                the step is then not executed.
        """
        action = action.astype(np.float64, copy=False)
        try:
            x, distance = checked_projection(
                self._projector or self._build_projector,
                self._constraint,
                action,
                self._obs,
                violation,
            )
            return x, constraint_info(violation, False, Enforcement.PROJECTED, 1, distance)
        except ProjectionError as exc:
            try:
                safe = checked_safe_action(self._constraint, self._obs)
            except ProjectionError as no_safe:
                raise ProjectionError(
                    f"projection failed ({exc}) and no safe action was found ({no_safe}); the "
                    "step was not executed",
                    status=exc.status,
                ) from no_safe
            out = constraint_info(
                violation, False, Enforcement.FALLBACK, 1, float(np.linalg.norm(safe - action))
            )
            out["error"] = exc.status
            out["error_detail"] = str(exc)  # names the projector and its plugin
            return safe, out

    def _self_loop(
        self, reward: float, info_constraint: dict[str, Any], terminated: bool = False
    ) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """Answer without stepping the simulator: the same observation (a copy), no time passes."""
        obs = self._last_obs
        obs = obs.copy() if isinstance(obs, np.ndarray) else copy.deepcopy(obs)
        return obs, reward, terminated, False, {"cost": 1.0, "constraint": info_constraint}

    def _accept(
        self, action: Any, violation: float
    ) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Execute a feasible proposal as given (``reward_vector = [reward, 0]``)."""
        self._rejections = 0
        info_c = constraint_info(violation, True, Enforcement.NONE)
        obs, reward, terminated, truncated, info = self._execute(action, info_c, 0.0)
        info["reward_vector"] = [float(reward), 0.0]
        return obs, reward, terminated, truncated, info

    def _execute(
        self, action: Any, info_constraint: dict[str, Any], cost: float
    ) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step the simulator with a feasible action and add the ``info`` keys."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._remember(obs)
        info["cost"] = cost
        info["constraint"] = info_constraint
        return obs, reward, terminated, truncated, info
