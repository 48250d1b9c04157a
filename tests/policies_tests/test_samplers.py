"""Feasible-sample generators: rejection and reflective HMC, with mixing diagnostics."""

from __future__ import annotations

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_policies.flows import (
    ConditionDistribution,
    ReflectiveHMC,
    effective_sample_size,
    rejection_sample,
    split_rhat,
)
from acrl_wrappers.errors import SamplingError


@pytest.mark.parametrize("name", ["reacher-l2", "halfcheetah-o20", "hopper-m10", "nsfnet"])
def test_rejection_samples_are_feasible_and_reproducible(name):
    c = acrl.make_constraint(name)
    a, y = rejection_sample(c, 500, rng=3, batch=20_000)
    assert a.shape == (500, c.dim) and y.shape == (500, len(c.obs_indices))
    obs = None if c.obs_dim == 0 else np.zeros((500, c.obs_dim))
    if obs is not None:
        obs[:, c.obs_indices] = y
    assert (c.violation(a, obs) <= c.tol).all()
    a2, _ = rejection_sample(c, 500, rng=3, batch=20_000)
    assert np.array_equal(a, a2)


def test_rejection_gives_up_on_tiny_sets_with_advice():
    c = acrl.make_constraint("ball", bound=1e-8, dim=6)
    with pytest.raises(SamplingError, match="use ReflectiveHMC"):
        rejection_sample(c, 10, rng=0, batch=1000, max_draws=5000)


@pytest.mark.parametrize(
    ("name", "condition"),
    [
        ("reacher-l2", None),
        ("hopper-m10", ConditionDistribution("uniform", -10.0, 10.0)),
        ("halfcheetah-o20", ConditionDistribution("normal", std=15.0)),
    ],
)
def test_hmc_matches_rejection_sampling(name, condition):
    c = acrl.make_constraint(name)
    a, y = rejection_sample(c, 5000, condition=condition, rng=0, balanced=False)  # the joint
    hmc = ReflectiveHMC(c, condition=condition, n_chains=32, step_size=0.1, seed=0)
    a_h, y_h, diag = hmc.sample(5000, burn_in=100)
    assert diag.feasible_fraction == 1.0
    assert diag.max_rhat < 1.05 and diag.min_ess > 500
    assert np.abs(np.abs(a_h).mean(0) - np.abs(a).mean(0)).max() < 0.03
    if condition is not None:
        assert np.abs(y_h.std(0) / y.std(0) - 1).max() < 0.1


def test_diagnostics_detect_chains_that_do_not_mix():
    rng = np.random.default_rng(0)
    stuck = rng.normal(size=(4, 400, 1)) + np.array([0.0, 0.0, 3.0, 3.0])[:, None, None]
    assert split_rhat(stuck)[0] > 1.5
    sticky = np.cumsum(rng.normal(size=(4, 400, 1)), axis=1)  # random walks
    assert effective_sample_size(sticky)[0] < 100
