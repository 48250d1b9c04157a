"""Input checks shared by constraints and projectors (private).

The checks are cheap on purpose: they run on every call of ``violation`` and ``project``.
Finiteness is checked on the *result* of a computation (NaN and inf propagate through
every family's arithmetic), so the common, valid path pays for one check, and the
slower diagnosis of which input was bad only runs when something is wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from acrl_wrappers.errors import ConstraintError, InvalidActionError, InvalidObservationError

FloatArray = NDArray[np.float64]

_NUMERIC_KINDS = "fiu"


if hasattr(np, "vecdot"):  # numpy >= 2: a ufunc, several times cheaper on small rows

    def row_dot(a: FloatArray, b: FloatArray) -> FloatArray:
        """Row-wise dot products of ``(N, d)`` arrays: ``(N,)``."""
        return np.vecdot(a, b)

else:  # pragma: no cover - numpy 1.x

    def row_dot(a: FloatArray, b: FloatArray) -> FloatArray:
        """Row-wise dot products of ``(N, d)`` arrays: ``(N,)``."""
        return np.einsum("ij,ij->i", a, b)


def as_action_batch(actions: ArrayLike, dim: int) -> tuple[FloatArray, bool]:
    """Return ``actions`` as a float64 ``(N, dim)`` array and whether a single action was given.

    Raises:
        InvalidActionError: if the dtype is not numeric or the shape is neither
            ``(dim,)`` nor ``(N, dim)``.
    """
    arr = np.asarray(actions)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise InvalidActionError(
            f"actions must be a numeric array, got dtype {arr.dtype}; "
            "pass a float array such as np.asarray(action, dtype=np.float64)"
        )
    if arr.ndim == 1 and arr.shape[0] == dim:
        return arr.astype(np.float64, copy=False).reshape(1, dim), True
    if arr.ndim == 2 and arr.shape[1] == dim:
        return arr.astype(np.float64, copy=False), False
    raise InvalidActionError(
        f"actions must have shape ({dim},) or (N, {dim}) for this {dim}-D constraint, "
        f"got shape {arr.shape}; check the env's action_space matches the constraint"
    )


def as_single_action(arr: np.ndarray, dim: int) -> FloatArray:
    """Check a 1-D action array (the fast path for one action) and return it as float64.

    Raises:
        InvalidActionError: on a non-numeric dtype or a length other than ``dim``.
    """
    if arr.dtype.kind not in _NUMERIC_KINDS or arr.shape[0] != dim:
        as_action_batch(arr, dim)  # raises the detailed error
    return arr.astype(np.float64, copy=False)


def as_single_obs(obs: ArrayLike | None, min_dim: int) -> FloatArray | None:
    """Check one observation ``(k,)`` with ``k >= min_dim`` (``None`` when none is read).

    Raises:
        InvalidObservationError: as :func:`as_obs_batch`, or on a batch of observations.
    """
    if min_dim == 0:
        return None
    arr = np.asarray(obs) if obs is not None else None
    if (
        arr is None
        or arr.ndim != 1
        or arr.dtype.kind not in _NUMERIC_KINDS
        or arr.shape[0] < min_dim
    ):
        checked = as_obs_batch(obs, min_dim, 1)  # raises the detailed error
        assert checked is not None and arr is not None
        if checked.shape[0] != 1:
            raise InvalidObservationError(
                f"one action needs one observation of shape (k,), got shape {arr.shape}"
            )
        return checked[0]
    return arr.astype(np.float64, copy=False)


def as_obs_batch(obs: ArrayLike | None, min_dim: int, n: int) -> FloatArray | None:
    """Return ``obs`` as a float64 ``(1 or n, k)`` array with ``k >= min_dim``.

    ``None`` is accepted only when the constraint does not read the observation
    (``min_dim == 0``). A single observation ``(k,)`` broadcasts over a batch of actions.

    Raises:
        InvalidObservationError: on a missing, non-numeric, mis-shaped or too short
            observation.
    """
    if min_dim == 0:
        return None
    if obs is None:
        raise InvalidObservationError(
            "this constraint depends on the state: pass the observation, "
            f"an array of at least {min_dim} entries (shape (k,) or (N, k))"
        )
    arr = np.asarray(obs)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise InvalidObservationError(
            f"observations must be a numeric array, got dtype {arr.dtype}; "
            "flatten Dict observations before passing them"
        )
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    elif arr.ndim != 2 or arr.shape[0] not in (1, n):
        raise InvalidObservationError(
            f"observations must have shape (k,) or ({n}, k) to match {n} action(s), "
            f"got shape {np.shape(obs)}"
        )
    if arr.shape[1] < min_dim:
        raise InvalidObservationError(
            f"observation has {arr.shape[1]} entries but the constraint reads index "
            f"{min_dim - 1}; check the constraint's weight_index against the env's "
            "observation layout"
        )
    return arr.astype(np.float64, copy=False)


def raise_non_finite(actions: FloatArray, obs: FloatArray | None) -> None:
    """Raise the error that names which input holds NaN or inf (called after a NaN result)."""
    if not np.isfinite(actions).all():
        raise InvalidActionError(
            "action contains NaN or inf; the policy produced a non-finite output "
            "(check learning rates, observation normalisation, or reward scale)"
        )
    if obs is not None and not np.isfinite(obs).all():
        raise InvalidObservationError(
            "observation contains NaN or inf in the entries the constraint reads; "
            "the simulator state is non-finite or the observation is not normalised"
        )
    raise InvalidActionError(
        "the constraint value overflowed float64 for this action and observation; "
        "rescale actions or observations"
    )


def float_vector(value: Any, dim: int | None, name: str) -> FloatArray:
    """Broadcast a scalar or sequence parameter to a finite float64 vector of length ``dim``.

    Raises:
        ConstraintError: on a wrong length or a non-finite entry.
    """
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConstraintError(
            f"`{name}` must be a number or a list of numbers, got {value!r}"
        ) from exc
    if arr.ndim == 0:
        if dim is None:
            raise ConstraintError(f"`{name}` is a scalar, so pass `dim` to say the action size")
        arr = np.full(dim, float(arr))
    if arr.ndim != 1 or (dim is not None and arr.shape[0] != dim):
        raise ConstraintError(
            f"`{name}` must be a scalar or have length {dim}, got shape {arr.shape}"
        )
    if not np.isfinite(arr).all():
        raise ConstraintError(f"`{name}` must be finite, got {arr.tolist()}")
    return arr


def float_scalar(value: Any, name: str, *, minimum: float | None = None) -> float:
    """Check a finite scalar parameter, optionally with a lower bound.

    Raises:
        ConstraintError: on a non-number, a non-finite value or a value below ``minimum``.
    """
    try:
        out = float(value)
    except (TypeError, ValueError) as exc:
        raise ConstraintError(f"`{name}` must be a number, got {value!r}") from exc
    if not np.isfinite(out):
        raise ConstraintError(f"`{name}` must be finite, got {out}")
    if minimum is not None and out < minimum:
        raise ConstraintError(f"`{name}` must be >= {minimum}, got {out}")
    return out


def index_list(value: Any, name: str) -> list[int]:
    """Normalise an observation index given as a list, a ``range``, a slice or ``"11:17"``.

    Raises:
        ConstraintError: on negative, non-integer or malformed indices.
    """
    if isinstance(value, str):
        parts = value.split(":")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ConstraintError(
                f'`{name}` given as a string must look like "11:17" (start:stop), got {value!r}'
            )
        value = range(int(parts[0]), int(parts[1]))
    elif isinstance(value, slice):
        if value.start is None or value.stop is None:
            raise ConstraintError(f"`{name}` slice needs explicit start and stop, got {value!r}")
        value = range(value.start, value.stop, value.step or 1)
    if not isinstance(value, Sequence | range | np.ndarray):
        raise ConstraintError(f"`{name}` must be a list of observation indices, got {value!r}")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | np.integer) or item < 0:
            raise ConstraintError(
                f"`{name}` must hold non-negative integer observation indices, got {list(value)!r}"
            )
        out.append(int(item))
    if not out:
        raise ConstraintError(f"`{name}` must not be empty")
    return out


def index_selector(indices: list[int]) -> slice | list[int]:
    """Return a slice for contiguous ascending indices (fast to apply), else the list."""
    start = indices[0]
    if indices == list(range(start, start + len(indices))):
        return slice(start, start + len(indices))
    return indices


def compact(values: FloatArray) -> float | list[float]:
    """A scalar when every entry is equal, else the list (keeps specs short).

    Example:
        >>> compact(np.array([0.5, 0.5])), compact(np.array([0.0, 1.0]))
        (0.5, [0.0, 1.0])
    """
    return float(values[0]) if np.all(values == values[0]) else values.tolist()
