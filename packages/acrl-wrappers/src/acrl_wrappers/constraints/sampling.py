"""Uniform rejection sampling of a constraint's feasible set for one observation.

:meth:`Constraint.sample <acrl_wrappers.constraints.base.Constraint.sample>` validates its
arguments and calls :func:`rejection_sample`: candidates come in batches from the family's
proposal (``_propose``: the action box unless the family knows a tighter region), and
those with zero violation are kept until ``n`` are found or the draw budget is spent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import SamplingError

if TYPE_CHECKING:
    from acrl_wrappers.constraints.base import Constraint

__all__ = ["rejection_sample"]

SAMPLE_BATCH = 4096
"""Candidates drawn per round."""
SAMPLE_MAX_DRAWS = 2_000_000
"""Candidates drawn before :class:`~acrl_wrappers.SamplingError`."""
SAMPLE_SLACK = 1e-12
"""Violation still accepted: rounding on equality-like sets (a zero-width band)."""


def rejection_sample(
    constraint: Constraint, obs: FloatArray | None, n: int, rng: np.random.Generator
) -> FloatArray:
    """``n`` feasible actions, uniform on the set for one validated ``(1, k)`` observation.

    Raises:
        SamplingError: fewer than ``n`` of :data:`SAMPLE_MAX_DRAWS` candidates were feasible.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("ball", bound=0.5, dim=2)
        >>> a = rejection_sample(c, None, 3, np.random.default_rng(0))
        >>> a.shape, bool(c.contains(a).all())
        ((3, 2), True)
    """
    accepted: list[FloatArray] = []
    count = draws = 0
    while count < n:
        if draws >= SAMPLE_MAX_DRAWS:
            raise SamplingError(
                f"rejection sampling accepted {count} of {draws} candidates for "
                f"{constraint!r}; the feasible set is empty or tiny for this observation"
            )
        batch = constraint._propose(obs, SAMPLE_BATCH, rng)
        draws += SAMPLE_BATCH
        keep = batch[constraint._violation(batch, obs) <= SAMPLE_SLACK]
        accepted.append(keep)
        count += keep.shape[0]
    return np.concatenate(accepted)[:n] if accepted else np.zeros((0, constraint.dim))
