"""The env hook for constraint parameters the observation does not hold, and ``ObserveParameters``.

An env that knows a value a constraint needs (a battery's power budget, a torque limit
that changes with temperature) but does not put it in its observation implements
:class:`ConstraintParameterSource`: a method ``constraint_parameters()`` returning the
current values by name. :class:`ObserveParameters` reads it once per step (after each
``reset`` and ``step``) and appends the values to the observation, where a constraint
parameter ``{"index": i, "hook": name}`` reads them, and so do the agent, flows and
acceptance-rejection: everything sees what the constraint sees.
:func:`acrl_wrappers.wrap` inserts it when a constraint reads hook values the env's
observation lacks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, SupportsFloat, runtime_checkable

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import ConstraintError, InvalidObservationError

__all__ = ["ConstraintParameterSource", "ObserveParameters"]

ParameterValue = float | Sequence[float] | np.ndarray


@runtime_checkable
class ConstraintParameterSource(Protocol):
    """What an env implements to supply constraint parameters it does not observe.

    ``constraint_parameters()`` returns the current value of every parameter by name (a
    number, or a sequence of the declared size). It is called once after ``reset`` and
    once after every ``step`` (never per constraint evaluation), on the env itself or any
    of its wrappers (found with ``env.get_wrapper_attr``).

    Example:
        >>> class Battery(gym.Wrapper):
        ...     def constraint_parameters(self):
        ...         return {"budget": 2.0}
        >>> isinstance(Battery(gym.make("Pendulum-v1")), ConstraintParameterSource)
        True
    """

    def constraint_parameters(self) -> Mapping[str, ParameterValue]:
        """The current parameter values by name."""
        ...


class ObserveParameters(gym.Wrapper[Any, Any, Any, Any], gym.utils.RecordConstructorArgs):
    """Appends the env's hook values (:class:`ConstraintParameterSource`) to the observation.

    The values are read once after each ``reset`` and ``step`` and appended in the order
    of ``parameters``; :attr:`parameter_index` says where each lies. Put it beneath the
    enforcement wrapper (:func:`acrl_wrappers.wrap` does).

    Args:
        env: env with a 1-D ``Box`` observation space whose env (or a wrapper) implements
            ``constraint_parameters()``.
        parameters: ``{name: size}`` in the order to append them (a list of names means
            size 1 each).
        low: lower bound of the appended entries in the observation space.
        high: upper bound of the appended entries.

    Raises:
        ConstraintError: no ``constraint_parameters`` method, or a non-Box observation.
        InvalidObservationError: (on reset / step) a value is missing, of the wrong size
            or non-finite; nothing further is executed.

    Example:
        >>> class Battery(gym.Wrapper):
        ...     def constraint_parameters(self):
        ...         return {"budget": 2.0}
        >>> env = ObserveParameters(Battery(gym.make("Pendulum-v1")), ["budget"])
        >>> obs, _ = env.reset(seed=0)
        >>> obs.shape, env.parameter_index, float(obs[3])
        ((4,), {'budget': [3]}, 2.0)

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        parameters: Mapping[str, int] | Sequence[str],
        low: float = -np.inf,
        high: float = np.inf,
    ) -> None:
        sizes = (
            dict(parameters) if isinstance(parameters, Mapping) else dict.fromkeys(parameters, 1)
        )
        if not sizes or any(not isinstance(v, int) or v < 1 for v in sizes.values()):
            raise ConstraintError(f"`parameters` must map names to sizes >= 1, got {parameters!r}")
        obs = env.observation_space
        if not (isinstance(obs, spaces.Box) and len(obs.shape) == 1):
            raise ConstraintError(f"ObserveParameters needs a 1-D Box observation space, got {obs}")
        try:
            self._source = env.get_wrapper_attr("constraint_parameters")
        except AttributeError:
            raise ConstraintError(
                f"the env has no constraint_parameters() method but the constraint reads "
                f"{sorted(sizes)} from it; implement acrl.ConstraintParameterSource on the env "
                "(or a wrapper), or give those parameters as observation indices instead"
            ) from None
        gym.utils.RecordConstructorArgs.__init__(self, parameters=sizes, low=low, high=high)
        gym.Wrapper.__init__(self, env)
        self.sizes = sizes
        start, self.parameter_index = obs.shape[0], {}
        for name, size in sizes.items():
            self.parameter_index[name] = list(range(start, start + size))
            start += size
        extra = start - obs.shape[0]
        self.observation_space = spaces.Box(
            np.concatenate([obs.low, np.full(extra, low)]).astype(obs.dtype),
            np.concatenate([obs.high, np.full(extra, high)]).astype(obs.dtype),
            dtype=obs.dtype,  # type: ignore[arg-type]
        )
        self.reads = 0
        """How many times the hook was read (once per reset and per step)."""

    @classmethod
    def for_constraint(cls, env: gym.Env[Any, Any], constraint: Constraint) -> ObserveParameters:
        """The wrapper that puts every hook value the constraint reads where it reads it.

        Raises:
            ConstraintError: the hook indices do not follow the env's observation
                (``ObserveParameters`` can only append).

        Example:
            >>> import acrl_wrappers as acrl
            >>> class Reach(gym.Wrapper):
            ...     def constraint_parameters(self):
            ...         return {"reach": 0.5}
            >>> c = acrl.make_constraint("ball", radius={"index": 3, "hook": "reach"}, dim=1)
            >>> ObserveParameters.for_constraint(Reach(gym.make("Pendulum-v1")), c).sizes
            {'reach': 1}
        """
        hooks = sorted(constraint.hook_parameters.items(), key=lambda item: item[1][0])
        start = env.observation_space.shape[0]
        expected = start
        for name, index in hooks:
            if index != list(range(expected, expected + len(index))):
                raise ConstraintError(
                    f"the constraint reads hook {name!r} at obs{index}, but appended after the "
                    f"env's {start} observation entries it would sit at obs[{expected}:"
                    f"{expected + len(index)}]; give it index {expected}"
                    + (f":{expected + len(index)}" if len(index) > 1 else "")
                )
            expected += len(index)
        return cls(env, {name: len(index) for name, index in hooks})

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Reset, then read the hook."""
        obs, info = self.env.reset(seed=seed, options=options)
        return self._observe(obs), info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Step, then read the hook."""
        obs, reward, terminated, truncated, info = self.env.step(action)
        return self._observe(obs), reward, terminated, truncated, info

    def _observe(self, obs: Any) -> np.ndarray:
        self.reads += 1
        values = self._source()
        parts = [np.asarray(obs, dtype=self.observation_space.dtype)]
        for name, size in self.sizes.items():
            if name not in values:
                raise InvalidObservationError(
                    f"constraint_parameters() returned no {name!r} (it returned "
                    f"{sorted(values)}); the constraint needs it every step"
                )
            value = np.asarray(values[name], dtype=np.float64).reshape(-1)
            if value.shape != (size,) or not np.isfinite(value).all():
                raise InvalidObservationError(
                    f"constraint_parameters()[{name!r}] is {value.tolist()}: expected {size} "
                    "finite number(s)"
                )
            parts.append(value.astype(self.observation_space.dtype))
        return np.concatenate(parts)
