"""Flows: exact inverses and log-determinants, bases, training, checkpoints, registry."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import acrl_wrappers as acrl
from acrl_policies.errors import (
    FlowAccuracyWarning,
    FlowCheckpointError,
    FlowError,
    FlowNumericalError,
)
from acrl_policies.flows import (
    ConditionalRealNVP,
    ConditionDistribution,
    Conditioning,
    FlowCheckpoint,
    FlowTrainingConfig,
    MollifiedUniform,
    NumpyFlow,
    StandardNormal,
    make_flow,
    make_sampler,
    train_flow,
    violation_scale,
    violation_with_gradient,
)
from acrl_policies.flows.objectives import FlowObjective


def randomised(flow: torch.nn.Module, seed: int = 0, scale: float = 0.3) -> torch.nn.Module:
    """Random weights everywhere (a fresh flow is the identity: its last layers are zero)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in flow.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=p.dtype) * scale)
    return flow


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize(("dim", "condition_dim"), [(2, 0), (3, 3), (6, 6), (1, 2), (5, 1)])
def test_inverse_undoes_forward_and_log_dets_are_opposite(dim, condition_dim, dtype):
    flow = randomised(ConditionalRealNVP(dim, condition_dim, n_layers=4, hidden=16)).to(dtype)
    gen = torch.Generator().manual_seed(1)
    z = torch.rand(64, dim, generator=gen, dtype=dtype) * 2 - 1
    y = torch.randn(64, condition_dim, generator=gen, dtype=dtype) if condition_dim else None
    a, log_det = flow(z, y)
    back, inverse_log_det = flow.inverse(a, y)
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert a.dtype == dtype
    assert torch.allclose(back, z, atol=tol)
    assert torch.allclose(log_det, -inverse_log_det, atol=tol)
    assert not torch.allclose(a, z)  # the randomised flow really transforms


@given(seed=st.integers(0, 10_000), conditional=st.booleans())
def test_log_det_equals_autograd_jacobian(seed, conditional):
    flow = randomised(ConditionalRealNVP(4, 2 if conditional else 0, n_layers=3, hidden=8), seed)
    flow = flow.double()
    gen = torch.Generator().manual_seed(seed)
    z = torch.rand(4, generator=gen, dtype=torch.float64) * 2 - 1
    y = torch.randn(1, 2, generator=gen, dtype=torch.float64) if conditional else None
    jacobian = torch.autograd.functional.jacobian(lambda v: flow(v[None], y)[0][0], z)
    _, log_det = flow(z[None], y)
    assert torch.allclose(log_det[0], torch.linalg.slogdet(jacobian).logabsdet, atol=1e-9)
    a = flow(z[None], y)[0][0].detach()
    inv_jacobian = torch.autograd.functional.jacobian(lambda v: flow.inverse(v[None], y)[0][0], a)
    _, inv_log_det = flow.inverse(a[None], y)
    assert torch.allclose(inv_log_det[0], torch.linalg.slogdet(inv_jacobian).logabsdet, atol=1e-9)


def test_numpy_copy_matches_the_torch_flow():
    flow = randomised(ConditionalRealNVP(6, 6, n_layers=6, hidden=32)).double()
    rng = np.random.default_rng(0)
    z, y = rng.uniform(-1, 1, (10, 6)), rng.normal(0, 10, (10, 6))
    exact = flow(torch.as_tensor(z), torch.as_tensor(y))[0].detach().numpy()
    assert np.allclose(NumpyFlow(flow)(z, y), exact, atol=1e-12)


def test_nan_in_a_layer_is_reported_with_the_layer():
    flow = ConditionalRealNVP(2, n_layers=4, hidden=8)
    with torch.no_grad():
        flow.layers[2].net[-1].bias.fill_(float("nan"))
    with pytest.raises(FlowNumericalError, match="coupling layer 2 of 4"):
        flow(torch.zeros(3, 2))
    with pytest.raises(FlowNumericalError, match=r"coupling layer 2 of 4 .* inverse"):
        flow.inverse(torch.zeros(3, 2))
    with pytest.raises(FlowNumericalError, match="input contains NaN"):
        ConditionalRealNVP(2, n_layers=2)(torch.full((1, 2), float("nan")))


