"""``RejectAction``: infeasible actions never reach the simulator; a policy decides what happens."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from acrl_wrappers._arrays import FloatArray, float_scalar
from acrl_wrappers.errors import ConstraintError, ConstraintViolationError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.wrappers.base import (
    ConstraintLike,
    ConstraintWrapper,
    Enforcement,
    check_max_rejections,
    constraint_info,
)
from acrl_wrappers.wrappers.faults import checked_safe_action

__all__ = ["RejectAction"]

ON_REJECT = ("self_loop", "fallback", "terminate", "raise")
FallbackFn = Callable[[FloatArray, "FloatArray | None"], Any]


class RejectAction(ConstraintWrapper, gym.utils.RecordConstructorArgs):
    """Refuses infeasible actions; ``on_reject`` says what the env does instead.

    What reaches the simulator: only feasible actions. For an infeasible proposal:

    - ``"self_loop"`` (default): the simulator is not stepped; the env answers with the
      current observation, reward ``-penalty`` (default 0), ``terminated = truncated =
      False`` (no simulated time passes, so the time limit is not consumed). After
      ``max_rejections`` self-loops in a row the next infeasible proposal gets the
      fallback, so an episode can never stall.
    - ``"fallback"``: execute a feasible fallback instead: ``"project"`` (nearest
      feasible action, default), ``"safe"`` (:meth:`Constraint.safe_action`) or a callable
      ``fallback(action, obs) -> action`` whose result is checked.
    - ``"terminate"``: end the episode (``terminated=True``) with reward ``-penalty``
      (default 1) without stepping the simulator.
    - ``"raise"``: raise :class:`~acrl_wrappers.ConstraintViolationError` (deployment).

    A self-loop gets reward ``-penalty`` and a real step the task reward: if the task's
    rewards are negative, choose ``penalty`` above their typical size, or a self-loop pays
    better than acting (:class:`AutoMDP` offers ARAM's reward offset for this).
    ``info["reward_vector"]`` is ``[task_reward, 0]`` for executed steps and
    ``[0, -penalty]`` for rejected ones. A NaN or inf action raises
    :class:`~acrl_wrappers.InvalidActionError` rather than counting as a rejection.
    For ARAM's augmented MDP with a penalty objective, use :class:`AutoMDP`.

    Vector version: :class:`~acrl_wrappers.VectorRejectAction` (Gymnasium) and
    ``acrl_wrappers.sb3.VecRejectAction`` (SB3) for ``on_reject="fallback"`` / ``"raise"``;
    self-loops and termination need a wrapper per sub-env (``Monitor`` inside it reports
    the task return).

    Args:
        env: env with a 1-D ``Box`` action space.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        on_reject: ``"self_loop"``, ``"fallback"``, ``"terminate"`` or ``"raise"``.
        max_rejections: self-loops allowed in a row before the fallback (``>= 1``).
        fallback: ``"project"``, ``"safe"`` or a callable ``(action, obs) -> action``.
        penalty: reward of a rejected step is ``-penalty`` (default 0 for self-loops, 1 for
            termination).
        projector: force a projector by name (default: the best available).

    Raises:
        ConstraintError: an unknown ``on_reject`` or ``fallback``, ``max_rejections < 1``.

    Example:
        >>> import gymnasium as gym
        >>> box = {"name": "box", "dim": 1, "low": -1.0, "high": 1.0}
        >>> env = RejectAction(gym.make("Pendulum-v1"), box, on_reject="self_loop")
        >>> obs, _ = env.reset(seed=0)
        >>> same, reward, terminated, truncated, info = env.step([1.5])
        >>> bool((same == obs).all()), reward, info["constraint"]["enforcement"]
        (True, 0.0, 'rejected')

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        constraint: ConstraintLike,
        *,
        on_reject: str = "self_loop",
        max_rejections: int = 100,
        fallback: str | FallbackFn = "project",
        penalty: float | None = None,
        projector: str | None = None,
    ) -> None:
        c = make_constraint(constraint)
        if on_reject not in ON_REJECT:
            raise ConstraintError(f"`on_reject` must be one of {ON_REJECT}, got {on_reject!r}")
        check_max_rejections(max_rejections)
        if not (callable(fallback) or fallback in ("project", "safe")):
            raise ConstraintError(
                f"`fallback` must be 'project', 'safe' or a callable (action, obs) -> action, "
                f"got {fallback!r}"
            )
        if penalty is None:
            penalty = 1.0 if on_reject == "terminate" else 0.0
        penalty = float_scalar(penalty, "penalty", minimum=0.0)
        gym.utils.RecordConstructorArgs.__init__(
            self,
            constraint=c.spec,
            on_reject=on_reject,
            max_rejections=max_rejections,
            fallback=fallback,
            penalty=penalty,
            projector=projector,
        )
        gym.Wrapper.__init__(self, env)
        self._setup(c, projector)
        self.on_reject = on_reject
        self.max_rejections = max_rejections
        self.fallback = fallback
        self.penalty = penalty

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Execute a feasible action; answer an infeasible one as ``on_reject`` says."""
        a, violation = self._check(action)
        if violation <= self._constraint.tol:
            return self._accept(action, violation)
        if self.on_reject == "raise":
            raise ConstraintViolationError(
                f"action {a.tolist()} violates the constraint by {violation:.6g} "
                f"(tol {self._constraint.tol:g}); it was not executed"
            )
        if self.on_reject == "terminate" or (
            self.on_reject == "self_loop" and self._rejections < self.max_rejections
        ):
            self._rejections += 1
            out = self._self_loop(
                -self.penalty,
                constraint_info(violation, False, Enforcement.REJECTED),
                terminated=self.on_reject == "terminate",
            )
            out[4]["reward_vector"] = [0.0, -self.penalty]
            return out
        self._rejections = 0
        x, info_c = self._fallback_action(a, violation)
        obs, reward, terminated, truncated, info = self._execute(x, info_c, 1.0)
        info["reward_vector"] = [float(reward), 0.0]
        return obs, reward, terminated, truncated, info

    def _fallback_action(self, action: FloatArray, violation: float) -> tuple[Any, dict[str, Any]]:
        if self.fallback == "project":
            x, info_c = self._project(action, violation)
            info_c["enforcement"] = Enforcement.FALLBACK
            return x, info_c
        if self.fallback == "safe":
            x = checked_safe_action(self._constraint, self._obs)
        else:
            x = np.asarray(self.fallback(action, self._obs), dtype=np.float64)  # type: ignore[operator]
            _, fallback_violation = self._check(x)
            if fallback_violation > self._constraint.tol:
                raise ConstraintViolationError(
                    f"the fallback callable returned an infeasible action {x.tolist()} "
                    f"(violation {fallback_violation:.6g}); it was not executed"
                )
        distance = float(np.linalg.norm(x - action))
        return x, constraint_info(violation, False, Enforcement.FALLBACK, 0, distance)
