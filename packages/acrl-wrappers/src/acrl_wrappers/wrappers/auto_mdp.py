"""``AutoMDP``: ARAM's augmented two-objective MDP with self-loops for rejected actions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from acrl_wrappers._arrays import float_scalar
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.reward_calibration import AUTO, calibration_for
from acrl_wrappers.wrappers.base import (
    ConstraintLike,
    ConstraintWrapper,
    Enforcement,
    check_max_rejections,
    constraint_info,
)

__all__ = ["AutoMDP"]


class AutoMDP(ConstraintWrapper, gym.utils.RecordConstructorArgs):
    """ARAM's augmented MDP: a rejected action is a self-loop with a penalty objective.

    What reaches the simulator: only feasible actions. The reward is a vector
    ``[task_reward, penalty]`` (``info["reward_vector"]``) and the agent receives its
    scalarisation ``preference @ reward_vector``. Reference: ARAM, arXiv:2503.12932 (its released
    code's ``augment_check`` loop):

    - feasible proposal: executed, ``reward_vector = [r, 0]``;
    - infeasible proposal: a self-loop — the simulator is not stepped, the current
      observation is returned, ``reward_vector = [0, -kappa]``, ``terminated = truncated
      = False``; no simulated time passes, so an inner ``TimeLimit`` (as ``gym.make``
      puts one inside this wrapper) is not consumed;
    - after ``max_rejections`` self-loops in a row, the next infeasible proposal is
      projected and executed (``enforcement="fallback"``) with
      ``reward_vector = [r, -kappa]`` (the penalty still applies, as in the reference).

    The default preference ``(1, 1)`` gives the stock agent the (transformed) task reward
    for executed steps and ``-kappa`` per rejection: the task reward keeps the scale its
    SB3 hyperparameters were tuned for and ``kappa`` is the price of a rejection in reward
    units. ARAM's own preferences lie on the simplex (e.g. ``(0.5, 0.5)``), which only
    rescales this.

    A self-loop's task reward is 0, so when a task's rewards are negative a rejection can
    look *better* than a real step and the agent learns to propose infeasible actions.
    The task reward of executed steps is therefore transformed, ``r -> r * reward_scale +
    reward_offset`` (``reward_vector[0]`` holds the transformed value; a ``Monitor`` inside
    the wrapper still records the raw task return):

    - nothing given (the default), or ``reward_offset="auto"``: the offset follows the
      lowest task reward seen so that every executed step scores at least
      ``max(kappa, 0.01)`` above zero, hence above a self-loop at any preference
      (:class:`~acrl_wrappers.reward_calibration.RewardCalibration`). On a task that
      declares its paper's transform (``gym.make("ACRL/...")``; ARAM's code uses Reacher
      ``+1``, BSS3z ``/20 + 1``, BSS5z ``/100 + 2``, NSFnet ``/10``, MuJoCo locomotion
      unchanged) it starts from that scale and offset and raises the offset only where it
      would let a self-loop out-score acting. On a task that terminates episodes, a raised
      offset also pays for staying alive;
    - a number: that offset; a :class:`~acrl_wrappers.reward_calibration.RewardInversionWarning`
      names the offset that fixes it if, over 1,000 executed steps, a self-loop out-scores
      acting on average at ``preference``. Giving ``reward_scale`` replaces the task's
      transform (an unset offset is then ``"auto"`` from 0).

    With SB3, ``acrl_wrappers.sb3.DualReplayBuffer`` keeps the self-loop transitions in a
    separate buffer as ARAM does. Vector envs: wrap each sub-env; a ``Monitor`` inside the
    wrapper (``make_vec_env(..., wrapper_class=AutoMDP)`` puts it there) reports the task
    return and the number of simulator steps; one outside counts self-loops and penalties.

    Args:
        env: env with a 1-D ``Box`` action space.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        kappa: penalty per rejection, ``>= 0`` (reference default 0.2).
        reward_scale: multiplies the task reward of executed steps (``> 0``; ``None``: see
            above).
        reward_offset: added to it after scaling: a number, ``"auto"`` or ``None``.
        max_rejections: self-loops allowed in a row before the projection (reference M = 100).
        preference: weights ``(w_task, w_penalty) >= 0`` of the scalarised reward.
        projector: force a projector by name (default: the best available).

    Raises:
        ConstraintError: negative ``kappa`` or preference, ``max_rejections < 1``.

    Example:
        >>> import gymnasium as gym
        >>> box = {"name": "box", "dim": 1, "low": -1.0, "high": 1.0}
        >>> env = AutoMDP(gym.make("Pendulum-v1"), box, kappa=0.2)
        >>> _ = env.reset(seed=0)
        >>> _, reward, terminated, truncated, info = env.step([1.5])
        >>> reward, info["reward_vector"], info["constraint"]["enforcement"]
        (-0.2, [0.0, -0.2], 'rejected')

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        constraint: ConstraintLike,
        *,
        kappa: float = 0.2,
        max_rejections: int = 100,
        preference: Sequence[float] = (1.0, 1.0),
        reward_scale: float | None = None,
        reward_offset: float | str | None = None,
        projector: str | None = None,
    ) -> None:
        c = make_constraint(constraint)
        kappa = float_scalar(kappa, "kappa", minimum=0.0)
        if reward_scale is not None:
            reward_scale = float_scalar(reward_scale, "reward_scale")
        if reward_offset not in (None, AUTO):
            reward_offset = float_scalar(reward_offset, "reward_offset")
        check_max_rejections(max_rejections)
        weights = np.asarray(preference, dtype=np.float64)
        if weights.shape != (2,) or not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ConstraintError(
                "`preference` must be two finite non-negative weights (task, penalty), "
                f"got {preference!r}"
            )
        gym.utils.RecordConstructorArgs.__init__(
            self,
            constraint=c.spec,
            kappa=kappa,
            max_rejections=max_rejections,
            preference=tuple(weights.tolist()),
            reward_scale=reward_scale,
            reward_offset=reward_offset,
            projector=projector,
        )
        gym.Wrapper.__init__(self, env)
        self._setup(c, projector)
        self.kappa = kappa
        self.max_rejections = max_rejections
        self.preference = tuple(weights.tolist())
        self.calibration = calibration_for(
            env,
            reward_scale,
            reward_offset,
            kappa=kappa,
            preference=self.preference,
            owner="AutoMDP",
        )
        transform = self.calibration.transform  # executed steps: r * scale + offset
        self.reward_scale = transform.scale
        self.reward_offset = AUTO if self.calibration.auto else transform.offset

    def _task_reward(self, reward: SupportsFloat) -> float:
        """The executed step's task reward, transformed by the calibration in force."""
        task = float(reward)
        self.calibration.observe(task)
        return float(self.calibration.apply(task))

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Execute a feasible action; self-loop on an infeasible one (projection after M)."""
        a, violation = self._check(action)
        w_task, w_penalty = self.preference
        if violation <= self._constraint.tol:
            obs, reward, terminated, truncated, info = self._accept(action, violation)
            task = self._task_reward(reward)
            info["reward_vector"][0] = task
            return obs, w_task * task, terminated, truncated, info
        if self._rejections < self.max_rejections:
            self._rejections += 1
            out = self._self_loop(
                -w_penalty * self.kappa, constraint_info(violation, False, Enforcement.REJECTED)
            )
            out[4]["reward_vector"] = [0.0, -self.kappa]
            return out
        self._rejections = 0
        x, info_c = self._project(a, violation)
        info_c["enforcement"] = Enforcement.FALLBACK
        obs, reward, terminated, truncated, info = self._execute(x, info_c, 1.0)
        task = self._task_reward(reward)
        info["reward_vector"] = [task, -self.kappa]
        return obs, w_task * task - w_penalty * self.kappa, terminated, truncated, info
