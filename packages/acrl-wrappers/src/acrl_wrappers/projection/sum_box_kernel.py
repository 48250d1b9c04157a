"""Compiled row-wise projection onto ``{x in [low, high] : sum x = total}`` (numba).

The same method as :func:`~acrl_wrappers.projection.batched.project_sum_box_batch`
(``x(nu) = clip(a - nu)``, ``S(nu)`` piecewise linear between the sorted breakpoints
``a_i - high_i`` and ``a_i - low_i``), as one loop over the rows; used by that function
where :func:`~acrl_wrappers.projection.compiled.kernels` finds numba.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

__all__ = ["project_sum_box"]


@numba.njit(cache=True, nogil=True)
def project_sum_box(a: Any, total: Any, low: Any, high: Any, out: Any) -> None:
    """Projections of the ``(N, d)`` rows of ``a`` into ``out``; bounds ``(N, d)``, totals ``(N,)``.

    Broadcast views (zero strides) are fine. Every row needs ``sum low <= total <= sum
    high`` (the caller checks).
    """
    rows, d = a.shape
    breaks = np.empty(2 * d)
    steps = np.empty(2 * d)
    for i in range(rows):
        s = 0.0
        for j in range(d):
            breaks[j], steps[j] = a[i, j] - high[i, j], -1.0
            breaks[d + j], steps[d + j] = a[i, j] - low[i, j], 1.0
            s += high[i, j]
        order = np.argsort(breaks)
        slope, nu = 0.0, breaks[order[0]]  # S(nu) = sum high left of every breakpoint
        for r in range(2 * d):
            b = breaks[order[r]]
            nxt = s + slope * (b - nu)  # S at this breakpoint
            if nxt <= total[i]:  # crossed on the piece before: interpolate
                if slope < 0.0:
                    nu = nu + (s - total[i]) / -slope
                break
            s, nu = nxt, b
            slope += steps[order[r]]
        else:
            nu = breaks[order[2 * d - 1]]
        for j in range(d):
            out[i, j] = min(max(a[i, j] - nu, low[i, j]), high[i, j])
