"""Conformance kit for authors of constraint families and projectors.

Run every check on a constraint with one call::

    >>> import acrl_wrappers as acrl
    >>> from acrl_wrappers.testing import check_constraint
    >>> check_constraint(acrl.make_constraint("power", bound=2.0, weight_index="0:3"))

or inherit a pytest suite with one test per property (plugin tests do this)::

    from acrl_wrappers.testing import ConstraintConformance

    class TestMyCone(ConstraintConformance):
        def make_constraint(self):
            return MyConeConstraint(slope=0.5)

Checked properties, each on several random states:

- ``dim``, ``obs_dim`` and ``obs_indices`` are consistent and ``rows`` returns one finite
  row per action (a family that forgets ``obs_dim`` is told so, with the fix);
- the violation is 0 on feasible samples (up to 1e-12 of rounding on sets without
  interior) and ``contains`` agrees;
- it is positive outside the box and on infeasible random actions, never negative;
- batched and single calls agree;
- the projection is feasible within ``tol``, leaves feasible actions unchanged, and
  is no farther than any feasible sample;
- the spec is JSON, round-trips through :func:`acrl_wrappers.make_constraint` and
  pickling preserves the constraint;
- sampling and projection are deterministic under a seed;
- bad input (NaN, wrong shape, short observation) raises acrl's errors.

A failed check raises :class:`ConformanceError` (an ``AssertionError``) saying which
property failed and on what input.

For wrapper and algorithm tests, :class:`ActionProbe` sits between an enforcement
wrapper and the simulator and records every action that actually reaches the simulator,
so a test asserts on what was executed rather than on what a wrapper reports.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import InvalidActionError, InvalidObservationError
from acrl_wrappers.factories import make_constraint, make_projector
from acrl_wrappers.projection.base import Projector

__all__ = [
    "ActionProbe",
    "ConformanceError",
    "ConstraintConformance",
    "check_bad_input",
    "check_batch_agrees",
    "check_constraint",
    "check_determinism",
    "check_projection",
    "check_spec_round_trip",
    "check_structure",
    "check_violation_inside",
    "check_violation_outside",
    "gaussian_observations",
]

ObsSampler = Callable[[np.random.Generator], "np.ndarray | None"]


class ConformanceError(AssertionError):
    """A constraint or projector broke a property the rest of acrl relies on."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


def gaussian_observations(constraint: Constraint, std: float = 5.0) -> ObsSampler:
    """A sampler of observations ``N(0, std^2)`` of the length the constraint reads."""

    def sample(rng: np.random.Generator) -> np.ndarray | None:
        if constraint.obs_dim == 0:
            return None
        return rng.normal(0.0, std, size=constraint.obs_dim)

    return sample


def check_structure(c: Constraint, sample_obs: ObsSampler | None = None, seed: int = 0) -> None:
    """``obs_dim``, ``obs_indices`` and :meth:`Constraint.rows` have the shapes acrl relies on.

    Each authoring mistake is reported as a sentence with its fix (a family that reads
    the observation but leaves ``obs_dim`` at 0 gets ``obs=None``; ``rows`` must return
    one row per action).
    """
    name = type(c).__name__
    dim = getattr(c, "dim", None)
    _require(
        isinstance(dim, int) and dim >= 1,
        f"{name}.dim is {dim!r}: pass dim= (the action size) to Constraint.__init__",
    )
    obs_dim = getattr(c, "obs_dim", None)
    _require(
        isinstance(obs_dim, int) and obs_dim >= 0,
        f"{name}.obs_dim is {obs_dim!r}: set it to the highest observation index the family "
        "reads + 1 (0 when it reads none) after calling Constraint.__init__",
    )
    bad = [i for i in c.obs_indices if not 0 <= i < obs_dim]
    _require(
        not bad,
        f"{name}.obs_indices {c.obs_indices} lie outside obs[:{obs_dim}]: obs_dim must be the "
        "highest index read + 1",
    )
    rng = np.random.default_rng(seed)
    obs = (sample_obs or gaussian_observations(c))(rng)
    actions = rng.uniform(c.low, c.high, size=(4, dim))
    batch = None if obs is None else np.tile(np.asarray(obs, np.float64), (4, 1))
    try:
        rows = c.rows(actions, batch)
    except Exception as exc:
        hint = (
            " The family seems to read the observation but obs_dim is 0, so it was given "
            "obs=None: set self.obs_dim = highest index read + 1 in __init__ (as built-in "
            "families do)."
            if obs_dim == 0 and isinstance(exc, TypeError | IndexError | AttributeError)
            else ""
        )
        raise ConformanceError(
            f"{name}.rows() raised {type(exc).__name__}: {exc} for actions of shape (4, {dim}) "
            f"and observations {None if batch is None else batch.shape}.{hint}"
        ) from exc
    shape = getattr(rows, "shape", None)
    _require(
        isinstance(rows, np.ndarray) and rows.ndim == 2 and rows.shape[0] == 4,
        f"{name}.rows() returned {type(rows).__name__} of shape {shape} for 4 actions: it must "
        "return a float64 array (N, m), one row per action (stack per-constraint columns with "
        "axis=1)",
    )
    _require(
        bool(np.isfinite(rows).all()),
        f"{name}.rows() returned NaN or inf for finite actions and observations: {rows.tolist()}",
    )


