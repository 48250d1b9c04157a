"""The :class:`Constraint` interface every constraint family implements.

A constraint is a state-dependent feasible set ``C(s) = {a in box : g_j(a, s) <= 0}``
in the env's own action units. The action box ``low <= a <= high`` is always part of
the set. Families implement :meth:`Constraint.rows` (the ``g_j``, vectorised); the base
class turns them into :meth:`~Constraint.violation`, :meth:`~Constraint.contains`,
:meth:`~Constraint.sample`, a JSON-able :attr:`~Constraint.spec` and
:meth:`~Constraint.safe_action`. Optional structure that projectors use:
:meth:`~Constraint.project_closed_form` and :meth:`~Constraint.qp_form`.
"""

from __future__ import annotations

import abc
import json
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike

from acrl_wrappers._arrays import (
    FloatArray,
    as_action_batch,
    as_obs_batch,
    as_single_action,
    as_single_obs,
    compact,
    float_scalar,
    float_vector,
    raise_non_finite,
)
from acrl_wrappers.constraints.helpers import infer_dim, log_unit_ball_volume, uniform_in_ball
from acrl_wrappers.constraints.sampling import rejection_sample
from acrl_wrappers.constraints.specs import resolve_spec
from acrl_wrappers.constraints.state import StateParameter, StateWeights
from acrl_wrappers.errors import ConstraintError, EmptyFeasibleSetError

if TYPE_CHECKING:
    from acrl_wrappers.projection.qp import QPForm

__all__ = [
    "DEFAULT_TOL",
    "Constraint",
    "StateParameter",
    "StateWeights",
    "constraint_from_spec",
    "infer_dim",
    "log_unit_ball_volume",
    "uniform_in_ball",
]
# Public: everything in __all__ (also exported by acrl_wrappers.constraints).
# Internal: every name with a leading underscore, and the modules sampling (the rejection
# loop behind Constraint.sample) and specs (the resolver acrl_wrappers.factories sets).

DEFAULT_TOL = 1e-6
"""Default feasibility tolerance on the violation (sum of positive parts)."""


