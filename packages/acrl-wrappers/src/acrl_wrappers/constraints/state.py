"""Parameters that move with the state: read from the observation by index, scale and offset.

- :class:`StateParameter` — a vector (or scalar) parameter ``p(s) = offset + scale *
  obs[index]``, or a constant. Families take one wherever a value may depend on the
  state: box bounds ``lower(s)`` / ``upper(s)``, a ball's ``center(s)`` and
  ``radius(s)``, linear ``b(s)`` and rows of ``A(s)``, simplex caps and totals.
- :class:`StateWeights` — per-action weights ``w(s) = weights * obs[weight_index]``.

A state-dependent parameter is written in a spec as a JSON dict, so specs stay JSON::

    {"index": "17:23", "scale": 1.0, "offset": -0.2}        # from the observation
    {"index": 17, "hook": "torque_limit"}                    # from the env's hook

``index`` is a list, a ``"start:stop"`` string or one integer; ``scale`` and ``offset``
are numbers or one per entry. ``hook`` names a value the env supplies through
:class:`~acrl_wrappers.wrappers.observe_parameters.ConstraintParameterSource` (read once
per step); :class:`~acrl_wrappers.ObserveParameters` (which :func:`acrl_wrappers.wrap`
inserts when needed) appends it to the observation at ``index``, so the agent and every
method see what the constraint sees.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, compact, float_vector, index_list, index_selector
from acrl_wrappers.errors import ConstraintError, StateParameterError

__all__ = ["StateParameter", "StateWeights", "is_state_spec"]

_KEYS = {"index", "scale", "offset", "hook"}


def is_state_spec(value: Any) -> bool:
    """Whether ``value`` is a state-dependent parameter (a dict or a :class:`StateParameter`).

    Example:
        >>> is_state_spec({"index": "0:2"}), is_state_spec([1.0, 2.0])
        (True, False)
    """
    return isinstance(value, Mapping | StateParameter)


class StateParameter:
    """A parameter that is constant or read from the state: ``offset + scale * obs[index]``.

    Args:
        value: a number or list (constant), a dict ``{"index", "scale", "offset",
            "hook"}`` (state-dependent), or another :class:`StateParameter` (copied).
        name: the parameter's name, used in error messages (``"radius"``).
        size: number of entries (``None``: from ``value``); a scalar constant broadcasts.
        scalar: the parameter is one number (a radius, a total); ``index`` then selects
            one observation entry.

    Raises:
        ConstraintError: unknown keys, a missing ``index``, lengths that disagree, or a
            non-finite value, each naming ``name``.

    Example:
        >>> p = StateParameter({"index": "2:4", "offset": -0.5}, name="lower")
        >>> p.batch(np.array([[0.0, 0.0, 1.0, 2.0]])).tolist(), p.spec()
        ([[0.5, 1.5]], {'index': [2, 3], 'offset': -0.5})
        >>> StateParameter(0.2, name="radius", scalar=True).value(None)
        0.2
    """

    def __init__(
        self, value: Any, *, name: str, size: int | None = None, scalar: bool = False
    ) -> None:
        if isinstance(value, StateParameter):
            value = value.spec()
        self.name = name
        self.scalar = scalar
        if scalar:
            size = 1
        self.index: list[int] | None = None
        self.hook: str | None = None
        if isinstance(value, Mapping):
            self._parse_state(dict(value), size)
        else:
            if scalar and np.ndim(value) != 0:
                raise ConstraintError(f"`{name}` must be one number, got {value!r}")
            self.offset = float_vector(value, size, name)
            self.scale = np.ones_like(self.offset)
        self.size = int(self.offset.shape[0])
        self.obs_dim = 0 if self.index is None else max(self.index) + 1
        self._selector = None if self.index is None else index_selector(self.index)
        self._unit_scale = bool(np.all(self.scale == 1.0))
        self._zero_offset = bool(not np.any(self.offset))
        self._row = self.offset.reshape(1, -1)
        self._list: list[float] = self.offset.tolist()
        self._scale_list: list[float] = self.scale.tolist()

    def _parse_state(self, spec: dict[str, Any], size: int | None) -> None:
        unknown = sorted(set(spec) - _KEYS)
        if unknown:
            raise ConstraintError(
                f"`{self.name}` has unknown keys {unknown}; a state-dependent parameter takes "
                '{"index": ..., "scale": ..., "offset": ..., "hook": ...}'
            )
        if "index" not in spec:
            raise ConstraintError(
                f'`{self.name}` needs "index": the observation entries it reads (e.g. "17:23")'
            )
        raw = spec["index"]
        if isinstance(raw, int | np.integer) and not isinstance(raw, bool):
            raw = [int(raw)]
        self.index = index_list(raw, f"{self.name}.index")
        if size is not None and len(self.index) != size:
            raise ConstraintError(
                f"`{self.name}.index` selects {len(self.index)} observation entries but "
                f"`{self.name}` needs {size}; give one index per entry"
            )
        n = len(self.index)
        self.scale = float_vector(spec.get("scale", 1.0), n, f"{self.name}.scale")
        self.offset = float_vector(spec.get("offset", 0.0), n, f"{self.name}.offset")
        hook = spec.get("hook")
        if hook is not None and (not isinstance(hook, str) or not hook):
            raise ConstraintError(f"`{self.name}.hook` must be a parameter name, got {hook!r}")
        self.hook = hook

    @property
    def state_dependent(self) -> bool:
        """Whether the value is read from the observation."""
        return self.index is not None

    @property
    def constant(self) -> FloatArray | None:
        """The value when it is constant (a float64 array of :attr:`size`), else ``None``."""
        return None if self.index is not None else self.offset

    def batch(self, obs: FloatArray | None) -> FloatArray:
        """Values for ``(N, k)`` observations: ``(N, size)``, or ``(1, size)`` when constant."""
        if self._selector is None or obs is None:
            return self._row
        picked = obs[:, self._selector]
        if not self._unit_scale:
            picked = picked * self.scale
        return picked if self._zero_offset else picked + self.offset

    def row(self, obs: FloatArray | None) -> list[float]:
        """Values for one ``(k,)`` observation as a list of floats (the fast path)."""
        if self._selector is None or obs is None:
            return self._list
        picked = obs[self._selector].tolist()
        scale, offset = self._scale_list, self._list
        if self._unit_scale:
            if self._zero_offset:
                return picked
            return [p + o for p, o in zip(picked, offset, strict=True)]
        if self._zero_offset:
            return [p * s for p, s in zip(picked, scale, strict=True)]
        return [p * s + o for p, s, o in zip(picked, scale, offset, strict=True)]  # one pass

    def value(self, obs: FloatArray | None) -> float:
        """The value of a scalar parameter for one ``(k,)`` observation."""
        return self.row(obs)[0]

    def spec(self) -> Any:
        """The JSON form: a number or list when constant, else the dict.

        Example:
            >>> StateParameter({"index": 3, "hook": "limit"}, name="radius", scalar=True).spec()
            {'index': [3], 'hook': 'limit'}
        """
        if self.index is None:
            return float(self.offset[0]) if self.scalar else compact(self.offset)
        out: dict[str, Any] = {"index": list(self.index)}
        if not self._unit_scale:
            out["scale"] = compact(self.scale)
        if not self._zero_offset:
            out["offset"] = compact(self.offset)
        if self.hook is not None:
            out["hook"] = self.hook
        return out

    def fail(self, problem: str, obs: FloatArray | None, fix: str) -> StateParameterError:
        """The error for an invalid value in one state (``obs`` one ``(k,)`` row or ``None``).

        Names the parameter, the observation entries it read and their values.
        """
        where = ""
        if self.index is not None and obs is not None:
            read = np.asarray(obs, dtype=np.float64)[self.index].tolist()
            where = f" in the state where obs[{_span(self.index)}] = {read}"
            if self.hook is not None:
                where += f" (hook {self.hook!r})"
        return StateParameterError(f"`{self.name}` {problem}{where}; {fix}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StateParameter) and self.spec() == other.spec()

    def __hash__(self) -> int:
        return hash(repr(self.spec()))

    def __repr__(self) -> str:
        return f"StateParameter({self.spec()!r}, name={self.name!r})"


def _span(index: list[int]) -> str:
    """``"17:23"`` for contiguous indices, else the list."""
    if index == list(range(index[0], index[0] + len(index))):
        return f"{index[0]}:{index[0] + len(index)}" if len(index) > 1 else str(index[0])
    return str(index)


def first_bad_row(bad: np.ndarray) -> int:
    """Index of the first ``True`` row of a ``(N,)`` or ``(N, m)`` mask."""
    flat = bad if bad.ndim == 1 else bad.any(axis=1)
    return int(np.flatnonzero(flat)[0])


class StateWeights:
    """Per-action weights ``w(s) = weights * obs[weight_index]``, constant when no index is given.

    Args:
        dim: action dimension.
        weights: constant multiplier (scalar or length ``dim``), default 1.
        weight_index: observation indices that hold the state-dependent part
            (list, ``range``, slice or ``"11:17"``), or ``None`` for constant weights.

    Example:
        >>> w = StateWeights(2, weights=[1.0, -2.0], weight_index="3:5")
        >>> w(np.array([[0.0, 0.0, 0.0, 1.5, 0.5]])).tolist()
        [[1.5, -1.0]]
    """

    def __init__(self, dim: int, weights: Any = None, weight_index: Any = None) -> None:
        self.scale = float_vector(1.0 if weights is None else weights, dim, "weights")
        self.index = None if weight_index is None else index_list(weight_index, "weight_index")
        if self.index is not None and len(self.index) != dim:
            raise ConstraintError(
                f"`weight_index` selects {len(self.index)} observation entries but the "
                f"action has {dim} dimensions; give one index per action dimension"
            )
        self._selector = None if self.index is None else index_selector(self.index)
        self._unit_scale = bool(np.all(self.scale == 1.0))
        self.obs_dim = 0 if self.index is None else max(self.index) + 1
        self._constant = self.scale.reshape(1, dim)
        self._constant_list: list[float] = self.scale.tolist()

    @property
    def state_dependent(self) -> bool:
        """Whether the weights are read from the observation."""
        return self.index is not None

    def __call__(self, obs: FloatArray | None) -> FloatArray:
        """Weights for a ``(N, k)`` (or ``(1, k)``) observation batch, shape ``(N or 1, dim)``."""
        if self._selector is None or obs is None:
            return self._constant
        picked = obs[:, self._selector]
        return picked if self._unit_scale else picked * self.scale

    def row(self, obs: FloatArray | None) -> list[float]:
        """Weights for one ``(k,)`` observation as a list of floats (fast path)."""
        if self._selector is None or obs is None:
            return self._constant_list
        picked = obs[self._selector]
        return picked.tolist() if self._unit_scale else (picked * self.scale).tolist()

    def params(self) -> dict[str, Any]:
        """JSON-able parameters (``weights`` omitted when all ones)."""
        out: dict[str, Any] = {}
        if not self._unit_scale:
            out["weights"] = self.scale.tolist()
        if self.index is not None:
            out["weight_index"] = list(self.index)
        return out
