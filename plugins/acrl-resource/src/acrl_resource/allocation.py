"""The integer allocation step: the nearest integer vector with bounded entries and a fixed sum.

Bike-sharing actions are continuous, but bikes are whole: the env turns the continuous
allocation ``x`` into the integer vector ``y`` that minimises ``||y - x||_2`` subject to
``low <= y_i <= high`` and ``sum_i y_i = total`` (ARAM, arXiv:2503.12932: the BSS
tasks, whose released code solves this as a Gurobi MIQP; here it is exact and closed-form).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from acrl_wrappers.errors import ConstraintError, InvalidActionError

__all__ = ["integer_allocation"]

IntArray = NDArray[np.int64]


def integer_allocation(x: ArrayLike, total: int, low: int, high: int) -> IntArray:
    """The integer vector nearest to ``x`` with entries in ``[low, high]`` summing to ``total``.

    The objective ``sum_i (y_i - x_i)^2`` is separable and convex, so the optimum is
    built from ``y = low`` by taking the ``total - n * low`` cheapest unit increments:
    raising ``y_i`` from ``k`` to ``k + 1`` costs ``2 (k - x_i) + 1``, which grows with
    ``k``, so the cheapest increments form a prefix in every coordinate. When
    ``floor(x)`` already lies in the bounds this is "round down, then hand the remaining
    units to the largest fractional parts". Ties go to the lower index, so the result is
    deterministic.

    Args:
        x: continuous allocation, shape ``(n,)``; entries outside ``[low, high]`` are allowed.
        total: the required sum (e.g. the number of bikes).
        low: smallest entry (integer).
        high: largest entry (integer, ``>= low``).

    Returns:
        int64 ``(n,)`` array with ``low <= y_i <= high`` and ``y.sum() == total``.

    Raises:
        InvalidActionError: ``x`` is not a finite 1-D numeric vector.
        ConstraintError: the bounds cannot hold ``total`` (``n * low <= total <= n * high``
            fails) or ``low > high``.

    Example:
        >>> integer_allocation([31.0, 29.5, 29.5], total=90, low=10, high=40).tolist()
        [31, 30, 29]
        >>> integer_allocation([45.0, 45.0, 0.0], total=90, low=10, high=40).tolist()
        [40, 40, 10]
    """
    values = _as_vector(x)
    n = values.shape[0]
    units = _units_to_hand_out(n, int(total), int(low), int(high))
    steps = np.arange(low, high, dtype=np.float64)
    costs = 2.0 * (steps[None, :] - values[:, None]) + 1.0  # (n, high - low)
    cheapest = np.argsort(costs, axis=None, kind="stable")[:units]
    counts = np.bincount(cheapest // max(high - low, 1), minlength=n)
    return (low + counts).astype(np.int64)


def _as_vector(x: ArrayLike) -> NDArray[np.float64]:
    """``x`` as a finite float64 vector, or an :class:`InvalidActionError`."""
    values = np.asarray(x)
    if values.dtype.kind not in "fiu" or values.ndim != 1 or values.shape[0] == 0:
        raise InvalidActionError(
            f"the allocation must be a non-empty 1-D numeric vector, got dtype {values.dtype} "
            f"and shape {values.shape}"
        )
    values = values.astype(np.float64)
    if not np.isfinite(values).all():
        raise InvalidActionError(
            f"the allocation contains NaN or inf: {values.tolist()}; check the policy output"
        )
    return values


def _units_to_hand_out(n: int, total: int, low: int, high: int) -> int:
    """How many unit increments lift ``y = low`` to ``total`` (validated)."""
    if low > high:
        raise ConstraintError(f"need low <= high, got low={low}, high={high}")
    if not n * low <= total <= n * high:
        raise ConstraintError(
            f"{n} entries in [{low}, {high}] sum to between {n * low} and {n * high}, so they "
            f"cannot sum to {total}; widen the bounds or change the total"
        )
    return total - n * low