def test_flow_rejects_bad_sizes_and_missing_conditions():
    with pytest.raises(FlowError, match="`dim` must be a positive integer"):
        ConditionalRealNVP(0)
    with pytest.raises(FlowError, match="no half to condition on"):
        ConditionalRealNVP(1)
    with pytest.raises(FlowError, match="pass the condition"):
        ConditionalRealNVP(2, 3)(torch.zeros(1, 2))
    with pytest.raises(FlowError, match="condition has 2 entries, the flow expects 3"):
        ConditionalRealNVP(2, 3)(torch.zeros(1, 2), torch.zeros(1, 2))


def test_bases():
    uniform = MollifiedUniform(3, sigma=0.5)
    z = torch.tensor([[0.0, 0.5, -1.0], [1.5, 0.0, 0.0]])
    assert uniform.log_prob(z).tolist() == [0.0, -0.5]
    assert uniform.support(z).tolist() == [True, False]
    gaussian = StandardNormal(2)
    samples = gaussian.sample(20_000, torch.Generator().manual_seed(0))
    assert 0.985 < gaussian.support(samples).float().mean().item() < 0.995  # the 99 % ball


def test_violation_gradient_matches_the_analytic_one():
    c = acrl.make_constraint("power", bound=1.0, weight_index=[0, 1])
    a = torch.tensor([[0.6, -0.7], [0.1, 0.1]], dtype=torch.float64, requires_grad=True)
    obs = np.array([[2.0, 3.0], [1.0, 1.0]])
    v = violation_with_gradient(c, a, obs)
    v.sum().backward()
    assert v.tolist() == pytest.approx([0.6 * 2 + 0.7 * 3 - 1.0, 0.0])
    assert np.allclose(a.grad.numpy(), [[2.0, -3.0], [0.0, 0.0]], atol=1e-6)


def test_violation_scale_is_the_median_infeasible_violation_under_the_conditions():
    c = acrl.make_constraint("halfcheetah-o20")
    cond = Conditioning(c)
    wide, narrow = (
        ConditionDistribution.parse("uniform:-20,20"),
        ConditionDistribution.parse("uniform:-2,2"),
    )
    # recomputed by hand: uniform actions, conditions at the velocity entries
    rng = np.random.default_rng(5)
    a = rng.uniform(-1.0, 1.0, size=(4000, 6))
    y = wide.sample(4000, 6, rng)
    v = c.violation(a, cond.observations(y))
    expected = float(np.median(v[v > c.tol]))
    assert violation_scale(c, cond, wide, n=4000, seed=5) == pytest.approx(expected)
    # it follows the conditions (velocities 10x smaller: violations ~ 0), and a set that
    # fills the box has scale 1
    assert violation_scale(c, cond, narrow) < 0.1 * expected
    box = acrl.make_constraint("box", dim=2)
    assert violation_scale(box, Conditioning(box), ConditionDistribution()) == 1.0


def test_the_reverse_kl_temperature_is_in_units_of_the_violation_scale():
    c = acrl.make_constraint("reacher-l2")
    cond, dist = Conditioning(c), ConditionDistribution()
    flow = randomised(make_flow("rqspline", dim=2, condition_dim=0, n_layers=2, hidden=8), 1)
    empty = np.zeros((0, 2))

    def loss(**settings):
        cfg = FlowTrainingConfig(method="cvflow", forward_kl_weight=0.0, **settings)
        objective = FlowObjective(cfg, c, cond, dist, empty, empty, torch.device("cpu"))
        return objective.violation_scale, objective.reverse_kl(flow, 0, 10).item()

    measured, loss_measured = loss(cv_sigma=1e-2, cv_sigma_start=1e-2)
    assert measured == pytest.approx(violation_scale(c, cond, dist))
    # the same loss as raw units with the temperature multiplied by the scale
    raw, loss_raw = loss(
        cv_sigma=1e-2 * measured, cv_sigma_start=1e-2 * measured, violation_scale=1.0
    )
    assert raw == 1.0 and loss_raw == pytest.approx(loss_measured, rel=1e-6)
    with pytest.raises(FlowError, match="`violation_scale` must be positive"):
        FlowTrainingConfig(violation_scale=0.0)


