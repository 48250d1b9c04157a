"""What a conditional flow is conditioned on: observation entries and their distribution.

A state-dependent constraint reads a few observation entries (``constraint.obs_indices``,
e.g. HalfCheetah's joint velocities ``obs[11:17]``). The flow is conditioned on exactly
those entries; training draws them from a :class:`ConditionDistribution` (the papers use
``U[-20, 20]`` for FlowPG's HalfCheetah, ``N(0, 15^2)`` for CV-Flow's, ``U[-10, 10]`` for
Hopper; FlowPG, arXiv:2402.05149; CV-Flow, arXiv:2502.10431).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from acrl_policies.errors import FlowError
from acrl_wrappers import Constraint

__all__ = ["ConditionDistribution", "Conditioning"]


@dataclass(frozen=True)
class ConditionDistribution:
    """The distribution condition entries are drawn from during flow training.

    Args:
        kind: ``"uniform"`` (on ``[low, high]``) or ``"normal"`` (``N(0, std^2)``).
        low: lower bound of the uniform.
        high: upper bound of the uniform.
        std: standard deviation of the normal.

    Example:
        >>> d = ConditionDistribution.parse("uniform:-20,20")
        >>> d.sample(3, 2, np.random.default_rng(0)).shape, d.scale
        ((3, 2), 20.0)
        >>> ConditionDistribution.parse("normal:15").scale
        15.0
    """

    kind: str = "uniform"
    low: float = -10.0
    high: float = 10.0
    std: float = 1.0

    def __post_init__(self) -> None:
        if self.kind not in ("uniform", "normal"):
            raise FlowError(
                f"condition distribution kind must be 'uniform' or 'normal', got {self.kind!r}"
            )
        if self.kind == "uniform" and not self.low < self.high:
            raise FlowError(f"uniform condition needs low < high, got [{self.low}, {self.high}]")
        if self.kind == "normal" and not self.std > 0:
            raise FlowError(f"normal condition needs std > 0, got {self.std}")

    @classmethod
    def parse(cls, text: str) -> ConditionDistribution:
        """From ``"uniform:LOW,HIGH"`` or ``"normal:STD"`` (the CLI's ``--condition``)."""
        kind, _, args = text.partition(":")
        try:
            values = [float(v) for v in args.split(",")] if args else []
            if kind == "uniform" and len(values) == 2:
                return cls("uniform", low=values[0], high=values[1])
            if kind == "normal" and len(values) == 1:
                return cls("normal", std=values[0])
        except ValueError:
            pass
        raise FlowError(
            f"cannot read the condition distribution {text!r}; write 'uniform:LOW,HIGH' "
            "(e.g. 'uniform:-20,20') or 'normal:STD' (e.g. 'normal:15')"
        )

    @property
    def scale(self) -> float:
        """A typical magnitude: the flow divides conditions by it."""
        if self.kind == "normal":
            return self.std
        return max(abs(self.low), abs(self.high))

    def sample(self, n: int, dim: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` condition rows of ``dim`` entries, float64."""
        if self.kind == "normal":
            return rng.normal(0.0, self.std, size=(n, dim))
        return rng.uniform(self.low, self.high, size=(n, dim))

    def contains(self, y: np.ndarray) -> np.ndarray:
        """Whether each row lies in the distribution's support (always true for normal)."""
        if self.kind == "normal":
            return np.ones(y.shape[0], dtype=bool)
        return ((y >= self.low) & (y <= self.high)).all(axis=1)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (stored in flow checkpoints)."""
        return asdict(self)

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