def check_spec_round_trip(c: Constraint) -> None:
    """The spec is JSON-able and rebuilds an equal constraint; pickling preserves it."""
    text = json.dumps(c.spec)
    rebuilt = make_constraint(json.loads(text))
    _require(rebuilt.spec == c.spec, f"spec does not round-trip: {c.spec} -> {rebuilt.spec}")
    _require(
        type(rebuilt) is type(c), f"spec rebuilt {type(rebuilt).__name__}, not {type(c).__name__}"
    )
    copy = pickle.loads(pickle.dumps(c))
    _require(copy == c, "pickling changed the constraint (needed for SubprocVecEnv)")


def check_violation_inside(c: Constraint, obs: np.ndarray | None, n: int, seed: int) -> None:
    """Feasible samples have violation exactly 0 and are contained."""
    samples = c.sample(obs, n, rng=seed)
    _require(
        samples.shape == (n, c.dim), f"sample() returned shape {samples.shape}, not {(n, c.dim)}"
    )
    v = c.violation(samples, obs)
    _require(bool(np.all(v <= 1e-12)), f"violation is not 0 on feasible samples: max {v.max()}")
    _require(bool(np.all(c.contains(samples, obs))), "contains() is False on a feasible sample")


def check_violation_outside(c: Constraint, obs: np.ndarray | None, n: int, seed: int) -> None:
    """Outside the box the violation is positive; it is never negative; contains agrees."""
    rng = np.random.default_rng(seed)
    span = c.high - c.low
    outside = rng.uniform(c.high + 0.01 + span * 0.01, c.high + 1.0 + span, size=(n, c.dim))
    v_out = c.violation(outside, obs)
    _require(bool(np.all(v_out > 0.0)), "violation is 0 for an action outside the box")
    _require(not np.any(c.contains(outside, obs)), "contains() is True outside the box")
    uniform = rng.uniform(c.low - 0.5 * span, c.high + 0.5 * span, size=(n, c.dim))
    v = c.violation(uniform, obs)
    _require(bool(np.all(v >= 0.0)), f"negative violation {v.min()}")
    _require(
        bool(np.array_equal(c.contains(uniform, obs), v <= c.tol)),
        "contains() != (violation <= tol)",
    )