def test_conditioning_follows_the_constraint():
    c = acrl.make_constraint("halfcheetah-o20")
    assert Conditioning(c).indices == [11, 12, 13, 14, 15, 16]
    with pytest.raises(FlowError, match=r"reads observation entries \[16\]"):
        Conditioning(c, [11, 12, 13, 14, 15])
    with pytest.raises(FlowError, match="only 12 entries"):
        Conditioning(c).check_observation_size(12)
    with pytest.raises(FlowError, match="uniform:LOW,HIGH"):
        ConditionDistribution.parse("gauss:3")


@pytest.mark.parametrize("method", ["flowpg", "cvflow"])
def test_training_a_tiny_flow_improves_accuracy(method):
    ckpt = train_flow(
        "reacher-l2",
        method=method,
        epochs=2,
        steps_per_epoch=150,
        n_layers=4,
        hidden=64,
        n_samples=20_000,
        eval_samples=4000,
    )
    first, last = ckpt.metrics[0], ckpt.metrics[-1]
    assert first["epoch"] == 0 and last["epoch"] == 2
    assert first["accuracy"] < 0.1  # the identity flow: the disc covers 4 % of the box
    assert last["accuracy"] > 0.8
    assert last["recall"] > 0.5 and 0 < last["f1"] <= 1
    assert last["accuracy_margin"] >= last["accuracy"]
    assert last["violation_scale"] == pytest.approx(0.61, abs=0.02)  # recorded with the run


def test_conditional_flow_trains_on_hmc_samples():
    ckpt = train_flow(
        "hopper-m10",
        method="flowpg",
        sampler="hmc",
        epochs=1,
        steps_per_epoch=200,
        n_layers=4,
        hidden=64,
        n_samples=5000,
        eval_samples=2000,
    )
    assert ckpt.condition_indices == [8, 9, 10]
    assert ckpt.metrics[-1]["accuracy"] > ckpt.metrics[0]["accuracy"]
    assert ckpt.metrics[-1]["hmc_feasible_fraction"] == 1.0
    assert ckpt.metrics[-1]["hmc_max_rhat"] < 1.1


def test_low_accuracy_warns_and_still_returns_the_flow():
    with pytest.warns(FlowAccuracyWarning, match="below the requested 0.9990"):
        ckpt = train_flow(
            "reacher-l2",
            method="cvflow",
            epochs=1,
            steps_per_epoch=5,
            n_layers=2,
            hidden=8,
            eval_samples=500,
            target_accuracy=0.999,
        )
    assert len(ckpt.metrics) == 2


def test_training_settings_are_checked():
    with pytest.raises(FlowError, match="unknown flow training settings \\['epoch'\\]"):
        train_flow("reacher-l2", epoch=3)
    with pytest.raises(FlowError, match="'flowpg' or 'cvflow'"):
        FlowTrainingConfig(method="mle")
    with pytest.raises(FlowError, match="`learning_rate` must be positive"):
        FlowTrainingConfig(learning_rate=0.0)
    with pytest.raises(FlowError, match=r"`face_fraction` must lie in \[0, 1\], got 1.5"):
        FlowTrainingConfig(face_fraction=1.5)
    assert FlowTrainingConfig().objective()["face_fraction"] == 0.3  # FlowPG's default
    assert FlowTrainingConfig(method="cvflow").objective()["face_fraction"] == 0.0


