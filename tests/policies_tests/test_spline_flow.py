"""The spline flow: exact inverses and log-determinants, box onto box, training quality."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import acrl_wrappers as acrl
from acrl_policies.errors import FlowError
from acrl_policies.flows import (
    ConditionalSplineFlow,
    FlowCheckpoint,
    evaluate_flow,
    make_flow,
    rational_quadratic_spline,
    train_flow,
)
from acrl_policies.flows.objectives import _push_to_faces
from acrl_policies.flows.spline import moved_coordinates


def randomised(flow: torch.nn.Module, seed: int, scale: float = 0.3) -> torch.nn.Module:
    """Random weights everywhere (a fresh flow is the identity: its last layers are zero)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in flow.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)
    return flow


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), bins=st.integers(2, 12))
def test_spline_inverse_and_log_det_are_exact(seed, bins):
    gen = torch.Generator().manual_seed(seed)
    shape = (64, 3)
    x = torch.rand(shape, generator=gen, dtype=torch.float64) * 2.4 - 1.2  # some outside
    w, h = (torch.randn(*shape, bins, generator=gen, dtype=torch.float64) * 2 for _ in "wh")
    d = torch.randn(*shape, bins - 1, generator=gen, dtype=torch.float64) * 2
    y, log_det = rational_quadratic_spline(x, w, h, d)
    back, inverse_log_det = rational_quadratic_spline(y, w, h, d, inverse=True)
    assert torch.allclose(back, x, atol=1e-9)
    assert torch.allclose(log_det, -inverse_log_det, atol=1e-8)
    outside = x.abs() > 1
    assert torch.equal(y[outside], x[outside]) and bool((log_det[outside] == 0).all())
    inside = ~outside
    assert bool((y[inside].abs() <= 1.0 + 1e-12).all())  # [-1, 1] onto itself
    # the log-determinant is the log of the derivative autograd takes of the forward map
    x_leaf = x.clone().requires_grad_(True)
    (derivative,) = torch.autograd.grad(rational_quadratic_spline(x_leaf, w, h, d)[0].sum(), x_leaf)
    assert torch.allclose(log_det, torch.log(derivative), atol=1e-8)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), conditional=st.booleans(), dim=st.integers(1, 6))
def test_spline_flow_log_det_equals_autograd_jacobian(seed, conditional, dim):
    c = 2 if conditional else 0
    flow = randomised(ConditionalSplineFlow(dim, c, n_layers=3, hidden=8), seed).double()
    gen = torch.Generator().manual_seed(seed)
    z = torch.rand(dim, generator=gen, dtype=torch.float64) * 2 - 1
    y = torch.randn(1, c, generator=gen, dtype=torch.float64) if c else None
    jacobian = torch.autograd.functional.jacobian(lambda v: flow(v[None], y)[0][0], z)
    a, log_det = flow(z[None], y)
    assert torch.allclose(log_det[0], torch.linalg.slogdet(jacobian).logabsdet, atol=1e-8)
    back, inverse_log_det = flow.inverse(a, y)
    assert torch.allclose(back[0], z, atol=1e-9)
    assert torch.allclose(inverse_log_det, -log_det, atol=1e-8)
    assert bool((a.abs() <= 1.0 + 1e-12).all())


def test_every_coordinate_moves_and_conditions_every_other():
    for dim in (2, 3, 6):
        layers = [set(moved_coordinates(dim, i)) for i in range(6)]
        assert set().union(*layers) == set(range(dim))
        for i in range(dim):
            kept_with = set().union(*(set(range(dim)) - m for m in layers if i in m))
            assert kept_with == set(range(dim)) - {i}  # i is moved given each other entry


def test_spline_flow_is_a_registered_architecture_with_its_settings():
    flow = make_flow("rqspline", dim=3, condition_dim=2, n_layers=2, hidden=8, bins=5)
    assert isinstance(flow, ConditionalSplineFlow) and flow.config["bins"] == 5
    with pytest.raises(FlowError, match="bins"):
        ConditionalSplineFlow(2, bins=1)
    with pytest.raises(FlowError, match="no setting `scale_factor`"):
        train_flow("reacher-l2", scale_factor=2.0, epochs=1, steps_per_epoch=1)


def test_spline_checkpoint_round_trip(tmp_path):
    c = acrl.make_constraint("hopper-m10")
    flow = randomised(ConditionalSplineFlow(3, 3, n_layers=2, hidden=8, bins=4), 0)
    ckpt = FlowCheckpoint(flow, c, [8, 9, 10], architecture="rqspline")
    ckpt.save(tmp_path / "f.flow")
    loaded = FlowCheckpoint.load(tmp_path / "f.flow")
    z, obs = np.random.default_rng(0).uniform(-1, 1, (5, 3)), np.ones((5, 11))
    assert np.allclose(loaded.actions(z, obs), ckpt.actions(z, obs))


