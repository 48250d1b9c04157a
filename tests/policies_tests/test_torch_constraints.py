"""Torch violations, the differentiable projection and the linear oracle, against numpy."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import acrl_wrappers as acrl
from acrl_policies.constraints import (
    DifferentiableProjection,
    LinearMaximizationOracle,
    has_torch_violation,
    torch_violation,
)
from acrl_policies.errors import NoDifferentiablePathError, NoTorchViolationError

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# every built-in family, with state-dependent parameters where the family has them
FAMILIES: dict[str, dict] = {
    "box": {"name": "box", "dim": 3, "low": -1.0, "high": [1.0, 0.5, 1.0]},
    "box-state": {
        "name": "box",
        "dim": 2,
        "lower": {"index": "0:2", "offset": -0.3},
        "upper": {"index": "0:2", "offset": 0.3},
    },
    "ball": {"name": "ball", "bound": 0.05, "dim": 2},
    "ball-state": {
        "name": "ball",
        "radius": {"index": 2, "scale": 0.1, "offset": 0.5},
        "center": {"index": "0:2", "scale": 0.2},
    },
    "ball-weighted": {"name": "ball", "bound": 0.3, "weights": [1.0, 2.0, 0.5], "dim": 3},
    "power": {"name": "power", "bound": 2.0, "weight_index": "0:3"},
    "positive-power": {"name": "positive-power", "bound": 1.0, "weight_index": "0:3"},
    "power-shifted-box": {"name": "power", "bound": 1.0, "weights": [1.0, 2.0], "low": 0.2},
    "linear": {"name": "linear", "A": [[1.0, 1.0, 0.0], [1.0, -1.0, 0.5]], "b": [0.5, 0.2]},
    "linear-row": {"name": "linear", "A": [[1.0, 2.0, -1.0]], "b": {"index": 0, "scale": 0.3}},
    "linear-state": {"name": "linear", "A": [[1.0, 1.0], {"index": "0:2"}], "b": [0.5, 0.3]},
    "sum-band": {"name": "sum-band", "target": 0.5, "width": 0.1, "dim": 3},
    "quadratic": {"name": "quadratic", "Q": [[2.0, 0.5], [0.5, 1.0]], "bound": 0.2},
    "simplex": {"name": "simplex", "dim": 3, "low": 0.0},
    "capped-simplex": {
        "name": "capped-simplex",
        "caps": {"index": "0:3", "offset": 0.6},
        "total": 1.0,
        "low": 0.0,
    },
    "psd": {"name": "psd", "n": 2, "eps": 0.1},
    "psd-full": {"name": "psd", "n": 2, "eps": 0.0, "layout": "full"},
    "slew": {"name": "slew-rate", "delta": 0.2, "prev_index": "0:2"},
    "slew-l2": {"name": "slew-rate", "delta": 0.3, "prev_index": "0:2", "norm": "l2"},
    "intersection": {
        "name": "intersection",
        "members": [
            {"name": "power", "bound": 1.5, "weight_index": "0:2"},
            {"name": "linear", "A": [[1.0, -1.0]], "b": [0.3]},
        ],
    },
}


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    acrl.load_plugins()


def _obs(c, rng, n):
    """Observations in [0, 1]: every state parameter above stays valid there."""
    return rng.uniform(0.0, 1.0, size=(n, max(c.obs_dim, 3))) if c.obs_dim else None


@SETTINGS
@given(name=st.sampled_from(sorted(FAMILIES)), seed=st.integers(0, 2**31 - 1))
def test_torch_violation_matches_numpy(name, seed):
    c = acrl.make_constraint(FAMILIES[name])
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1.5, 1.5, size=(16, c.dim))
    if not c.obs_dim:  # some rows inside the set, where the violation is exactly 0
        a[:4] = c.sample(None, 4, rng)
    obs = _obs(c, rng, 16)
    expected = c.violation(a, obs)
    got = torch_violation(c, torch.tensor(a), None if obs is None else torch.tensor(obs))
    assert has_torch_violation(c)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6, rtol=0)


@pytest.mark.parametrize(
    "task",
    [
        "halfcheetah-o20",
        "reacher-l2",
        "reacher-t",
        "hopper-os",
        "hopper-m10",
        "nsfnet",
        "bss5z",
        "halfcheetah-slew02",
    ],
)
def test_torch_violation_matches_numpy_on_the_task_constraints(task):
    c = acrl.make_constraint(task)
    rng = np.random.default_rng(0)
    a = rng.uniform(-1.0, 1.0, size=(64, c.dim))
    obs = rng.normal(0.0, 5.0, size=(64, c.obs_dim)) if c.obs_dim else None
    if task == "halfcheetah-slew02":  # the previous action lies in the box
        obs = rng.uniform(-1.0, 1.0, size=(64, c.obs_dim))
    got = torch_violation(c, torch.tensor(a), obs)
    np.testing.assert_allclose(got.numpy(), c.violation(a, obs), atol=1e-6, rtol=0)


def test_torch_violation_has_subgradients_pointing_out_of_the_set():
    c = acrl.make_constraint("halfcheetah-o20")
    obs = np.zeros((1, 17))
    obs[0, 11:17] = 10.0
    a = torch.full((1, 6), 0.5, dtype=torch.float64, requires_grad=True)
    torch_violation(c, a, obs).sum().backward()
    assert a.grad.tolist() == [[10.0] * 6]  # d/da sum |w a| = w sign(a)


def test_a_family_without_torch_rows_is_refused_naming_the_alternatives():
    c = acrl.make_constraint("halfcheetah-ma")  # a plugin family with numpy rows only
    assert not has_torch_violation(c)
    with pytest.raises(NoTorchViolationError, match=r"register_torch_rows.*DPre"):
        torch_violation(c, torch.zeros(1, 6), np.zeros((1, 17)))


def test_torch_violation_stays_on_the_input_device_and_dtype():
    c = acrl.make_constraint(FAMILIES["ball-state"])
    a = torch.zeros(3, 2, dtype=torch.float32)
    out = torch_violation(c, a, np.zeros((3, 3)))
    assert out.dtype == torch.float32 and out.device == a.device and out.shape == (3,)


# ---------------------------------------------------------------- differentiable projection
PROJECTABLE = [
    "box",
    "box-state",
    "ball",
    "ball-state",
    "power",
    "positive-power",
    "power-shifted-box",
    "linear",
    "linear-row",
    "linear-state",
    "sum-band",
    "simplex",
    "capped-simplex",
    "slew",
    "slew-l2",
    "intersection",
]


def _fd_vjp(layer, a, obs, v, h=1e-6):
    """Central finite differences of ``v . x(a)``, row by row."""
    grad = np.zeros_like(a)
    for j in range(a.shape[1]):
        step = np.zeros_like(a)
        step[:, j] = h
        up = layer(torch.tensor(a + step), obs).detach().numpy()
        down = layer(torch.tensor(a - step), obs).detach().numpy()
        grad[:, j] = ((up - down) * v).sum(axis=1) / (2 * h)
    return grad


@SETTINGS
@given(name=st.sampled_from(PROJECTABLE), seed=st.integers(0, 2**31 - 1))
def test_projection_is_exact_and_its_gradient_matches_finite_differences(name, seed):
    c = acrl.make_constraint(FAMILIES[name])
    layer = DifferentiableProjection(c)
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2.0, 2.0, size=(8, c.dim))
    obs = _obs(c, rng, 8)
    x = layer(torch.tensor(a, requires_grad=True), obs)
    reference, _ = acrl.make_projector(c).project_batch(a, obs)
    np.testing.assert_allclose(x.detach().numpy(), reference, atol=1e-6)
    v = rng.normal(size=a.shape)
    a_t = torch.tensor(a, requires_grad=True)
    (layer(a_t, obs) * torch.tensor(v)).sum().backward()
    # finite differences are only valid away from a change of active set: skip rows
    # where a small move changes which rows and faces are active
    fd = _fd_vjp(layer, a, obs, v)
    fd_coarse = _fd_vjp(layer, a, obs, v, h=1e-4)
    smooth = np.abs(fd - fd_coarse).max(axis=1) < 1e-5
    np.testing.assert_allclose(a_t.grad.numpy()[smooth], fd[smooth], atol=1e-5)


@SETTINGS
@given(seed=st.integers(0, 2**31 - 1))
def test_gradient_on_the_boundary_and_with_active_box_bounds(seed):
    """Points already on the sphere, and points whose projection sits on box faces."""
    rng = np.random.default_rng(seed)
    c = acrl.make_constraint({"name": "ball", "bound": 1.2, "dim": 3})  # radius > 1: box binds
    layer = DifferentiableProjection(c)
    # mostly along x_0: the sphere and the face x_0 = +-1 both bind
    a = rng.choice([-1.0, 1.0], size=(8, 3)) * rng.uniform(0.4, 0.8, size=(8, 3))
    a[:, 0] *= rng.uniform(3.0, 4.0, size=8) / np.abs(a[:, 0])
    x = layer(torch.tensor(a), None).detach().numpy()
    v = rng.normal(size=a.shape)
    a_t = torch.tensor(a, requires_grad=True)
    (layer(a_t, None) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(a_t.grad.numpy(), _fd_vjp(layer, a, None, v, h=1e-7), atol=1e-5)
    boxed = np.abs(x[:, 0]) == 1.0
    assert boxed.all() and np.allclose((x * x).sum(1), 1.2)  # sphere and box both bind
    assert np.all(a_t.grad.numpy()[:, 0] == 0.0)  # a coordinate on a box face is fixed
    # on the boundary itself the layer takes the inside branch: feasible points pass
    # through with the identity Jacobian (the one-sided derivative into the set)
    x_t = torch.tensor(x, requires_grad=True)
    (layer(x_t, None) * torch.tensor(v)).sum().backward()
    inside = x * (1.0 - 1e-3)
    np.testing.assert_allclose(x_t.grad.numpy(), _fd_vjp(layer, inside, None, v), atol=1e-6)


def test_power_projection_gradient_on_the_halfcheetah_task():
    c = acrl.make_constraint("halfcheetah-o20")
    layer = DifferentiableProjection(c)
    rng = np.random.default_rng(3)
    obs = rng.normal(0.0, 15.0, size=(32, 17))
    a = rng.uniform(-1.0, 1.0, size=(32, 6))
    v = rng.normal(size=a.shape)
    a_t = torch.tensor(a, requires_grad=True)
    (layer(a_t, obs) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(a_t.grad.numpy(), _fd_vjp(layer, a, obs, v), atol=1e-5)


@pytest.mark.parametrize("name", ["quadratic", "psd", "ball-weighted"])
def test_no_differentiable_path_is_refused_at_construction(name):
    with pytest.raises(NoDifferentiablePathError, match="DPre or DPro"):
        DifferentiableProjection(FAMILIES[name])


def test_a_plugin_family_with_a_qp_form_goes_through_the_qp_layer():
    c = acrl.make_constraint("halfcheetah-ma")
    layer = DifferentiableProjection(c)
    rng = np.random.default_rng(0)
    obs = rng.normal(0.0, 5.0, size=(4, 17))
    a = rng.uniform(-1, 1, size=(4, 6))
    x = layer(torch.tensor(a), obs).numpy()
    assert layer.method == "qp" and c.contains(x, obs).all()


# ---------------------------------------------------------------- linear oracle
@pytest.mark.parametrize(
    "name",
    [
        "box",
        "box-state",
        "ball",
        "ball-state",
        "power",
        "positive-power",
        "simplex",
        "capped-simplex",
        "slew",
        "linear",
        "sum-band",
        "intersection",
        "power-shifted-box",
    ],
)
def test_oracle_matches_the_linear_program(name):
    c = acrl.make_constraint(FAMILIES[name])
    lmo = LinearMaximizationOracle(c)
    rng = np.random.default_rng(1)
    g = rng.normal(size=(32, c.dim))
    obs = _obs(c, rng, 32)
    x = lmo(torch.tensor(g), obs).numpy()
    assert c.contains(x, obs).all() or c.violation(x, obs).max() < 1e-7
    if lmo.method == "closed-form" and c.family != "ball":
        best = lmo._solve_lp(torch.tensor(g), obs)
        np.testing.assert_allclose((x * g).sum(1), (best * g).sum(1), atol=1e-7)
    else:  # no better feasible point among many samples
        for i in range(4):
            o = None if obs is None else obs[i]
            samples = c.sample(o, 2000, rng=i)
            assert (samples @ g[i]).max() <= (x[i] @ g[i]) + 1e-9


def test_oracle_is_refused_for_sets_without_one():
    with pytest.raises(NoDifferentiablePathError, match="NFWPO needs one"):
        LinearMaximizationOracle(FAMILIES["quadratic"])