@pytest.fixture(scope="module")
def cheetah_ckpt() -> FlowCheckpoint:
    c = acrl.make_constraint("halfcheetah-o20")
    flow = randomised(ConditionalRealNVP(6, 6, n_layers=2, hidden=8, condition_scale=15.0), 3)
    return FlowCheckpoint(flow, c, c.obs_indices, ConditionDistribution("normal", std=15.0))


def test_checkpoint_round_trip_keeps_everything(tmp_path, cheetah_ckpt):
    path = tmp_path / "cheetah.flow"
    cheetah_ckpt.metrics.append({"epoch": 1, "accuracy": 0.5})
    cheetah_ckpt.save(path)
    loaded = FlowCheckpoint.load(path, constraint="halfcheetah-o20", obs_size=17)
    assert loaded.config() == cheetah_ckpt.config()
    z, obs = np.random.default_rng(0).uniform(-1, 1, (5, 6)), np.ones((5, 17))
    assert np.array_equal(loaded.actions(z, obs), cheetah_ckpt.actions(z, obs))


def test_checkpoint_refuses_another_constraint_or_observation(tmp_path, cheetah_ckpt):
    path = tmp_path / "cheetah.flow"
    cheetah_ckpt.save(path)
    with pytest.raises(FlowCheckpointError, match=r"trained for constraint .*\"bound\": 20.0"):
        FlowCheckpoint.load(path, constraint=acrl.make_constraint("halfcheetah-o20", bound=10.0))
    with pytest.raises(FlowCheckpointError, match="acts in 6 dimensions but the constraint has 3"):
        FlowCheckpoint.load(path, constraint="hopper-m10")
    with pytest.raises(FlowError, match="only 11 entries"):
        FlowCheckpoint.load(path, obs_size=11)


def test_corrupt_or_foreign_files_are_refused(tmp_path):
    missing = tmp_path / "missing.flow"
    with pytest.raises(FlowCheckpointError, match="no flow checkpoint at"):
        FlowCheckpoint.load(missing)
    garbage = tmp_path / "garbage.flow"
    garbage.write_bytes(b"not a torch file")
    with pytest.raises(FlowCheckpointError, match="cannot read the flow checkpoint"):
        FlowCheckpoint.load(garbage)
    foreign = tmp_path / "foreign.flow"
    torch.save({"config": {"format": "other/2"}, "state_dict": {}}, foreign)
    with pytest.raises(FlowCheckpointError, match="not an acrl flow checkpoint"):
        FlowCheckpoint.load(foreign)


def test_architectures_and_samplers_come_from_the_plugin_registry():
    registered = {e.name for e in acrl.plugins.default_host().registry("policy")}
    assert {"realnvp", "rejection", "hmc"} <= registered
    assert isinstance(make_flow("realnvp", dim=2, n_layers=1, hidden=4), ConditionalRealNVP)
    with pytest.raises(FlowError, match="did you mean 'realnvp'"):
        make_flow("realnpv", dim=2)
    with pytest.raises(FlowError, match="is not a flow architecture"):
        make_flow("rejection")
    with pytest.raises(FlowError, match="is not a sampler"):
        make_sampler("realnvp")


def test_a_plugin_can_register_its_own_flow_architecture():
    class AffineFlow(ConditionalRealNVP):
        """A one-layer flow, registered by a plugin."""

    class Plugin:
        @acrl.hookimpl
        def register_policies(self, register):
            register("one-layer-flow", AffineFlow, doc="flow architecture: one coupling")

    host = acrl.plugins.default_host()
    plugin = Plugin()
    assert host.add_plugin(plugin, "test-flow-plugin")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FlowAccuracyWarning)
            ckpt = train_flow(
                "reacher-l2",
                architecture="one-layer-flow",
                n_layers=1,
                hidden=4,
                epochs=1,
                steps_per_epoch=2,
                n_samples=100,
                eval_samples=100,
            )
        assert (
            isinstance(ckpt.flow, AffineFlow) and ckpt.config()["architecture"] == "one-layer-flow"
        )
    finally:
        host.pm.unregister(plugin)
        host.registry("policy").remove_plugin("test-flow-plugin")