def check_batch_agrees(c: Constraint, obs: np.ndarray | None, n: int, seed: int) -> None:
    """Batched violations equal single-action ones (and with one obs per action)."""
    rng = np.random.default_rng(seed)
    span = c.high - c.low
    actions = rng.uniform(c.low - 0.2 * span, c.high + 0.2 * span, size=(n, c.dim))
    actions[: n // 2] = c.sample(obs, n // 2, rng=seed)
    batched = c.violation(actions, obs)
    single = np.array([c.violation(a, obs) for a in actions])
    _require(
        bool(np.allclose(batched, single, rtol=1e-9, atol=1e-12)),
        f"batched and single violations differ by up to {np.abs(batched - single).max()}",
    )
    _require(
        bool(np.array_equal(batched == 0.0, single == 0.0)), "batched and single disagree on 0"
    )
    if obs is not None:
        per_row = c.violation(actions, np.tile(obs, (n, 1)))
        _require(
            bool(np.allclose(per_row, batched, rtol=1e-12, atol=1e-12)),
            "one observation per action differs from one broadcast observation",
        )


def check_projection(
    c: Constraint, obs: np.ndarray | None, n: int, seed: int, projector: Projector | None = None
) -> None:
    """Projections are feasible, idempotent on feasible points, and nearest among samples."""
    rng = np.random.default_rng(seed)
    projector = projector or make_projector(c)
    span = c.high - c.low
    actions = rng.uniform(c.low - 0.3 * span, c.high + 0.3 * span, size=(n, c.dim))
    samples = c.sample(obs, 400, rng=seed + 1)
    for a in actions:
        x, info = projector.project(a, obs)
        v = c.violation(x, obs)
        _require(v <= c.tol, f"projection of {a.tolist()} has violation {v} > tol {c.tol}")
        nearest_sample = float(np.linalg.norm(samples - a, axis=1).min())
        _require(
            info.distance <= nearest_sample + 1e-6,
            f"projection of {a.tolist()} is {info.distance:.6g} away but a feasible sample is "
            f"{nearest_sample:.6g} away: not the nearest feasible point",
        )
        _require(abs(info.distance - float(np.linalg.norm(x - a))) < 1e-9, "info.distance is wrong")
    for s in samples[:20]:
        x, info = projector.project(s, obs)
        _require(not info.projected and np.array_equal(x, s), "a feasible action was moved")


def check_determinism(c: Constraint, obs: np.ndarray | None, seed: int) -> None:
    """Same seed, same samples; same input, same projection."""
    _require(
        np.array_equal(c.sample(obs, 20, rng=seed), c.sample(obs, 20, rng=seed)),
        "sample() with the same seed gave different actions",
    )
    a = np.asarray(c.high + 0.5 * (c.high - c.low))
    first, _ = make_projector(c).project(a, obs)
    second, _ = make_projector(c).project(a, obs)
    _require(
        np.array_equal(first, second), "projecting the same input twice gave different actions"
    )


def check_bad_input(c: Constraint, obs: np.ndarray | None) -> None:
    """NaN actions, wrong shapes and short observations raise acrl's errors."""
    good = c.sample(obs, 1, rng=0)[0]
    cases: list[tuple[str, Callable[[], object], type[Exception]]] = [
        ("NaN action", lambda: c.violation(np.full(c.dim, np.nan), obs), InvalidActionError),
        ("wrong action shape", lambda: c.violation(np.zeros(c.dim + 1), obs), InvalidActionError),
        ("string action", lambda: c.violation(np.array(["a"] * c.dim), obs), InvalidActionError),
    ]
    if c.obs_dim:
        short = np.zeros(c.obs_dim - 1)
        nan_obs = np.full(c.obs_dim, np.nan)
        cases += [
            ("short observation", lambda: c.violation(good, short), InvalidObservationError),
            ("missing observation", lambda: c.violation(good, None), InvalidObservationError),
            ("NaN observation", lambda: c.violation(good, nan_obs), InvalidObservationError),
        ]
    for label, call, error in cases:
        try:
            call()
        except error:
            continue
        except Exception as exc:
            raise ConformanceError(
                f"{label}: raised {type(exc).__name__}, not {error.__name__}"
            ) from exc
        raise ConformanceError(f"{label}: no error raised (expected {error.__name__})")


def check_constraint(
    constraint: Constraint,
    *,
    sample_obs: ObsSampler | None = None,
    n_states: int = 5,
    n_actions: int = 100,
    seed: int = 0,
    projector: Projector | None = None,
) -> None:
    """Run every check on ``constraint`` over ``n_states`` random states.

    Args:
        constraint: the constraint to check.
        sample_obs: ``rng -> observation`` for state-dependent constraints (default
            :func:`gaussian_observations`); return ``None`` if none is needed.
        n_states: states to test.
        n_actions: random actions per state and check.
        seed: seed of every random draw.
        projector: a projector to check instead of ``acrl.make_projector(constraint)``.

    Raises:
        ConformanceError: naming the first property that failed.
    """
    c = constraint
    sampler = sample_obs or gaussian_observations(c)
    rng = np.random.default_rng(seed)
    check_structure(c, sampler, seed)
    check_spec_round_trip(c)
    for state in range(n_states):
        obs = sampler(rng)
        check_violation_inside(c, obs, n_actions, seed + state)
        check_violation_outside(c, obs, n_actions, seed + state)
        check_batch_agrees(c, obs, n_actions, seed + state)
        check_projection(c, obs, n_actions // 4 + 1, seed + state, projector)
    obs = sampler(rng)
    check_determinism(c, obs, seed)
    check_bad_input(c, obs)


class ConstraintConformance:
    """A pytest suite over :meth:`make_constraint`: subclass it as ``Test<Something>``.

    Override :meth:`make_constraint` (required), and :meth:`sample_obs` or the
    class attributes ``n_states`` / ``n_actions`` / ``seed`` as needed.
    """

    n_states = 3
    n_actions = 60
    seed = 0

    def make_constraint(self) -> Constraint:
        """The constraint under test."""
        raise NotImplementedError("override make_constraint() to return your constraint")

    def sample_obs(self, rng: np.random.Generator) -> np.ndarray | None:
        """An observation for the constraint (default: Gaussian of the length it reads)."""
        return gaussian_observations(self.make_constraint())(rng)

    def _states(self) -> list[np.ndarray | None]:
        rng = np.random.default_rng(self.seed)
        return [self.sample_obs(rng) for _ in range(self.n_states)]

    def test_structure(self) -> None:
        """dim, obs_dim, obs_indices and rows() have the shapes acrl relies on."""
        check_structure(self.make_constraint(), self.sample_obs, self.seed)

    def test_spec_round_trip(self) -> None:
        """Spec is JSON, rebuilds an equal constraint, survives pickling."""
        check_spec_round_trip(self.make_constraint())

    def test_violation_zero_inside(self) -> None:
        """Violation is exactly 0 on feasible samples."""
        c = self.make_constraint()
        for i, obs in enumerate(self._states()):
            check_violation_inside(c, obs, self.n_actions, self.seed + i)

    def test_violation_positive_outside(self) -> None:
        """Violation is positive outside, never negative, and matches contains()."""
        c = self.make_constraint()
        for i, obs in enumerate(self._states()):
            check_violation_outside(c, obs, self.n_actions, self.seed + i)

    def test_batch_agrees_with_single(self) -> None:
        """Batched and single violations agree."""
        c = self.make_constraint()
        for i, obs in enumerate(self._states()):
            check_batch_agrees(c, obs, self.n_actions, self.seed + i)

    def test_projection_feasible_and_nearest(self) -> None:
        """Projections are feasible and no farther than any feasible sample."""
        c = self.make_constraint()
        for i, obs in enumerate(self._states()):
            check_projection(c, obs, self.n_actions // 4 + 1, self.seed + i)

    def test_deterministic(self) -> None:
        """Same seed, same samples and projections."""
        check_determinism(self.make_constraint(), self._states()[0], self.seed)

    def test_bad_input_raises(self) -> None:
        """NaN, wrong shapes and short observations raise acrl's errors."""
        check_bad_input(self.make_constraint(), self._states()[0])


class ActionProbe(gym.Wrapper[Any, Any, Any, Any], gym.utils.RecordConstructorArgs):
    """Records every action that reaches the env it wraps, and checks it against a constraint.

    Put it directly around the simulator, under the enforcement wrapper under test:
    ``AutoMDP(ActionProbe(env, c), c)``. It counts executed actions outside the
    constraint in the state they were executed in (:attr:`infeasible`), independently of
    what the wrapper above reports.

    Args:
        env: the env receiving actions.
        constraint: what executed actions must satisfy (``None``: only record).
        keep: keep every executed action in :attr:`actions` (memory grows with steps).

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("box", dim=1, low=-1.0, high=1.0)
        >>> probe = ActionProbe(gym.make("Pendulum-v1"), c)
        >>> env = acrl.ProjectAction(probe, c)
        >>> _ = env.reset(seed=0); _ = env.step([1.7])
        >>> probe.steps, probe.infeasible, probe.actions[-1].tolist()
        (1, 0, [1.0])
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        constraint: Constraint | None = None,
        keep: bool = True,
    ) -> None:
        gym.utils.RecordConstructorArgs.__init__(self, keep=keep)
        gym.Wrapper.__init__(self, env)
        self.constraint = constraint
        self.keep = keep
        self.steps = 0  # actions executed
        self.infeasible = 0  # executed actions outside the constraint
        self.worst_violation = 0.0
        self.actions: list[np.ndarray] = []
        self._obs: np.ndarray | None = None

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        """Reset and remember the observation."""
        obs, info = self.env.reset(**kwargs)
        self._obs = np.asarray(obs, dtype=np.float64)
        return obs, info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        """Record and check the action, then step the env."""
        executed = np.array(action, dtype=np.float64)
        self.steps += 1
        if self.constraint is not None:
            obs = self._obs if self.constraint.obs_dim else None
            violation = self.constraint.violation(executed, obs)
            self.worst_violation = max(self.worst_violation, violation)
            self.infeasible += violation > self.constraint.tol
        if self.keep:
            self.actions.append(executed)
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._obs = np.asarray(obs, dtype=np.float64)
        return obs, reward, terminated, truncated, info
