"""Property tests of the new families and state-dependent parameters, against independent solvers.

For random instances and random states: the projection is feasible and as near as the
projection an independent solver finds (OSQP on the explicit QP, or SciPy's SLSQP on the
explicit non-linear program, neither using acrl's code), the batched projection agrees
with the single one, and the violation is exactly 0 on points inside the set.
"""

from __future__ import annotations

import numpy as np
import osqp
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import brentq, minimize

import acrl_wrappers as acrl

EXAMPLES = settings(max_examples=25, deadline=None)


# ---------------------------------------------------------------------- independent solvers
def osqp_projection(a: np.ndarray, rows: np.ndarray, lower: np.ndarray, upper: np.ndarray):
    """The argmin of ||x - a|| s.t. lower <= rows @ x <= upper, by OSQP on the explicit QP."""
    d = a.shape[0]
    solver = osqp.OSQP()
    solver.setup(
        sp.eye(d, format="csc"),
        -a,
        sp.csc_matrix(rows),
        lower,
        upper,
        eps_abs=1e-11,
        eps_rel=1e-11,
        max_iter=200_000,
        polishing=True,
        verbose=False,
    )
    return solver.solve(raise_error=False).x


def threshold_projection(a: np.ndarray, floor: np.ndarray, top: np.ndarray, total: float):
    """The projection onto ``floor <= x <= top, sum x = total``, by root finding.

    It is ``clip(a - tau)`` with the ``tau`` that meets the total (Brent's method). OSQP
    was seen spreading a total of 2e-4 evenly over four entries, 1.6e-4 from the answer.
    """

    def excess(tau: float) -> float:
        return float(np.clip(a - tau, floor, top).sum() - total)

    span = float(np.abs(a).max() + np.abs(floor).max() + np.abs(top).max() + 1.0)
    return np.clip(a - brentq(excess, -span, span, xtol=1e-15), floor, top)


