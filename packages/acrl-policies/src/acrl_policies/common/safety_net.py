"""What a method's own safety net did: the counts tools read without knowing the method.

ARAM (acceptance-rejection, projection fallback), FlowPG and CV-Flow (projection of the
rare infeasible flow output) check their policy's proposals themselves, so the
enforcement wrapper downstream only ever sees feasible actions. Their proposals, the
infeasible ones among them and their projections are counted here instead; ``acrl
train`` and ``acrl evaluate`` read them through :func:`safety_net_counts`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["SafetyNetCounts", "safety_net_counts"]


@dataclass
class SafetyNetCounts:
    """Cumulative counts of a method's own constraint check (saved with the model).

    Attributes:
        proposals: policy proposals checked against the constraint.
        infeasible: proposals outside it (rejected or projected).
        projections: projections the method solved (one projection problem each).
        self_loops: rejected proposals stored as self-loop transitions (ARAM).

    Example:
        >>> counts = SafetyNetCounts()
        >>> counts.add(proposals=4, infeasible=3, projections=1, self_loops=2)
        >>> counts.valid_rate
        0.25
    """

    proposals: int = 0
    infeasible: int = 0
    projections: int = 0
    self_loops: int = 0

    def add(
        self, *, proposals: int, infeasible: int, projections: int = 0, self_loops: int = 0
    ) -> None:
        """Count one batch of checked proposals."""
        self.proposals += int(proposals)
        self.infeasible += int(infeasible)
        self.projections += int(projections)
        self.self_loops += int(self_loops)

    @property
    def valid_rate(self) -> float | None:
        """Fraction of feasible proposals (``None`` before the first proposal)."""
        return 1.0 - self.infeasible / self.proposals if self.proposals else None


def safety_net_counts(model: Any) -> SafetyNetCounts | None:
    """The safety-net counts of ``model``, or ``None`` for a method without one.

    Example:
        >>> safety_net_counts(object()) is None
        True
    """
    counts = getattr(model, "safety_net", None)
    return counts if isinstance(counts, SafetyNetCounts) else None
