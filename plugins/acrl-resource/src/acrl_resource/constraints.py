"""The action constraints of the resource-allocation tasks, in action units ``a in [-1, 1]^d``.

- ``bss3z`` (alias ``BSS3z+S+D40``): ``|sum a - 1| <= 0.1``, 3 zones (core ``sum-band``).
- ``bss5z`` (alias ``BSS5z+S+D40``): ``|sum a - 2.5| <= 0.1``, 5 zones (core ``sum-band``).
- ``nsfnet`` (alias ``NSFnetV2+S``): ``sum_{i in L_j} a_i <= 2 - |L_j|`` for the 8 shared
  links ``L_j`` of the NSFNET backbone (core ``linear``).

Reference: ARAM (arXiv:2503.12932) and its released code. The BSS constraints are the ones
its *code* checks; its README states ``|sum x - 90| <= 5`` (3 and 5 zones swapped), which
does not match: the continuous band 0.1 is ±1.5 bikes for BSS3z and ±2 bikes for BSS5z.
The integer allocation step inside the env then makes the executed total exact.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from acrl_wrappers import ConstraintError, LinearConstraint, SumBandConstraint

__all__ = [
    "BSS_BAND_WIDTH",
    "NSFNET_LINKS",
    "bss_band_target",
    "bss_constraint",
    "nsfnet_constraint",
    "nsfnet_link_matrix",
]

BSS_BAND_WIDTH = 0.1
"""Half-width of the band on ``sum a`` in ARAM's BSS tasks (action units)."""

NSFNET_LINKS: tuple[tuple[int, ...], ...] = (
    (1, 2, 4, 5),
    (3, 6),
    (1, 2, 4),
    (3, 5, 6),
    (2, 4, 7, 9),
    (1, 8),
    (2, 4, 9),
    (2, 3, 9),
)
"""The 8 shared NSFNET links as sets of 1-based flow ids (ARAM's released code)."""

NSFNET_FLOWS = 9
"""Number of flows (action dimension) of the NSFnet task."""


def bss_band_target(zones: int, bikes: int, min_allocation: int, max_allocation: int) -> float:
    """Centre of the band on ``sum a`` that makes the allocation total ``bikes``.

    The env maps ``a in [-1, 1]`` to ``x = c + h a`` with ``c`` and ``h`` the centre and
    half-range of ``[min_allocation, max_allocation]``; ``sum x = bikes`` is
    ``sum a = (bikes - zones * c) / h``.

    Raises:
        ConstraintError: ``max_allocation <= min_allocation``.

    Example:
        >>> bss_band_target(3, 90, 10, 40), bss_band_target(5, 150, 0, 40)
        (1.0, 2.5)
    """
    if max_allocation <= min_allocation:
        raise ConstraintError(
            f"need min_allocation < max_allocation, got {min_allocation} and {max_allocation}"
        )
    centre = (min_allocation + max_allocation) / 2.0
    half = (max_allocation - min_allocation) / 2.0
    return (bikes - zones * centre) / half


def bss_constraint(
    zones: int, bikes: int, min_allocation: int, max_allocation: int
) -> SumBandConstraint:
    """The band ``|sum a - target| <= 0.1`` of a bike-sharing task with these parameters.

    Example:
        >>> bss_constraint(3, 90, 10, 40).spec["target"]
        1.0
    """
    target = bss_band_target(zones, bikes, min_allocation, max_allocation)
    return SumBandConstraint(target=target, width=BSS_BAND_WIDTH, dim=zones)


def nsfnet_link_matrix() -> NDArray[np.float64]:
    """The ``(8, 9)`` 0/1 matrix with ``A[j, i] = 1`` when flow ``i + 1`` crosses link ``j``.

    Example:
        >>> nsfnet_link_matrix().sum(axis=1).astype(int).tolist()
        [4, 2, 3, 3, 4, 2, 3, 3]
    """
    matrix = np.zeros((len(NSFNET_LINKS), NSFNET_FLOWS))
    for j, flows in enumerate(NSFNET_LINKS):
        matrix[j, [i - 1 for i in flows]] = 1.0
    return matrix


def nsfnet_constraint() -> LinearConstraint:
    """``A a <= 2 - |L_j|``: every link carries at most 50 when rates are ``x = 25 (a + 1)``.

    Example:
        >>> c = nsfnet_constraint()
        >>> bool(c.contains(-np.ones(9))), bool(c.contains(np.zeros(9)))
        (True, False)
    """
    matrix = nsfnet_link_matrix()
    return LinearConstraint(A=matrix.tolist(), b=(2.0 - matrix.sum(axis=1)).tolist())