def slsqp_projection(a: np.ndarray, constraint_fn, low, high, start):
    """The argmin of ||x - a|| s.t. constraint_fn(x) >= 0 and the box, by SLSQP."""
    result = minimize(
        lambda x: 0.5 * float((x - a) @ (x - a)),
        start,
        jac=lambda x: x - a,
        method="SLSQP",
        bounds=list(zip(low, high, strict=True)),
        constraints=[{"type": "ineq", "fun": constraint_fn}],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    return result.x


def assert_nearest(c, a, obs, reference, atol=1e-6):
    """The projection is feasible and no farther than the reference (which must be feasible)."""
    x, info = acrl.make_projector(c).project(a, obs)
    assert c.violation(x, obs) <= c.tol
    ref_distance = float(np.linalg.norm(reference - a))
    assert info.distance <= ref_distance + atol, (info.distance, ref_distance)
    np.testing.assert_allclose(x, reference, atol=1e-4)  # convex sets: the projection is unique
    return x


def assert_batch_agrees(c, actions, obs):
    batched, _ = acrl.make_projector(c).project_batch(actions, obs)
    single = np.stack([acrl.make_projector(c).project(a, obs)[0] for a in actions])
    np.testing.assert_allclose(batched, single, atol=1e-9)


# ---------------------------------------------------------------------- instances
@st.composite
def boxes(draw, low_max: float = 0.0):
    dim = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    low = -rng.uniform(0.1, 1.5, dim) + low_max
    high = rng.uniform(0.3, 1.5, dim)
    return dim, low, high, rng


@EXAMPLES
@given(boxes(), st.booleans())
def test_slew_rate_per_component_is_the_nearest_point_of_the_state_box(box, per_component):
    dim, low, high, rng = box
    delta = rng.uniform(0.0, 0.5, dim).tolist() if per_component else float(rng.uniform(0, 0.5))
    c = acrl.make_constraint(
        "slew-rate", delta=delta, prev_index=list(range(3, 3 + dim)), low=low, high=high
    )
    prev = rng.uniform(low, high)
    obs = np.r_[rng.normal(size=3), prev]
    a = rng.uniform(low - 1, high + 1)
    d = np.broadcast_to(delta, (dim,))
    reference = osqp_projection(
        a, np.eye(dim), np.maximum(low, prev - d), np.minimum(high, prev + d)
    )
    assert_nearest(c, a, obs, reference)
    inside = np.clip(prev + 0.9 * d * rng.uniform(-1, 1, dim), low, high)
    assert c.violation(inside, obs) == 0.0
    assert_batch_agrees(c, rng.uniform(low - 1, high + 1, size=(8, dim)), obs)


@EXAMPLES
@given(boxes())
def test_slew_rate_l2_is_the_exact_projection_onto_ball_and_box(box):
    dim, low, high, rng = box
    delta = float(rng.uniform(0.01, 1.0))
    c = acrl.make_constraint(
        "slew-rate", delta=delta, prev_index=f"0:{dim}", norm="l2", low=low, high=high
    )
    prev = rng.uniform(low, high)
    a = rng.uniform(low - 1, high + 1)
    reference = slsqp_projection(
        a, lambda x: delta**2 - float((x - prev) @ (x - prev)), low, high, prev
    )
    assert_nearest(c, a, prev, reference, atol=1e-6)
    inside = prev + 0.9 * delta * rng.uniform(-1, 1, dim) / np.sqrt(dim)
    inside = np.clip(inside, low, high)
    assert c.violation(inside, prev) == 0.0
    assert_batch_agrees(c, rng.uniform(low - 1, high + 1, size=(8, dim)), prev)


@EXAMPLES
@given(boxes(), st.booleans())
def test_simplex_projection_is_nearest_and_inside_is_exactly_zero(box, capped):
    dim, low, high, rng = box
    floor = np.maximum(low, 0.0)
    caps = rng.uniform(0.1, 1.2, dim) if capped else None
    top = np.minimum(high, caps) if capped else high
    total = float(rng.uniform(floor.sum(), top.sum()))
    if capped:
        c = acrl.make_constraint(
            "capped-simplex", caps=caps.tolist(), total=total, low=low, high=high
        )
    else:
        c = acrl.make_constraint("simplex", dim=dim, total=total, low=low, high=high)
    a = rng.uniform(low - 1, high + 1)
    assert_nearest(c, a, None, threshold_projection(a, floor, top, total))
    share = rng.dirichlet(np.ones(dim))
    inside = np.minimum(floor + (total - floor.sum()) * share, top)
    inside[-1] = total - inside[:-1].sum()  # the last entry closes the sum
    if floor[-1] <= inside[-1] <= top[-1]:
        assert c.violation(inside, None) == 0.0
    assert_batch_agrees(c, rng.uniform(low - 1, high + 1, size=(8, dim)), None)


def test_simplex_violation_is_exactly_zero_on_exact_points_and_counts_the_gap():
    c = acrl.make_constraint("simplex", dim=4, low=0.0)
    assert c.violation([0.25, 0.5, 0.125, 0.125]) == 0.0
    assert c.violation(np.full(4, 0.1)) == pytest.approx(0.6)
    assert c.violation([1.25, -0.25, 0.0, 0.0]) == pytest.approx(0.25 + 0.25)  # a < 0 and box


@EXAMPLES
@given(st.integers(0, 2**32 - 1))
def test_capped_simplex_with_state_dependent_caps_and_total(seed):
    rng = np.random.default_rng(seed)
    dim = int(rng.integers(2, 6))
    c = acrl.make_constraint(
        "capped-simplex",
        caps={"index": list(range(dim)), "scale": 0.5, "offset": 0.1},
        total={"index": dim, "scale": 1.0},
        low=0.0,
    )
    caps = 0.1 + 0.5 * rng.uniform(0, 2, dim)
    top = np.minimum(1.0, caps)
    total = float(rng.uniform(0.0, top.sum()))
    obs = np.r_[(caps - 0.1) / 0.5, total]
    a = rng.uniform(-1, 2, dim)
    assert_nearest(c, a, obs, threshold_projection(a, np.zeros(dim), top, total))
    assert_batch_agrees(c, rng.uniform(-1, 2, size=(8, dim)), obs)


def _psd_instances(seed: int):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 4))
    layout = ["svec", "full"][int(rng.integers(0, 2))]
    bound = [1.0, 3.0][int(rng.integers(0, 2))]  # 1: the box often binds; 3: it rarely does
    eps = float(rng.uniform(0.0, 0.3))
    c = acrl.make_constraint("psd", n=n, eps=eps, layout=layout, low=-bound, high=bound)
    return c, rng