def shell_feasibility(ckpt: FlowCheckpoint, n: int = 4000) -> float:
    """Feasible share of the flow's outputs at base points with every |z_i| in [0.99, 1]."""
    rng = np.random.default_rng(5)
    z = np.sign(rng.uniform(-1, 1, (n, ckpt.constraint.dim))) * rng.uniform(0.99, 1.0, (n, 6))
    y = ckpt.condition.sample(n, ckpt.conditioning.dim, rng)
    with torch.no_grad():
        a, _ = ckpt.flow(torch.as_tensor(z, dtype=ckpt.dtype), torch.as_tensor(y, dtype=ckpt.dtype))
    v = ckpt.constraint._violation(a.double().numpy(), ckpt.conditioning.observations(y))
    return float(np.mean(v <= ckpt.constraint.tol))


def test_push_to_faces_moves_the_chosen_share_into_the_outer_shell():
    gen = torch.Generator().manual_seed(0)
    z = torch.rand(20_000, 6, generator=gen) * 1.8 - 0.9  # all inside |z| < 0.9
    pushed = _push_to_faces(z, 0.3, gen)
    moved = pushed.abs() >= 0.99
    assert abs(moved.double().mean().item() - 0.3) < 0.01
    # the first half of the batch stays uniform (the interior's reverse KL), the second
    # holds every moved coordinate
    assert not moved[:10_000].any() and abs(moved[10_000:].double().mean().item() - 0.6) < 0.01
    assert bool((pushed.abs() <= 1.0).all()) and torch.equal(pushed[~moved], z[~moved])
    assert torch.equal(torch.sign(pushed[moved]), torch.sign(z[moved]))  # the nearer face
    assert torch.equal(_push_to_faces(z, 0.0, gen), z)


def small_halfcheetah_flow(**settings) -> FlowCheckpoint:
    """HalfCheetah's power constraint, 300 updates of a small flow (seeded)."""
    return train_flow(
        "halfcheetah-o20",
        condition="uniform:-20,20",
        epochs=1,
        steps_per_epoch=300,
        n_layers=4,
        hidden=64,
        n_samples=20_000,
        eval_samples=4000,
        seed=0,
        **settings,
    )


def test_a_6d_state_dependent_flow_learns_well_beyond_its_base_rate():
    plain = small_halfcheetah_flow(face_fraction=0.0)
    before, after = plain.metrics[0], plain.metrics[-1]
    assert before["accuracy"] < 0.25  # the identity: the feasible share of the box
    assert after["accuracy"] > 0.8  # 0.91 measured
    # the identity "covers" the conditions whose feasible share is large (0.54); the
    # trained flow concentrates on the feasible set without collapsing onto part of it
    assert after["coverage"] > 0.4  # 0.50 measured
    # but the shell next to the box's faces, where a saturated tanh actor's outputs go,
    # stays infeasible: uniform base samples almost never land there in 6-D
    assert shell_feasibility(plain) < 0.01  # 0.001 measured
    # FlowPG's default face_fraction (0.3) trains the reverse KL on that shell too
    faces = small_halfcheetah_flow()
    assert faces.metrics[-1]["accuracy"] > 0.8  # 0.996 measured
    assert shell_feasibility(faces) > 0.04  # 0.078 measured (0.85: the full flow, 2,000 updates)


def test_coverage_sees_what_recall_cannot():
    """A box-onto-box flow has recall 1 by construction; coverage measures the density."""
    c = acrl.make_constraint("reacher-l2")
    identity = FlowCheckpoint(ConditionalSplineFlow(2, n_layers=2, hidden=8), c, [])
    m = evaluate_flow(identity, n=4000)
    assert (
        m["recall"] == pytest.approx(1.0) and m["coverage"] == 0.0
    )  # uniform on the box: 4 % of it
    # sigma 1e-2 throughout: 200 updates are too few for FlowPG's anneal to 5e-4
    trained = train_flow(
        "reacher-l2",
        epochs=1,
        steps_per_epoch=200,
        cv_sigma=1e-2,
        n_layers=4,
        hidden=32,
        n_samples=10_000,
        eval_samples=4000,
    )
    assert trained.metrics[-1]["coverage"] > 0.8 and trained.metrics[-1]["accuracy"] > 0.85
