"""``PreviousAction``: the last executed action(s) become part of the observation."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import ConstraintError

__all__ = ["PreviousAction"]


class PreviousAction(gym.Wrapper[Any, Any, Any, Any], gym.utils.RecordConstructorArgs):
    """Appends the last ``k`` executed actions to the observation, most recent first.

    History-dependent limits then become state-dependent ones and the task stays Markov:
    the agent sees what the constraint sees. ``obs = [env_obs, a_{t-1}, ..., a_{t-k}]``;
    :attr:`action_index` (``"17:23"`` for HalfCheetah) is where ``a_{t-1}`` lies, the
    ``prev_index`` of a ``slew-rate`` constraint. After a reset the history holds
    ``initial`` (default 0, clipped into the action space): an actuator at rest.

    Put it **beneath** the enforcement wrapper (``acrl.wrap(PreviousAction(env), ...)``,
    as ``ACRL/HalfCheetahSlew-v0`` does) so it records the action that was executed, not
    the one proposed; a self-loop leaves it unchanged, as no action was executed.

    Vector envs: use it inside each sub-env (``gym.make_vec(..., wrappers=[...])`` or a
    registered task); the vector enforcement wrappers then read it from the observation.

    Args:
        env: env with 1-D ``Box`` action and observation spaces.
        k: number of past actions kept, ``>= 1``.
        initial: the action assumed before the first step (scalar or one per dimension).

    Raises:
        ConstraintError: non-Box spaces or ``k < 1``.

    Example:
        >>> env = PreviousAction(gym.make("Pendulum-v1"), k=2)
        >>> obs, _ = env.reset(seed=0)
        >>> obs.shape, env.action_index
        ((5,), '3:4')
        >>> obs, *_ = env.step(np.array([0.5], dtype=np.float32))
        >>> obs[3:].tolist()
        [0.5, 0.0]

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(self, env: gym.Env[Any, Any], k: int = 1, initial: Any = 0.0) -> None:
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ConstraintError(f"`k` must be an integer >= 1, got {k!r}")
        act, obs = env.action_space, env.observation_space
        if not (isinstance(act, spaces.Box) and len(act.shape) == 1):
            raise ConstraintError(f"PreviousAction needs a 1-D Box action space, got {act}")
        if not (isinstance(obs, spaces.Box) and len(obs.shape) == 1):
            raise ConstraintError(
                f"PreviousAction needs a 1-D Box observation space, got {obs}; flatten it first "
                "(gymnasium.wrappers.FlattenObservation)"
            )
        gym.utils.RecordConstructorArgs.__init__(self, k=k, initial=initial)
        gym.Wrapper.__init__(self, env)
        d, n = act.shape[0], obs.shape[0]
        self.k = k
        self.initial: FloatArray = np.clip(
            np.broadcast_to(np.asarray(initial, dtype=np.float64), (d,)), act.low, act.high
        )
        self.action_index = f"{n}:{n + d}"
        """Observation indices of the previous action, as a ``"start:stop"`` string."""
        self.history_index = f"{n}:{n + k * d}"
        """Observation indices of the whole history."""
        dtype = obs.dtype
        self.observation_space = spaces.Box(
            np.concatenate([obs.low, np.tile(act.low, k)]).astype(dtype),
            np.concatenate([obs.high, np.tile(act.high, k)]).astype(dtype),
            dtype=dtype,  # type: ignore[arg-type]
        )
        self._dim = d
        self._history = np.tile(self.initial, k)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset the env and fill the history with ``initial``."""
        obs, info = self.env.reset(seed=seed, options=options)
        self._history = np.tile(self.initial, self.k)
        return self._observe(obs), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Execute the action, then put it at the front of the history."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        executed = np.asarray(action, dtype=np.float64).reshape(-1)
        self._history = np.concatenate([executed, self._history[: -self._dim]])
        return self._observe(obs), reward, terminated, truncated, info

    def _observe(self, obs: Any) -> np.ndarray:
        dtype = self.observation_space.dtype
        return np.concatenate([np.asarray(obs, dtype=dtype), self._history.astype(dtype)])
