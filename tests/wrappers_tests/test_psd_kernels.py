"""The compiled kernels (numba: PSD, sum-box) against the numpy paths they stand in for."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import acrl_wrappers as acrl
from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.projection import batched
from acrl_wrappers.projection.psd_box import project_psd_box

pytest.importorskip("numba")


def _instance(seed: int) -> tuple[acrl.Constraint, np.ndarray]:
    """A random 2 x 2 or 3 x 3 PSD constraint and actions inside and around its box."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4))
    bound = float(rng.choice([0.6, 1.0, 3.0]))
    c = acrl.make_constraint("psd", n=n, eps=float(rng.uniform(0.0, 0.3)), low=-bound, high=bound)
    spread = float(rng.choice([1.0, 1.5, 3.0]))
    actions = rng.uniform(c.low * spread, c.high * spread, size=(64, c.dim))
    return c, actions


def _numpy_projection(c: acrl.Constraint, actions: np.ndarray) -> np.ndarray:
    return project_psd_box(actions, c.shape, c.eps, c.low, c.high, c._anchor)


def test_small_svec_constraints_use_the_kernels_and_others_do_not():
    assert acrl.make_constraint("psd", n=3)._kernels is not None
    assert acrl.make_constraint("psd", n=2)._kernels is not None
    assert acrl.make_constraint("psd", n=4)._kernels is None
    assert acrl.make_constraint("psd", n=2, layout="full")._kernels is None


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_compiled_projection_equals_the_numpy_path(seed):
    c, actions = _instance(seed)
    out = c.project_closed_form_batch(actions, None)
    np.testing.assert_allclose(out, _numpy_projection(c, actions), atol=1e-9)
    assert c.violation(out).max() <= c.tol
    assert ((out >= c.low) & (out <= c.high)).all()


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_compiled_violation_equals_the_eigenvalue_rows(seed):
    c, actions = _instance(seed)
    compiled = c._violation(actions, None)
    np.testing.assert_allclose(compiled, Constraint._violation(c, actions, None), atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_certificate_accepts_projections_and_refuses_infeasible_rows(seed):
    c, actions = _instance(seed)
    projected = c.project_closed_form_batch(actions, None)
    assert c._accepts(projected, None)
    infeasible = actions[c._violation(actions, None) > c.tol]
    if len(infeasible):
        assert not c._kernels.certified(
            infeasible, c.shape._scale, c.low, c.high, c.eps, 1e-13, c._margin
        )


def test_rows_the_kernels_decline_go_to_the_numpy_path():
    c = acrl.make_constraint("psd", n=3, eps=0.1)
    # a double eigenvalue (the closed form declines), a box binding on two diagonal
    # entries (scalar Newton refutes its guess) and an ordinary row
    rows = np.array(
        [
            [0.5, 0.0, 0.0, 0.5, 0.0, -0.4],
            [1.4, 0.9, 0.0, 1.3, 0.0, -0.2],
            [0.3, 0.2, 0.1, -0.5, 0.0, 0.4],
        ]
    )
    out, done = np.empty_like(rows), np.empty(3, dtype=bool)
    scale = c.shape._scale
    index, anchor = c._svec_index, c._anchor
    c._kernels.project(
        rows[:1], scale, index, c.eps, c.low, c.high, anchor, c._anchor_min, out[:1], done[:1]
    )
    assert not done[0]
    projected = c.project_closed_form_batch(rows, None)
    np.testing.assert_allclose(projected, _numpy_projection(c, rows), atol=1e-9)
    assert c.violation(projected).max() <= c.tol


def test_non_finite_rows_are_reported_not_projected():
    c = acrl.make_constraint("psd", n=3)
    actions = np.zeros((4, 6))
    actions[2, 1] = np.nan
    assert np.isnan(c._violation(actions, None)[2])
    with pytest.raises(acrl.InvalidActionError, match="NaN or inf"):
        acrl.make_projector(c).project_batch(actions)


def test_acrl_numba_0_keeps_the_numpy_path():
    code = "import acrl_wrappers as a; print(a.make_constraint('psd', n=3)._kernels is None)"
    env = {**os.environ, "ACRL_NUMBA": "0"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_compiled_sum_box_projection_equals_the_numpy_path(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 70)), int(rng.integers(1, 8))
    low = rng.uniform(-1.0, 0.0, size=(n, d)) if rng.random() < 0.5 else np.zeros(d)
    high = low + rng.uniform(0.0, 2.0, size=(n, d))
    share = rng.uniform(0.0, 1.0, size=n)
    total = (low + share[:, None] * (high - low)).sum(axis=-1) * np.ones(n)
    a = rng.normal(0.0, 2.0, size=(n, d))
    compiled = batched.project_sum_box_batch(a, total, low, high)
    reference = batched._project_sum_box_numpy(a, total, low, high)
    np.testing.assert_allclose(compiled, reference, atol=1e-12)
    np.testing.assert_allclose(compiled.sum(axis=1), total, atol=1e-9)
    assert ((compiled >= low) & (compiled <= high)).all()
