"""Public helpers for writing constraint families (built-in families use the same ones).

- :func:`infer_dim` — the action dimension from ``dim`` and vector-valued parameters.
- :func:`float_scalar`, :func:`float_vector`, :func:`index_list` — validate a parameter
  and raise :class:`~acrl_wrappers.ConstraintError` naming it.
- :func:`uniform_in_ball`, :func:`log_unit_ball_volume` — for better rejection proposals.
- ``FloatArray`` — the type of float64 arrays in signatures.

Everything listed here is public and stable (also importable from
:mod:`acrl_wrappers.constraints`); modules whose names start with ``_`` are not.

Example:
    >>> infer_dim(None, low=[-1.0, -1.0], high=1.0)
    2
    >>> infer_dim(None, center={"index": "17:23"})
    6
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from acrl_wrappers._arrays import FloatArray, float_scalar, float_vector, index_list
from acrl_wrappers.errors import ConstraintError

__all__ = [
    "FloatArray",
    "float_scalar",
    "float_vector",
    "index_list",
    "infer_dim",
    "log_unit_ball_volume",
    "uniform_in_ball",
]


def _size_of(name: str, value: Any) -> int | None:
    """The length a parameter gives the action, or ``None`` when it gives none."""
    if value is None:
        return None
    if isinstance(value, str | slice):
        return len(index_list(value, name))
    if isinstance(value, Mapping):  # a state-dependent parameter {"index": ..., ...}
        raw = value.get("index")
        if raw is None or (isinstance(raw, int | np.integer) and not isinstance(raw, bool)):
            return None if raw is None else 1
        return len(index_list(raw, f"{name}.index"))
    shape = np.shape(value)
    if len(shape) >= 1:
        return int(shape[-1] if name in ("A", "Q") else shape[0])
    return None


def infer_dim(dim: int | None, **candidates: Any) -> int:
    """Infer the action dimension from ``dim`` and vector-valued parameters.

    Each candidate that is a sequence, an index string (``"11:17"``) or a
    state-dependent parameter ``{"index": ...}`` contributes its length; all must agree.

    Raises:
        ConstraintError: when nothing gives the dimension or two sources disagree.

    Example:
        >>> infer_dim(3, weights=[1.0, 2.0, 3.0])
        3
    """
    sizes: dict[str, int] = {}
    if dim is not None:
        if isinstance(dim, bool) or not isinstance(dim, int | np.integer) or dim < 1:
            raise ConstraintError(f"`dim` must be a positive integer, got {dim!r}")
        sizes["dim"] = int(dim)
    for name, value in candidates.items():
        size = _size_of(name, value)
        if size is not None:
            sizes[name] = size
    if not sizes:
        raise ConstraintError(
            "cannot tell the action dimension: pass `dim` or a vector-valued parameter"
        )
    if len(set(sizes.values())) > 1:
        detail = ", ".join(f"{k}={v}" for k, v in sizes.items())
        raise ConstraintError(f"parameters disagree on the action dimension: {detail}")
    return next(iter(sizes.values()))


def uniform_in_ball(rng: np.random.Generator, n: int, dim: int) -> FloatArray:
    """``n`` points uniform in the unit ball of ``R^dim``.

    Example:
        >>> points = uniform_in_ball(np.random.default_rng(0), 5, 3)
        >>> bool((np.linalg.norm(points, axis=1) <= 1).all())
        True
    """
    direction = rng.standard_normal((n, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    return direction * rng.uniform(size=(n, 1)) ** (1.0 / dim)


def log_unit_ball_volume(dim: int) -> float:
    """Log-volume of the unit ball of ``R^dim``.

    Example:
        >>> round(math.exp(log_unit_ball_volume(2)), 6)  # pi
        3.141593
    """
    return dim / 2 * math.log(math.pi) - math.lgamma(dim / 2 + 1)