@EXAMPLES
@given(st.integers(0, 2**32 - 1))
def test_psd_projection_is_nearest_against_slsqp(seed):
    c, rng = _psd_instances(seed)
    a = rng.uniform(c.low - 0.5, c.high + 0.5)

    def eig_margin(x):
        return np.linalg.eigvalsh(c.matrix(x)) - c.eps

    start = c.action(np.eye(c.n) * max(c.eps + 0.1, 0.5))
    reference = slsqp_projection(a, eig_margin, c.low, c.high, np.clip(start, c.low, c.high))
    x, info = acrl.make_projector(c).project(a)
    assert c.violation(x) <= c.tol
    if c.violation(reference) <= 1e-7:  # SLSQP converged to a feasible point
        assert info.distance <= float(np.linalg.norm(reference - a)) + 1e-5
    # the projection's optimality condition: <a - x, y - x> <= 0 for every feasible y
    samples = c.sample(None, 200, rng=seed % 1000)
    assert float(((samples - x) @ (a - x)).max()) <= 1e-6
    _, vectors = np.linalg.eigh(rng.normal(size=(c.n, c.n)))
    inside = c.action(vectors @ np.diag(np.full(c.n, c.eps + 0.05)) @ vectors.T)
    if np.all((inside >= c.low) & (inside <= c.high)):
        assert c.violation(inside) == 0.0
    assert_batch_agrees(c, rng.uniform(c.low - 0.5, c.high + 0.5, size=(8, c.dim)), None)


def test_psd_without_a_binding_box_is_eigenvalue_clipping():
    c = acrl.make_constraint("psd", n=3, eps=0.1, low=-10.0, high=10.0)
    rng = np.random.default_rng(0)
    m = rng.normal(size=(3, 3))
    m = m + m.T
    x, _ = acrl.make_projector(c).project(c.action(m))
    values, vectors = np.linalg.eigh(m)
    expected = vectors @ np.diag(np.maximum(values, 0.1)) @ vectors.T
    np.testing.assert_allclose(c.matrix(x), expected, atol=1e-12)
    full = acrl.make_constraint("psd", n=2, layout="full")
    assert full.violation([0.5, 0.1, 0.3, 0.5]) == pytest.approx(0.2)  # |X_01 - X_10|


