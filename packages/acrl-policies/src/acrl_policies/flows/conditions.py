"""What a conditional flow is conditioned on: observation entries and their distribution.

A state-dependent constraint reads a few observation entries (``constraint.obs_indices``,
e.g. HalfCheetah's joint velocities ``obs[11:17]``). The flow is conditioned on exactly
those entries; training draws them from a :class:`ConditionDistribution` (the papers use
``U[-20, 20]`` for FlowPG's HalfCheetah, ``N(0, 15^2)`` for CV-Flow's, ``U[-10, 10]`` for
Hopper; FlowPG, arXiv:2402.05149; CV-Flow, arXiv:2502.10431).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from acrl_policies.errors import FlowError
from acrl_wrappers import Constraint
from acrl_wrappers.condition_spec import condition_spec
from acrl_wrappers.errors import SpecError

__all__ = ["ConditionDistribution", "Conditioning"]


Values = float | tuple[float, ...]


@dataclass(frozen=True)
class ConditionDistribution:
    """The distribution condition entries are drawn from during flow training.

    Every value is one number for all entries or a tuple with one per entry.

    Args:
        kind: ``"uniform"`` (on ``[low, high]``) or ``"normal"`` (``N(0, std^2)``).
        low: lower bound of the uniform.
        high: upper bound of the uniform.
        std: standard deviation of the normal.

    Raises:
        FlowError: an unknown kind, ``low >= high``, ``std <= 0``, non-finite values.

    Example:
        >>> d = ConditionDistribution.parse("uniform:-20,20")
        >>> d.sample(3, 2, np.random.default_rng(0)).shape, d.scale
        ((3, 2), 20.0)
        >>> ConditionDistribution.parse("normal:15").scale
        15.0
        >>> ConditionDistribution("uniform", low=(-1.0, 0.0), high=(1.0, 5.0)).scale
        (1.0, 5.0)
    """

    kind: str = "uniform"
    low: Values = -10.0
    high: Values = 10.0
    std: Values = 1.0

    def __post_init__(self) -> None:
        keys = ("low", "high") if self.kind == "uniform" else ("std",)
        try:
            spec = condition_spec({"kind": self.kind, **{k: getattr(self, k) for k in keys}})
        except SpecError as exc:
            raise FlowError(str(exc)) from None
        for key in keys:
            object.__setattr__(self, key, spec[key])

    def __str__(self) -> str:
        """The spec as text, rounded (``uniform:-20,20``; per-entry values as lists).

        Example:
            >>> print(ConditionDistribution("uniform", low=(-1.0, -2.5), high=(1.0, 2.0)))
            uniform:[-1, -2.5],[1, 2]
        """

        def text(v: Values) -> str:
            if isinstance(v, tuple):
                return "[" + ", ".join(f"{x:.3g}" for x in v) + "]"
            return f"{v:.3g}"

        if self.kind == "normal":
            return f"normal:{text(self.std)}"
        return f"uniform:{text(self.low)},{text(self.high)}"

    @classmethod
    def parse(cls, text: str | Mapping[str, Any]) -> ConditionDistribution:
        """From ``"uniform:LOW,HIGH"``, ``"normal:STD"`` (the CLI's ``--condition``) or a spec."""
        try:
            spec = condition_spec(text)
        except SpecError as exc:
            raise FlowError(str(exc)) from None
        return cls(**spec)

    @classmethod
    def from_samples(cls, y: np.ndarray, widen: float = 0.25) -> ConditionDistribution:
        """A per-entry uniform covering condition rows ``y`` (e.g. states a task visits).

        Each entry's range runs from its 0.1 % to its 99.9 % quantile, widened on both
        sides by ``widen`` times its width (and at least 1e-3).

        Example:
            >>> y = np.random.default_rng(0).uniform([-1, 0], [1, 4], size=(5000, 2))
            >>> d = ConditionDistribution.from_samples(y)
            >>> [round(v, 1) for v in d.low], [round(v, 1) for v in d.high]
            ([-1.5, -1.0], [1.5, 5.0])
        """
        if y.ndim != 2 or y.shape[0] < 2 or y.shape[1] == 0 or not np.isfinite(y).all():
            raise FlowError(
                f"need at least 2 finite condition rows with one or more entries, got {y.shape}"
            )
        lo, hi = np.quantile(y, 0.001, axis=0), np.quantile(y, 0.999, axis=0)
        margin = np.maximum(widen * (hi - lo), 1e-3)
        return cls("uniform", low=tuple(lo - margin), high=tuple(hi + margin))

    @property
    def scale(self) -> Values:
        """A typical magnitude per entry: the flow divides conditions by it."""
        if self.kind == "normal":
            return self.std
        magnitude = np.maximum(np.abs(np.asarray(self.low)), np.abs(np.asarray(self.high)))
        return float(magnitude) if magnitude.ndim == 0 else tuple(float(v) for v in magnitude)

    def entries(self) -> int | None:
        """How many entries the distribution describes (``None``: any number, one value)."""
        lengths = {len(v) for v in (self.low, self.high, self.std) if isinstance(v, tuple)}
        return lengths.pop() if lengths else None

    def check(self, conditioning: Conditioning) -> None:
        """Raise :class:`FlowError` if per-entry values do not match the condition entries.

        Example:
            >>> import acrl_wrappers as acrl
            >>> cond = Conditioning(acrl.make_constraint("hopper-m10"))
            >>> try:
            ...     ConditionDistribution("normal", std=(1.0, 2.0)).check(cond)
            ... except FlowError as exc:
            ...     print(str(exc)[:52])
            the condition distribution has values for 2 entries,
        """
        n = self.entries()
        if n is not None and n != conditioning.dim:
            raise FlowError(
                f"the condition distribution has values for {n} entries, but the flow is "
                f"conditioned on {conditioning.dim} observation entries {conditioning.indices}; "
                f"give one value or {conditioning.dim}"
            )

    def sample(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` condition rows of ``dim`` entries, float64."""
        if self.kind == "normal":
            return rng.normal(0.0, np.asarray(self.std), size=(n, dim))
        return rng.uniform(np.asarray(self.low), np.asarray(self.high), size=(n, dim))

    def contains(self, y: np.ndarray) -> np.ndarray:
        """Whether each row lies in the distribution's support (always true for normal)."""
        if self.kind == "normal":
            return np.ones(y.shape[0], dtype=bool)
        return ((y >= np.asarray(self.low)) & (y <= np.asarray(self.high))).all(axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able spec of the kind's own values, stored in flow checkpoints.

        :meth:`parse` and ``flow_kwargs["condition"]`` accept it.

        Example:
            >>> ConditionDistribution.parse("normal:15").to_dict()
            {'kind': 'normal', 'std': 15.0}
        """
        keys = ("low", "high") if self.kind == "uniform" else ("std",)
        values = {k: getattr(self, k) for k in keys}
        return {
            "kind": self.kind,
            **{k: list(v) if isinstance(v, tuple) else v for k, v in values.items()},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ConditionDistribution:
        """Inverse of :meth:`to_dict`."""
        return cls(**dict(data))


class Conditioning:
    """Which observation entries condition the flow, and how they sit in an observation.

    Args:
        constraint: the constraint the flow serves.
        indices: observation entries to condition on; default ``constraint.obs_indices``.

    Raises:
        FlowError: an index is negative or beyond what the constraint can be given.

    Example:
        >>> import acrl_wrappers as acrl
        >>> cond = Conditioning(acrl.make_constraint("halfcheetah-o20"))
        >>> cond.indices, cond.dim
        ([11, 12, 13, 14, 15, 16], 6)
        >>> cond.observations(np.ones((2, 6))).shape
        (2, 17)
    """

    def __init__(self, constraint: Constraint, indices: Sequence[int] | None = None) -> None:
        chosen = list(constraint.obs_indices if indices is None else indices)
        if any(isinstance(i, bool) or not isinstance(i, int | np.integer) or i < 0 for i in chosen):
            raise FlowError(f"condition indices must be non-negative integers, got {chosen!r}")
        missing = sorted(set(constraint.obs_indices) - set(chosen))
        if missing:
            raise FlowError(
                f"the constraint reads observation entries {missing} that the condition "
                f"indices {chosen} leave out; the flow could not know the feasible set"
            )
        self.constraint = constraint
        self.indices = [int(i) for i in chosen]
        self.dim = len(self.indices)
        self.obs_dim = max(constraint.obs_dim, max(self.indices, default=-1) + 1)

    def check_observation_size(self, obs_size: int) -> None:
        """Raise :class:`FlowError` if an observation of ``obs_size`` entries lacks an index."""
        if self.indices and max(self.indices) >= obs_size:
            raise FlowError(
                f"the flow conditions on observation entries {self.indices}, but the env's "
                f"observations have only {obs_size} entries; use a flow trained for this env"
            )

    def select(self, obs: np.ndarray) -> np.ndarray:
        """The condition entries of ``(N, k)`` observations, ``(N, dim)``."""
        return obs[:, self.indices]

    def observations(self, y: np.ndarray) -> np.ndarray | None:
        """Observations ``(N, obs_dim)`` holding conditions ``y`` (zeros elsewhere)."""
        if self.constraint.obs_dim == 0:
            return None
        obs = np.zeros((y.shape[0], self.obs_dim))
        obs[:, self.indices] = y
        return obs
