"""Statistics across seeds: IQM and stratified-bootstrap confidence intervals, via rliable.

rliable (Agarwal et al., "Deep RL at the Edge of the Statistical Precipice", NeurIPS 2021)
is the library the field uses for this: the interquartile mean (25 % trimmed from each
end) as the point estimate, and a percentile confidence interval from its stratified
bootstrap, which resamples runs within each stratum. Here a stratum is one metric of one
(task, method) cell, so each interval resamples that cell's seeds.

- :class:`Estimate` — n, mean, std, IQM and the 95 % interval of one cell;
- :func:`estimate_cells` — estimates for several metrics of one cell, in one bootstrap.

With fewer than 4 seeds the IQM trims nothing and equals the mean, and an interval over
2–3 seeds is coarse (it has only a handful of distinct resamples); one seed has no
interval. The bootstrap is seeded, so a report rewritten from the same results is the same.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

__all__ = ["CONFIDENCE", "REPS", "Estimate", "estimate_cells", "iqm_by_column", "library_version"]

REPS = 5_000
"""Bootstrap resamples (rliable's default of 50,000 is for hundreds of runs; a few seeds
have far fewer distinct resamples than this)."""
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    """One metric of one (task, method) cell across its seeds.

    Attributes:
        n: seeds with a value.
        mean: their mean.
        std: their standard deviation (population, as the tables' ± shows).
        iqm: their interquartile mean.
        low: lower end of the 95 % stratified-bootstrap interval of the IQM (``None`` for
            one seed).
        high: upper end (``None`` for one seed).
    """

    n: int
    mean: float
    std: float
    iqm: float
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain data for ``summary.json``."""
        return asdict(self)


def library_version() -> str:
    """The installed rliable version (for the report)."""
    from importlib import metadata

    return metadata.version("rliable")


def iqm_by_column(matrix: np.ndarray) -> np.ndarray:
    """The IQM of each column: rliable's ``aggregate_iqm``, vectorised for the bootstrap.

    The same statistic as ``scipy.stats.trim_mean(column, 0.25)``: sort, drop
    ``int(0.25 n)`` values from each end, average the rest; about 30x faster here than a
    loop over rliable's function, which goes through scipy's per-call argument handling.

    Example:
        >>> from rliable import metrics
        >>> m = np.array([[1.0, 5.0], [2.0, 1.0], [3.0, 2.0], [10.0, 2.0]])
        >>> bool(np.allclose(iqm_by_column(m), [metrics.aggregate_iqm(m[:, j]) for j in (0, 1)]))
        True
    """
    n = matrix.shape[0]
    cut = int(0.25 * n)
    return np.sort(matrix, axis=0)[cut : n - cut].mean(axis=0)


def _bootstrap(columns: dict[str, np.ndarray], seed: int) -> dict[str, tuple[float, float]]:
    """The IQM interval of each column with the same number of values, in one rliable call."""
    from rliable import library

    names = list(columns)
    scores = np.stack([columns[name] for name in names], axis=1)  # (seeds, metrics)
    saved = np.random.get_state()  # noqa: NPY002 (rliable uses the legacy global state)
    # rliable 1.2's StratifiedBootstrap draws its resamples from numpy's global generator
    # (np.random.choice), not from random_state: seed that one, and put it back after
    np.random.seed(seed)  # noqa: NPY002
    try:
        with warnings.catch_warnings():  # arch's notice about its random_state keyword
            warnings.simplefilter("ignore", FutureWarning)
            _, intervals = library.get_interval_estimates(
                {"cell": scores},
                iqm_by_column,
                reps=REPS,
                confidence_interval_size=CONFIDENCE,
                random_state=np.random.RandomState(seed),
            )
    finally:
        np.random.set_state(saved)  # noqa: NPY002
    low, high = intervals["cell"]
    return {name: (float(low[j]), float(high[j])) for j, name in enumerate(names)}


def estimate_cells(
    values: Mapping[str, Sequence[float | None]], *, seed: int = 0
) -> dict[str, Estimate]:
    """IQM, mean, std and a 95 % interval for each metric's per-seed values.

    ``None`` values (a metric a run does not have) are left out; metrics with no value get
    no estimate. Metrics with the same number of values share one bootstrap.

    Example:
        >>> cells = estimate_cells({"return": [1.0, 2.0, 3.0, 10.0], "cost": [None, None]})
        >>> e = cells["return"]
        >>> e.n, e.mean, e.iqm, e.low <= e.iqm <= e.high, "cost" in cells
        (4, 4.0, 2.5, True, False)
    """
    clean = {
        name: np.array([v for v in seq if v is not None], dtype=float)
        for name, seq in values.items()
    }
    clean = {name: array for name, array in clean.items() if array.size}
    by_size: dict[int, dict[str, np.ndarray]] = {}
    for name, array in clean.items():
        by_size.setdefault(array.size, {})[name] = array
    intervals: dict[str, tuple[float, float]] = {}
    for size, group in by_size.items():
        if size > 1:
            intervals.update(_bootstrap(group, seed))
    return {name: _estimate(array, intervals.get(name)) for name, array in clean.items()}


def _estimate(array: np.ndarray, interval: tuple[float, float] | None) -> Estimate:
    from rliable import metrics

    iqm = float(metrics.aggregate_iqm(array))
    low, high = interval if interval is not None else (None, None)
    return Estimate(int(array.size), float(array.mean()), float(array.std()), iqm, low, high)