@EXAMPLES
@given(boxes())
def test_state_dependent_box_ball_and_linear_against_independent_solvers(box):
    dim, low, high, rng = box
    obs = np.r_[rng.uniform(low, high), rng.uniform(0.1, 0.8), rng.normal(size=dim)]
    index = list(range(dim))
    tight = acrl.make_constraint(
        "box",
        low=low,
        high=high,
        lower={"index": index, "offset": -0.2},
        upper={"index": index, "scale": 1.0, "offset": 0.3},
    )
    a = rng.uniform(low - 1, high + 1)
    centre = obs[:dim]
    reference = osqp_projection(
        a, np.eye(dim), np.maximum(low, centre - 0.2), np.minimum(high, centre + 0.3)
    )
    assert_nearest(tight, a, obs, reference)
    ball = acrl.make_constraint(
        "ball", center={"index": index}, radius={"index": dim, "scale": 2.0}, low=low, high=high
    )
    radius = 2.0 * obs[dim]
    reference = slsqp_projection(
        a, lambda x: radius**2 - float((x - centre) @ (x - centre)), low, high, centre
    )
    assert_nearest(ball, a, obs, reference)
    w_index = list(range(dim + 1, 2 * dim + 1))
    linear = acrl.make_constraint(
        "linear", A=[{"index": w_index}], b={"index": dim, "offset": 0.1}, low=low, high=high
    )
    w, b = obs[dim + 1 :], obs[dim] + 0.1
    reference = osqp_projection(a, np.vstack([np.eye(dim), w]), np.r_[low, -np.inf], np.r_[high, b])
    assert_nearest(linear, a, obs, reference)
    for c in (tight, ball, linear):
        assert c.violation(acrl.make_projector(c).project(a, obs)[0], obs) <= c.tol
        assert_batch_agrees(c, rng.uniform(low - 1, high + 1, size=(6, dim)), obs)


def test_specs_of_state_dependent_parameters_are_json_and_rebuild():
    import json

    specs = [
        {"name": "box", "dim": 2, "lower": {"index": [0, 1], "offset": -0.2}},
        {
            "name": "ball",
            "dim": 2,
            "radius": {"index": [4], "scale": 0.5},
            "center": {"index": [0, 1]},
        },
        {"name": "linear", "dim": 2, "A": [[1.0, 0.0], {"index": [2, 3]}], "b": {"index": [0, 1]}},
        {"name": "slew-rate", "dim": 2, "delta": [0.1, 0.2], "prev_index": [3, 4]},
        {"name": "capped-simplex", "dim": 2, "caps": {"index": [0, 1]}, "total": 1.0},
        {"name": "psd", "n": 2, "eps": 0.1},
    ]
    for spec in specs:
        c = acrl.make_constraint(spec)
        again = acrl.make_constraint(json.loads(json.dumps(c.spec)))
        assert again == c and type(again) is type(c)


def test_capped_simplex_certificate_accepts_projections_and_refuses_a_sum_off_by_tol():
    c = acrl.make_constraint(
        "capped-simplex",
        caps={"index": [0, 1, 2], "scale": 0.5, "offset": 0.25},
        total=0.6,
        low=0.0,
    )
    rng = np.random.default_rng(3)
    obs = rng.uniform(0.0, 1.0, (32, 3))
    x = c.project_closed_form_batch(rng.uniform(-1.0, 1.0, (32, 3)), obs)
    assert c._accepts(x, obs)
    off = x.copy()
    off[5] += 0.7 * c.tol  # the sum misses its total by 2.1 tol
    assert not c._accepts(off, obs)
    above = x.copy()
    above[7, 0] = c.limits(obs)[0][7, 0] + 2 * c.tol  # above its state's cap
    assert not c._accepts(above, obs)


@pytest.mark.parametrize("layout", ["svec", "full"])
def test_psd_samples_are_uniform_not_piled_on_the_boundary(layout):
    c = acrl.make_constraint("psd", n=3, eps=0.05, layout=layout)
    samples = c.sample(None, n=3000, rng=0)
    assert c.violation(samples).max() == 0.0
    lam_min = np.linalg.eigvalsh(np.stack([c.matrix(x) for x in samples]))[:, 0]
    # plain rejection from the svec box is uniform by definition: compare the two
    svec = acrl.make_constraint("psd", n=3, eps=0.05)
    rng = np.random.default_rng(1)
    box = rng.uniform(svec.low, svec.high, size=(400_000, 6))
    reference = box[svec.violation(box) == 0.0][:3000]
    lam_ref = np.linalg.eigvalsh(np.stack([svec.matrix(x) for x in reference]))[:, 0]
    assert np.mean(lam_min - c.eps < 1e-9) < 0.01  # projections sat at eps exactly
    assert abs(np.median(lam_min) - np.median(lam_ref)) < 0.02
