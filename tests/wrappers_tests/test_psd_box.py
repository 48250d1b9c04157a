"""The PSD cone inside the action box: Newton's and Dykstra's answers, against SLSQP."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import minimize

import acrl_wrappers as acrl
from acrl_wrappers.projection import psd_box
from acrl_wrappers.projection.spectral import SymmetricLayout, clip_actions


def _box_binding_rows(c: acrl.Constraint, rng: np.random.Generator, n: int) -> np.ndarray:
    """Uniform actions whose eigenvalue clipping leaves the box (the rows Newton solves)."""
    a = rng.uniform(c.low - 0.5, c.high + 0.5, size=(40 * n, c.dim))
    clipped = clip_actions(a, c.shape, c.eps)
    return a[((clipped < c.low - 1e-9) | (clipped > c.high + 1e-9)).any(1)][:n]


def _dykstra_only(rows: np.ndarray, c: acrl.Constraint) -> np.ndarray:
    """Dykstra's answer for ``svec`` rows, without Newton."""
    clipped = clip_actions(rows, c.shape, c.eps)
    limits = psd_box._dykstra(rows, clipped, c.shape, c.shape, c.eps, c.low, c.high)
    return c.shape.to_action(limits)


def test_a_corner_of_the_box_is_not_taken_for_the_projection():
    # Dykstra's box iterate rests on the corner (0.6, 0.6, 0.6) for a round while its
    # corrections still move; stopping on the box iterate alone returned the corner,
    # 3 % farther than the projection SLSQP finds.
    c = acrl.make_constraint("psd", n=2, eps=0.07316456955074303, low=-0.6, high=0.6)
    a = np.array([0.32558311, 1.59488198, 0.74432564])
    x, info = acrl.make_projector(c).project(a)
    np.testing.assert_allclose(x, [0.41482724, 0.6, 0.6], atol=1e-7)
    assert info.distance == pytest.approx(1.0092495031875, abs=1e-9)
    np.testing.assert_allclose(_dykstra_only(a[None], c)[0], x, atol=1e-9)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_newton_solves_the_box_binding_rows_and_agrees_with_dykstra(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 4))
    bound = float(rng.choice([0.6, 1.0]))
    c = acrl.make_constraint("psd", n=n, eps=float(rng.uniform(0.0, 0.3)), low=-bound, high=bound)
    rows = _box_binding_rows(c, rng, 16)
    if not len(rows):
        return
    y, solved = psd_box._newton(rows, c.shape, c.eps, c.low, c.high)
    assert solved.mean() >= 0.9  # a wrong Jacobian leaves them all to Dykstra
    assert c.violation(y[solved]).max() <= 1e-10  # Newton stops at a 1e-12 residual
    # Dykstra's limit can stall near a corner of the box, outside the cone (seed 102:
    # 4.7e-5, nearer than the projection); compare where it reached the set
    limits = _dykstra_only(rows[solved], c)
    reached = c.violation(limits) <= 1e-9
    np.testing.assert_allclose(y[solved][reached], limits[reached], atol=1e-8)
    projected = acrl.make_projector(c).project_batch(rows)[0]
    assert c.violation(projected).max() <= c.tol


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_one_diagonal_newton_agrees_with_dykstra_and_leaves_other_rows(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    c = acrl.make_constraint("psd", n=n, eps=float(rng.uniform(0.0, 0.3)))
    rows = _box_binding_rows(c, rng, 16)
    if not len(rows):
        return
    cone = clip_actions(rows, c.shape, c.eps)
    y, solved = psd_box._one_diagonal_newton(rows, cone, c.shape, c.eps, c.low, c.high)
    leaving = (cone < c.low - 1e-12) | (cone > c.high + 1e-12)
    one_diagonal = (leaving.sum(1) == 1) & leaving[:, c.shape.diagonal].any(1)
    assert not (solved & ~one_diagonal).any()  # several entries at the box: not its rows
    reference = _dykstra_only(rows, c)
    np.testing.assert_allclose(y[solved], reference[solved], atol=1e-8)
    # it declines only rows where the guess is wrong: the projection has more entries at
    # the box (a wrong slope, or a wrong sign test, would decline or mis-solve others)
    at_box = (np.abs(reference - c.low) < 1e-9) | (np.abs(reference - c.high) < 1e-9)
    assert (at_box[one_diagonal & ~solved].sum(1) >= 2).all()
    # the batched LAPACK path (many rows) gives what the plain-Python one does
    scalar_rows, psd_box._SCALAR_ROWS = psd_box._SCALAR_ROWS, 0
    try:
        y_lapack, solved_lapack = psd_box._one_diagonal_newton(
            rows, cone, c.shape, c.eps, c.low, c.high
        )
    finally:
        psd_box._SCALAR_ROWS = scalar_rows
    np.testing.assert_array_equal(solved_lapack, solved)
    np.testing.assert_allclose(y_lapack[solved], y[solved], atol=1e-10)


def test_newton_matches_slsqp_where_the_box_binds():
    rng = np.random.default_rng(3)
    c = acrl.make_constraint("psd", n=3, eps=0.05)
    rows = _box_binding_rows(c, rng, 6)
    projected = acrl.make_projector(c).project_batch(rows)[0]
    compared = 0
    for a, x in zip(rows, projected, strict=True):
        margin = {"type": "ineq", "fun": lambda v: np.linalg.eigvalsh(c.matrix(v))[0] - c.eps}
        reference = minimize(
            lambda v, a=a: np.sum((v - a) ** 2),
            x + 0.01 * rng.normal(size=c.dim),
            constraints=[margin],
            bounds=list(zip(c.low, c.high, strict=True)),
            method="SLSQP",
            options={"ftol": 1e-14, "maxiter": 500},
        )
        # SLSQP may stop slightly outside the cone (seen: lambda_min 1.3e-4 below eps),
        # nearer than any feasible point: only its feasible answers are a bound
        if np.linalg.eigvalsh(c.matrix(reference.x))[0] >= c.eps - 1e-9:
            compared += 1
            assert np.linalg.norm(x - a) <= np.sqrt(reference.fun) + 1e-7
    assert compared >= 3


def test_full_layout_projects_the_symmetric_part_like_svec():
    rng = np.random.default_rng(0)
    full = acrl.make_constraint("psd", n=3, eps=0.1, layout="full", low=-0.8, high=0.8)
    svec = SymmetricLayout(n=3)
    m = rng.uniform(-1.5, 1.5, size=(32, 3, 3))
    projected = acrl.make_projector(full).project_batch(m.reshape(32, 9))[0]
    sym = 0.5 * (m + m.transpose(0, 2, 1))
    # the svec box of a symmetric box of 0.8 on matrix entries: 0.8 sqrt(2) off the diagonal
    bound = svec.to_action(np.full((1, 3, 3), 0.8))[0]
    reference = psd_box.project_psd_box(
        svec.to_action(sym), svec, 0.1, -bound, bound, svec.to_action(0.8 * np.eye(3)[None])[0]
    )
    np.testing.assert_allclose(projected, svec.to_matrix(reference).reshape(32, 9), atol=1e-9)