class Constraint(abc.ABC):
    """A state-dependent feasible set of actions, ``{a in [low, high] : g_j(a, s) <= 0}``.

    Subclasses set :attr:`family` (the registry name used in specs), implement
    :meth:`rows` and :meth:`_params`, and may add structure: a closed-form projection
    (:meth:`project_closed_form`), a QP form (:meth:`qp_form`) and a better proposal
    for :meth:`sample` (:meth:`_propose`).

    Args:
        dim: action dimension.
        low: lower action bound (scalar or length ``dim``), part of the set.
        high: upper action bound (scalar or length ``dim``), part of the set.
        tol: feasibility tolerance: :meth:`contains` is ``violation <= tol``.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("power", bound=1.0, dim=2)
        >>> float(c.violation([0.9, 0.6])), bool(c.contains([0.5, 0.5]))
        (0.5, True)
    """

    family: ClassVar[str] = ""
    """Name of the family in the constraint registry and in specs."""
    convex: bool = True
    """Whether the feasible set is convex for every state (projection is then unique)."""

    def __init__(self, *, dim: int, low: Any = -1.0, high: Any = 1.0, tol: float = DEFAULT_TOL):
        self.dim = int(dim)
        self.low = float_vector(low, self.dim, "low")
        self.high = float_vector(high, self.dim, "high")
        bad = np.flatnonzero(self.low > self.high)
        if bad.size:
            raise EmptyFeasibleSetError(
                f"action box is empty: low > high at index {bad.tolist()} "
                f"(low={self.low.tolist()}, high={self.high.tolist()})"
            )
        self.tol = float_scalar(tol, "tol", minimum=0.0)
        self._low_list: list[float] = self.low.tolist()
        self._high_list: list[float] = self.high.tolist()
        uniform = np.all(self.low == self.low[0]) and np.all(self.high == self.high[0])
        self._uniform_box = (self._low_list[0], self._high_list[0]) if uniform else None
        self.obs_dim = 0
        """Highest observation index the constraint reads + 1 (0 when state-independent)."""
        self._obs_indices: list[int] | None = None
        self._hooks: dict[str, list[int]] = {}
        self._rows_in_box = False
        """Families set it when every action whose rows are all <= 0 lies in the box (the set
        without the box is inside it): the batched violation then skips the box test."""

    def _reads(self, *sources: StateParameter | StateWeights | None) -> None:
        """Set :attr:`obs_dim`, :attr:`obs_indices` and :attr:`hook_parameters` from sources.

        Families call it at the end of ``__init__`` with every parameter that may read
        the observation (``None`` and constant parameters are skipped).
        """
        indices = {i for s in sources if s is not None and s.index for i in s.index}
        self.obs_dim = max(indices) + 1 if indices else 0
        self._obs_indices = sorted(indices)
        for s in sources:
            hook = getattr(s, "hook", None)
            if hook is not None and s is not None and s.index:
                known = self._hooks.setdefault(hook, list(s.index))
                if known != list(s.index):
                    raise ConstraintError(
                        f"hook {hook!r} is read at obs{known} and at obs{list(s.index)}; "
                        "give every parameter that reads it the same index"
                    )

    @property
    def hook_parameters(self) -> dict[str, list[int]]:
        """Values the env supplies through its hook: name -> observation indices they occupy.

        Empty unless a parameter was given as ``{"index": ..., "hook": name}``; see
        :class:`~acrl_wrappers.ObserveParameters`.

        Example:
            >>> import acrl_wrappers as acrl
            >>> c = acrl.make_constraint("ball", radius={"index": 4, "hook": "reach"}, dim=2)
            >>> c.hook_parameters, c.obs_dim
            ({'reach': [4]}, 5)
        """
        return {k: list(v) for k, v in self._hooks.items()}

    @property
    def obs_indices(self) -> list[int]:
        """The observation entries the constraint reads, sorted (``[]`` when state-independent).

        Flows condition on exactly these entries. Families that read a subset of
        ``obs[:obs_dim]`` say which; otherwise every entry below :attr:`obs_dim` counts.

        Example:
            >>> import acrl_wrappers as acrl
            >>> acrl.make_constraint("power", bound=20.0, weight_index="11:17").obs_indices
            [11, 12, 13, 14, 15, 16]
        """
        if self._obs_indices is not None:
            return list(self._obs_indices)
        return list(range(self.obs_dim))

    # ------------------------------------------------------------------ family interface
    def rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Constraint rows ``g_j(a, s)`` (feasible where every row is <= 0), box excluded.

        Args:
            actions: float64 ``(N, dim)`` actions.
            obs: float64 ``(N, k)`` or ``(1, k)`` observations, ``None`` when
                :attr:`obs_dim` is 0.

        Returns:
            float64 ``(N, m)``; the base class has no rows (``m = 0``).
        """
        return np.zeros((actions.shape[0], 0))

    def _rows_one(self, action: list[float], obs: FloatArray | None) -> Sequence[float]:
        """:meth:`rows` for one action (a list of floats) and one ``(k,)`` observation.

        The default goes through :meth:`rows`; families override it with plain-Python
        arithmetic, which is several times faster than numpy for one small action.
        """
        o = None if obs is None else obs.reshape(1, -1)
        return self.rows(np.array([action]), o)[0].tolist()

    @abc.abstractmethod
    def _params(self) -> dict[str, Any]:
        """The family's own JSON-able parameters (``dim``, ``low``, ``high``, ``tol`` excluded)."""

    def project_closed_form(self, action: FloatArray, obs: FloatArray | None) -> FloatArray | None:
        """Exact Euclidean projection of one ``(dim,)`` action, or ``None`` if not available.

        ``obs`` is a float64 ``(k,)`` array (``None`` when state-independent). Families
        with :attr:`has_closed_form` return a value for every input; others may return a
        value for some inputs (a fast path) and ``None`` for the rest.
        """
        return None

    @property
    def has_closed_form(self) -> bool:
        """Whether :meth:`project_closed_form` answers every input."""
        return False

    def project_closed_form_batch(self, actions: FloatArray, obs: FloatArray | None) -> Any:
        """Exact projections of float64 ``(N, dim)`` actions (``(N, k)`` or ``(1, k)`` obs).

        Optional: vectorised closed forms (box, round ball, simplices, PSD) return the
        ``(N, dim)`` projections in one numpy pass, which the batched projection and the
        vector-env wrappers use; the default ``None`` makes callers project row by row.
        """
        return None

    def qp_form(self) -> QPForm | None:
        """The set as linear rows over the action and auxiliary variables, or ``None``."""
        return None

    def _propose(self, obs: FloatArray | None, n: int, rng: np.random.Generator) -> FloatArray:
        """Candidates for rejection sampling: uniform on a region containing the set.

        The default is the action box; families override it when a tighter region
        (a ball, a cross-polytope) has a higher acceptance rate.
        """
        return rng.uniform(self.low, self.high, size=(n, self.dim))

    @property
    def _log_box_volume(self) -> float:
        return float(np.log(np.maximum(self.high - self.low, 1e-300)).sum())

    # ------------------------------------------------------------------ public API
    def violation(self, actions: ArrayLike, obs: ArrayLike | None = None) -> Any:
        """How far actions are outside the set: the sum of the positive parts of every row.

        Exactly 0 inside the set (box included), positive outside.

        Args:
            actions: one action ``(dim,)`` or a batch ``(N, dim)``.
            obs: the observation ``(k,)``, or a batch ``(N, k)`` matching the actions;
                a single observation broadcasts over a batch of actions. Ignored by
                state-independent constraints.

        Returns:
            a float (single action) or float64 ``(N,)`` array.

        Raises:
            InvalidActionError: wrong shape or dtype, NaN or inf in the action.
            InvalidObservationError: missing, too short or non-finite observation.
        """
        arr = np.asarray(actions)
        if arr.ndim == 1:
            return self._violation_single(
                as_single_action(arr, self.dim), as_single_obs(obs, self.obs_dim)
            )
        a, _ = as_action_batch(arr, self.dim)
        o = as_obs_batch(obs, self.obs_dim, a.shape[0])
        out = self._violation(a, o)
        if not np.isfinite(out).all():
            raise_non_finite(a, o)
        return out

    def contains(self, actions: ArrayLike, obs: ArrayLike | None = None) -> Any:
        """Whether ``violation(actions, obs) <= tol``: a bool, or a bool ``(N,)`` array."""
        return self.violation(actions, obs) <= self.tol

    def _violation_single(self, action: FloatArray, obs: FloatArray | None) -> float:
        """Violation of one validated ``(dim,)`` action (plain-Python fast path).

        Raises:
            InvalidActionError, InvalidObservationError: on NaN or inf.
        """
        return self._violation_values(action.tolist(), obs)

    def _violation_values(self, values: list[float], obs: FloatArray | None) -> float:
        """Violation of one action given as a list of floats (the hot path of every wrapper)."""
        rows = self._rows_one(values, obs)
        if not math.isfinite(sum(values) + sum(rows)):
            raise_non_finite(np.array([values]), None if obs is None else obs.reshape(1, -1))
        total = 0.0
        if self._uniform_box is None or not (
            self._uniform_box[0] <= min(values) and max(values) <= self._uniform_box[1]
        ):
            for x, lo, hi in zip(values, self._low_list, self._high_list, strict=False):
                if x > hi:
                    total += x - hi
                elif x < lo:
                    total += lo - x
        for r in rows:
            if r > 0.0:
                total += r
        return total

    def _accepts_values(self, values: list[float], obs: FloatArray | None) -> bool:
        """Whether one action (a list of floats) is within ``tol``: how projections are checked.

        Families may first try a cheaper sufficient test (a certificate); ``True`` must mean
        ``violation <= tol``. Raises as :meth:`_violation_values` does.
        """
        return self._violation_values(values, obs) <= self.tol

    def _accepts(self, actions: FloatArray, obs: FloatArray | None) -> bool:
        """Whether every row of validated float64 ``(N, dim)`` actions is within ``tol``."""
        return bool(self._violation(actions, obs).max(initial=0.0) <= self.tol)  # NaN: False

    def _violation(self, a: FloatArray, obs: FloatArray | None) -> FloatArray:
        """Violation of validated float64 batches (no checks; used on hot paths).

        Never negative; NaN or inf in the input gives a non-finite result.
        """
        rows = self.rows(a, obs)
        if self._rows_in_box and rows.max(initial=0.0) <= 0.0:  # all inside (False for NaN)
            return np.zeros(a.shape[0])
        box = self._uniform_box
        if box is not None and a.size and box[0] <= a.min() and a.max() <= box[1]:
            # every action inside a uniform box (the common case): only the rows count
            if rows.shape[1] == 1:
                return np.maximum(rows[:, 0], 0.0)
            return np.maximum(rows, 0.0).sum(axis=1) if rows.shape[1] else np.zeros(a.shape[0])
        total = np.maximum(a - self.high, 0.0).sum(axis=1)
        total += np.maximum(self.low - a, 0.0).sum(axis=1)
        if rows.shape[1]:
            total += np.maximum(rows, 0.0).sum(axis=1)
        return total

    def sample(
        self,
        obs: ArrayLike | None = None,
        n: int = 1,
        rng: np.random.Generator | int | None = None,
    ) -> FloatArray:
        """Draw ``n`` feasible actions for one observation, uniformly by rejection.

        Args:
            obs: the observation ``(k,)`` (ignored when state-independent).
            n: number of actions.
            rng: a ``numpy.random.Generator`` or a seed; the same seed gives the same draws.

        Returns:
            float64 ``(n, dim)`` actions, each with zero violation (at most 1e-12 of
            rounding on sets without interior, such as a zero-width band).

        Raises:
            SamplingError: if fewer than ``n`` of 2,000,000 candidates were feasible.
        """
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 0:
            raise ConstraintError(f"`n` must be a non-negative integer, got {n!r}")
        gen = np.random.default_rng(rng)
        o = as_obs_batch(obs, self.obs_dim, 1)
        if o is not None and o.shape[0] != 1:
            raise ConstraintError("sample() takes one observation of shape (k,)")
        if o is not None and not np.isfinite(o).all():
            raise_non_finite(np.zeros((1, self.dim)), o)
        return rejection_sample(self, o, int(n), gen)

    def safe_action(self, obs: ArrayLike | None = None) -> FloatArray:
        """A feasible action to fall back on: the box point nearest zero if feasible, else a sample.

        Raises:
            SamplingError: if no feasible action can be found.
        """
        o = as_obs_batch(obs, self.obs_dim, 1)
        candidate = np.clip(np.zeros(self.dim), self.low, self.high)
        if self._violation(candidate.reshape(1, -1), o)[0] == 0.0:
            return candidate
        return self.sample(obs, 1, rng=0)[0]

    # ------------------------------------------------------------------ specs
    @property
    def spec(self) -> dict[str, Any]:
        """A JSON-able dict ``{"name": family, **params}`` that rebuilds this constraint.

        Example:
            >>> import acrl_wrappers as acrl
            >>> acrl.make_constraint("ball", bound=0.05, dim=2).spec
            {'name': 'ball', 'dim': 2, 'bound': 0.05, 'low': -1.0, 'high': 1.0}
        """
        out: dict[str, Any] = {"name": self.family, "dim": self.dim}
        out.update(self._params())
        out["low"] = compact(self.low)
        out["high"] = compact(self.high)
        if self.tol != DEFAULT_TOL:
            out["tol"] = self.tol
        return out

    @classmethod
    def from_spec(cls, spec: Mapping[str, Any] | str) -> Constraint:
        """Rebuild a constraint from :attr:`spec` (a dict or its JSON string).

        Families of installed plugins are found through the registry.

        Example:
            >>> import acrl_wrappers as acrl
            >>> c = acrl.make_constraint("sum-band", target=0.5, width=0.1, dim=3)
            >>> acrl.Constraint.from_spec(c.spec) == c
            True
        """
        parsed = json.loads(spec) if isinstance(spec, str) else spec
        return constraint_from_spec(dict(parsed))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Constraint) and self.spec == other.spec

    def __hash__(self) -> int:
        return hash(json.dumps(self.spec, sort_keys=True))

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.spec.items() if k != "name")
        return f"{type(self).__name__}({params})"


def constraint_from_spec(value: Any) -> Constraint:
    """``value`` if it is a :class:`Constraint`, else the constraint its name or spec builds.

    Example:
        >>> import acrl_wrappers as acrl
        >>> constraint_from_spec({"name": "ball", "bound": 0.5, "dim": 2}).family
        'ball'
    """
    return value if isinstance(value, Constraint) else resolve_spec(value)
