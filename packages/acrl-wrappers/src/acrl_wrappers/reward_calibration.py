"""Reward calibration for augmented MDPs: an executed step must score above a self-loop.

In ARAM's augmented MDP (arXiv:2503.12932) a rejected proposal is a self-loop with the
reward vector ``[0, -kappa]`` and an executed step has ``[r', 0]`` with
``r' = r * scale + offset``. With a preference ``w = (w_task, w_penalty)`` a rejection scores
``-w_penalty * kappa`` and an executed step ``w_task * r'``. When the task's rewards are
negative (a bike-sharing day costs about -50 per hour) and nothing shifts them, rejecting
scores *better* than acting and the agent learns to propose infeasible actions. The
published code therefore rescales each task's reward by hand.

- :class:`RewardTransform` — a fixed ``(scale, offset)``; tasks declare the one their
  paper uses (``register(..., reward_transform={"scale": 0.01, "offset": 2.0})``) and
  ``gym.make`` attaches it to the env as ``task_reward_transform``;
- :class:`RewardCalibration` — what :class:`~acrl_wrappers.AutoMDP` and ARAM apply:
  by default ``offset="auto"``: the offset follows the lowest task reward seen so far so
  that every executed step scores at least ``max(kappa, 0.01)`` above zero, i.e. above a
  self-loop at *every* preference, starting from the task's declared transform (its scale,
  and its offset wherever that already pays enough); or a fixed transform, checked on the
  rewards it sees (a :class:`RewardInversionWarning` naming the offset that fixes it
  when, over a window of executed steps, a self-loop out-scores acting);
- :func:`calibration_for` — which of the two an env and the arguments give.

The automatic offset never decreases and only moves when a new lowest reward is seen.
On an env that terminates episodes (Hopper, Ant), a positive offset also pays the agent
for staying alive; declare a transform for such tasks when that matters.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from acrl_wrappers._env_attrs import env_attr
from acrl_wrappers.errors import ConstraintError

__all__ = [
    "AUTO",
    "RewardCalibration",
    "RewardInversionWarning",
    "RewardTransform",
    "calibration_for",
    "find_reward_transform",
]

AUTO = "auto"
"""``reward_offset="auto"``: the offset that keeps every executed step above a self-loop."""

MIN_MARGIN = 0.01
"""The smallest automatic margin (``kappa`` may be 0: a self-loop then scores exactly 0)."""


class RewardInversionWarning(UserWarning):
    """The configured reward transform lets a rejected proposal out-score an executed step."""


@dataclass(frozen=True)
class RewardTransform:
    """``r -> r * scale + offset``, applied to the task reward of executed steps.

    Args:
        scale: a finite factor ``> 0`` (the reference code's ``1 / offset1``).
        offset: a finite shift, added after scaling (its ``offset2``).
        source: where the constants come from (e.g. ``"arXiv:2503.12932"``).

    Raises:
        ConstraintError: a scale that is not finite and positive, or an offset that is
            not finite.

    Example:
        >>> t = RewardTransform(scale=0.01, offset=2.0)
        >>> t(-50.0)
        1.5
    """

    scale: float = 1.0
    offset: float = 0.0
    source: str = ""

    def __post_init__(self) -> None:
        for name in ("scale", "offset"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float | np.number):
                raise ConstraintError(f"reward transform `{name}` must be a number, got {value!r}")
            if not math.isfinite(value):
                raise ConstraintError(
                    f"reward transform `{name}` must be finite, got {value!r}: use e.g. "
                    "{'scale': 0.01, 'offset': 2.0} (r -> r * scale + offset)"
                )
        if self.scale <= 0:
            raise ConstraintError(
                f"reward transform `scale` must be > 0, got {self.scale!r}: a zero or "
                "negative scale erases or flips the task reward"
            )

    def __call__(self, reward: Any) -> Any:
        """The transformed reward (a float or an array, as given)."""
        return reward * self.scale + self.offset

    @property
    def spec(self) -> dict[str, Any]:
        """The transform as a JSON-able dict (what a task declares)."""
        out: dict[str, Any] = {"scale": float(self.scale), "offset": float(self.offset)}
        if self.source:
            out["source"] = self.source
        return out

    @classmethod
    def from_spec(cls, value: Any) -> RewardTransform:
        """A transform from itself or a ``{"scale", "offset", "source"}`` mapping.

        Raises:
            ConstraintError: anything else, or unknown keys.

        Example:
            >>> RewardTransform.from_spec({"scale": 0.05, "offset": 1}).offset
            1
        """
        if isinstance(value, RewardTransform):
            return value
        if not isinstance(value, Mapping):
            raise ConstraintError(
                f"a reward transform must be a mapping like {{'scale': 0.01, 'offset': 2.0}}, "
                f"got {value!r}"
            )
        unknown = set(value) - {"scale", "offset", "source"}
        if unknown:
            raise ConstraintError(
                f"unknown reward transform keys {sorted(unknown)}: use 'scale', 'offset' "
                "and optionally 'source'"
            )
        return cls(
            scale=value.get("scale", 1.0),
            offset=value.get("offset", 0.0),
            source=str(value.get("source", "")),
        )


class RewardCalibration:
    """The task-reward transform an augmented MDP applies, checked or set from the rewards seen.

    Feed it the raw task reward of every executed step with :meth:`observe`; read the
    transform in force with :attr:`transform` (or apply it with :meth:`apply`).

    - fixed (``offset`` a number): over each window of ``window`` executed steps, if the
      mean transformed reward at ``preference`` scores below a self-loop
      (``w_task * mean(r') < -w_penalty * kappa``), one :class:`RewardInversionWarning`
      names the offset that fixes it;
    - ``offset="auto"``: ``offset = max(floor, margin - scale * lowest reward seen)`` with
      ``margin = max(kappa, 0.01)``, so every executed step seen so far
      scores at least ``w_task * margin > -w_penalty * kappa``; ``floor`` is a task's
      declared offset (its paper's), kept wherever it already pays enough.

    Args:
        scale: the factor ``> 0`` applied to the raw task reward.
        offset: a number, or ``"auto"``.
        floor: the smallest automatic offset (default 0).
        source: where the scale and floor come from (shown in :attr:`transform`).
        kappa: the penalty of a self-loop (``>= 0``).
        preference: ``(w_task, w_penalty)`` at which the fixed transform is checked.
        window: executed steps per check (``>= 1``).
        owner: who applies it, for the warning (``"ARAM"``, ``"AutoMDP"``).

    Raises:
        ConstraintError: a bad scale, offset, kappa, preference or window.

    Example:
        >>> auto = RewardCalibration(offset="auto", kappa=0.2)
        >>> auto.observe([-50.0, -40.0])
        >>> auto.transform.offset, round(float(auto.apply(-50.0)), 6)
        (50.2, 0.2)
        >>> paper = RewardCalibration(0.01, "auto", floor=2.0)  # BSS5z's constants hold
        >>> paper.observe(-108.0)
        >>> paper.transform.offset
        2.0
    """

    def __init__(
        self,
        scale: float = 1.0,
        offset: float | str = AUTO,
        *,
        floor: float = 0.0,
        source: str = "",
        kappa: float = 0.2,
        preference: Sequence[float] = (0.5, 0.5),
        window: int = 1000,
        owner: str = "the augmented MDP",
    ) -> None:
        self.auto = isinstance(offset, str)
        if self.auto and offset != AUTO:
            raise ConstraintError(f"reward_offset must be a number or 'auto', got {offset!r}")
        self._fixed = RewardTransform(scale, floor if self.auto else offset, source)  # type: ignore[arg-type]
        if not (math.isfinite(kappa) and kappa >= 0):
            raise ConstraintError(f"kappa must be finite and >= 0, got {kappa!r}")
        w = np.asarray(preference, dtype=np.float64)
        if w.shape != (2,) or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise ConstraintError(
                f"preference must be two non-negative weights (task, penalty), got {preference!r}"
            )
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ConstraintError(f"window must be an int >= 1, got {window!r}")
        self.kappa = float(kappa)
        self.preference = (float(w[0]), float(w[1]))
        self.window = window
        self.owner = owner
        self.margin = max(self.kappa, MIN_MARGIN)
        self.lowest = math.inf  # lowest raw task reward of an executed step
        self.warned = False
        self._sum = 0.0
        self._count = 0

    @property
    def transform(self) -> RewardTransform:
        """The transform in force now (the automatic offset as of the rewards seen)."""
        if not self.auto:
            return self._fixed
        source = f"{self._fixed.source}, auto" if self._fixed.source else AUTO
        return RewardTransform(self._fixed.scale, self._offset(), source)

    def fixing_offset(self) -> float:
        """The smallest offset ``>= 0`` that keeps the lowest reward seen ``margin`` above 0."""
        if not math.isfinite(self.lowest):
            return 0.0
        return max(0.0, self.margin - self._fixed.scale * self.lowest)

    def _offset(self) -> float:
        """The offset in force: fixed, or ``max(floor, fixing offset)``."""
        if not self.auto:
            return self._fixed.offset
        return max(self._fixed.offset, self.fixing_offset())

    def apply(self, rewards: Any) -> Any:
        """``rewards * scale + offset`` with the transform in force (a float stays a float)."""
        offset = self._offset()
        if not isinstance(rewards, float):
            rewards = np.asarray(rewards, dtype=np.float64)
        return rewards * self._fixed.scale + offset

    def observe(self, rewards: Any) -> None:
        """Record the raw task rewards of executed steps (a scalar or an array)."""
        if isinstance(rewards, float):  # one step (the wrappers' path): no array
            if not math.isfinite(rewards):
                return
            lowest, total, count = rewards, rewards, 1
        else:
            r = np.asarray(rewards, dtype=np.float64).reshape(-1)
            r = r[np.isfinite(r)]
            if not r.size:
                return
            lowest, total, count = float(r.min()), float(r.sum()), r.size
        if lowest < self.lowest:
            self.lowest = lowest
        if self.auto or self.warned:
            return
        self._sum += total
        self._count += count
        if self._count >= self.window:
            self._check(self._sum / self._count, self._count)
            self._sum, self._count = 0.0, 0

    def _check(self, mean_raw: float, steps: int) -> None:
        w_task, w_penalty = self.preference
        acting = w_task * float(self._fixed(mean_raw))
        rejecting = -w_penalty * self.kappa
        if acting >= rejecting:
            return
        self.warned = True
        t = self._fixed
        warnings.warn(
            f"{self.owner}: over the last {steps} executed steps the task reward averaged "
            f"{mean_raw:.4g}; with reward_scale={t.scale:g}, reward_offset={t.offset:g} an "
            f"executed step scores {acting:.4g} at preference {self.preference}, below a "
            f"rejected proposal's self-loop ({rejecting:.4g}), so the agent can learn to "
            f"propose infeasible actions. Fix: reward_offset={self.fixing_offset():.4g} "
            f"(the lowest reward seen, {self.lowest:.4g}, then scores +{self.margin:g}, above "
            "a self-loop at every preference) or reward_offset='auto'",
            RewardInversionWarning,
            stacklevel=3,
        )


def find_reward_transform(env: Any) -> RewardTransform | None:
    """The reward transform a registered task declares (``task_reward_transform``), or ``None``.

    Works on a Gymnasium env (any wrapper depth) and on an SB3 VecEnv (its first env).

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> find_reward_transform(gym.make("Pendulum-v1")) is None
        True
    """
    found = env_attr(env, "task_reward_transform")
    return found if isinstance(found, RewardTransform) else None


def calibration_for(
    env: Any,
    scale: float | None = None,
    offset: float | str | None = None,
    **kwargs: Any,
) -> RewardCalibration:
    """The calibration ARAM and ``AutoMDP`` apply on ``env``.

    - neither ``scale`` nor ``offset`` given (or ``offset="auto"`` alone): automatic, from
      the transform the task declares (:func:`find_reward_transform`): its scale, and its
      offset raised only where it would let a self-loop out-score an executed step
      (no declaration: scale 1, floor 0);
    - a number for ``offset``: that fixed transform (an unset scale is 1), checked with a
      :class:`RewardInversionWarning`;
    - ``scale`` given with ``offset`` unset or ``"auto"``: automatic on that scale; the
      task's declaration is ignored.

    Args:
        env: the env (``None``: nothing declared).
        scale: ``reward_scale``.
        offset: ``reward_offset`` (a number, ``"auto"`` or ``None``).
        **kwargs: :class:`RewardCalibration` keywords (``kappa``, ``preference``, ``owner``).

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> bss = calibration_for(gym.make("ACRL/BSS5z-v0"))
        >>> bss.auto, bss.transform.scale, bss.transform.offset
        (True, 0.01, 2.0)
        >>> calibration_for(gym.make("ACRL/BSS5z-v0"), offset=0.0).transform.scale
        1.0
    """
    if offset is None:
        offset = AUTO
    declared = find_reward_transform(env) if env is not None else None
    if offset == AUTO and scale is None and declared is not None:
        return RewardCalibration(
            declared.scale, AUTO, floor=declared.offset, source=declared.source, **kwargs
        )
    return RewardCalibration(1.0 if scale is None else scale, offset, **kwargs)
