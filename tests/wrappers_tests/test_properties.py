"""Property tests over random instances of every constraint family.

For all instances: the violation is 0 on feasible points and positive outside, batched
and single calls agree, and every projector's result is feasible within tol and no
farther than the best of many feasible samples (and, for convex sets, agrees with the
other projectors' distance).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import acrl_wrappers as acrl
from acrl_wrappers.errors import ProjectionError

SAMPLES = 300


@st.composite
def boxes(draw, contain_zero: bool = True):
    dim = draw(st.integers(1, 6))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if contain_zero:
        low, high = -rng.uniform(0.2, 2.0, dim), rng.uniform(0.2, 2.0, dim)
    else:
        low = rng.uniform(-2.0, 1.0, dim)
        high = low + rng.uniform(0.2, 2.0, dim)
    return dim, low, high, rng


@st.composite
def instances(draw):
    """(constraint, observation or None, rng) for a random family instance."""
    family = draw(
        st.sampled_from(
            [
                "box",
                "ball",
                "power",
                "positive-power",
                "linear",
                "quadratic",
                "sum-band",
                "intersection",
            ]
        )
    )
    dim, low, high, rng = draw(boxes(contain_zero=family not in ("box", "linear", "sum-band")))
    state_dependent = draw(st.booleans())
    obs_dim = 3 * dim
    index = sorted(rng.choice(obs_dim, size=dim, replace=False).tolist())
    obs = rng.normal(0.0, 5.0, size=obs_dim) if state_dependent else None
    weights = (
        {"weight_index": index}
        if state_dependent
        else {"weights": rng.uniform(-3, 3, dim).tolist()}
    )
    box = {"low": low.tolist(), "high": high.tolist()}
    if family == "box":
        c = acrl.make_constraint("box", **box)
    elif family == "ball":
        center = rng.uniform(low, high) if draw(st.booleans()) else np.zeros(dim)
        if not state_dependent:
            weights = {"weights": rng.uniform(0.2, 3.0, dim).tolist()}
        c = acrl.make_constraint(
            "ball", bound=float(rng.uniform(0.01, 4.0)), center=center.tolist(), **weights, **box
        )
    elif family in ("power", "positive-power"):
        c = acrl.make_constraint(family, bound=float(rng.uniform(0.0, 10.0)), **weights, **box)
    elif family == "linear":
        m = int(rng.integers(1, 5))
        a = rng.normal(size=(m, dim))
        x0 = rng.uniform(low, high)
        c = acrl.make_constraint(
            "linear", A=a.tolist(), b=(a @ x0 + rng.uniform(0.0, 1.0, m)).tolist(), **box
        )
    elif family == "quadratic":
        factor = rng.normal(size=(dim, dim))
        q = factor @ factor.T + 0.01 * np.eye(dim)
        c = acrl.make_constraint(
            "quadratic", Q=q.tolist(), bound=float(rng.uniform(0.01, 3.0)), **box
        )
    elif family == "sum-band":
        middle, half = (low.sum() + high.sum()) / 2, (high.sum() - low.sum()) / 2
        target = float(middle + rng.uniform(-0.6, 0.6) * half)  # corners defeat rejection sampling
        c = acrl.make_constraint(
            "sum-band", target=target, width=float(rng.uniform(0.0, 0.5)), **box
        )
    else:
        c = acrl.make_constraint(
            "intersection",
            members=[
                {"name": "power", "bound": float(rng.uniform(0.1, 5.0)), **weights, **box},
                {
                    "name": "sum-band",
                    "target": 0.0,
                    "width": float(rng.uniform(0.0, 0.5)),
                    "dim": dim,
                    **box,
                },
            ],
        )
    if c.obs_dim == 0:
        obs = None
    return c, obs, rng


@given(instances())
def test_violation_zero_on_feasible_points_and_positive_outside(case):
    c, obs, rng = case
    samples = c.sample(obs, SAMPLES, rng=rng)
    v = c.violation(samples, obs)
    assert np.all(v <= 1e-12)
    assert np.all(v[v > 0] <= 1e-12)  # only rounding on zero-width bands
    if not (isinstance(c, acrl.SumBandConstraint) and c.width == 0.0):
        assert np.mean(v == 0.0) > 0.99
    outside = c.high + rng.uniform(0.01, 1.0, size=(20, c.dim))
    assert np.all(c.violation(outside, obs) > 0.0)


@given(instances())
def test_batched_and_single_calls_agree(case):
    c, obs, rng = case
    actions = rng.uniform(c.low - 1.0, c.high + 1.0, size=(30, c.dim))
    actions[:10] = c.sample(obs, 10, rng=rng)
    batched = c.violation(actions, obs)
    single = np.array([c.violation(a, obs) for a in actions])
    np.testing.assert_allclose(batched, single, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(batched == 0.0, single == 0.0)
    np.testing.assert_array_equal(c.contains(actions, obs), [c.contains(a, obs) for a in actions])


@given(instances())
def test_projection_is_feasible_and_nearest(case):
    c, obs, rng = case
    samples = c.sample(obs, SAMPLES, rng=rng)
    projector = acrl.make_projector(c)
    others = [
        acrl.make_projector(c, e["name"])
        for e in acrl.list_projectors()
        if e["name"] != projector.name and _supports(e["name"], c)
    ]
    span = c.high - c.low
    for a in rng.uniform(c.low - 0.5 * span, c.high + 0.5 * span, size=(4, c.dim)):
        x, info = projector.project(a, obs)
        assert c.violation(x, obs) <= c.tol
        nearest_sample = np.linalg.norm(samples - a, axis=1).min()
        assert info.distance <= nearest_sample + 1e-7
        for other in others:
            try:
                y, other_info = other.project(a, obs)
            except ProjectionError:
                continue  # SLSQP may give up; the chosen projector may not
            assert c.violation(y, obs) <= c.tol
            if c.convex:  # the projection is unique: every method must find it
                assert info.distance <= other_info.distance + 1e-5
                assert abs(info.distance - other_info.distance) < 1e-3


def _supports(name: str, c: acrl.Constraint) -> bool:
    try:
        acrl.make_projector(c, name)
    except ProjectionError:
        return False
    return True
