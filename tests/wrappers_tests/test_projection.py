"""Projectors: selection, in-place OSQP updates, failures, silence, counters."""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.errors import InvalidActionError, ProjectionError, UnknownProjectorError
from acrl_wrappers.projection import QPForm


def test_make_projector_prefers_closed_form_then_osqp_then_nonlinear():
    assert (
        acrl.make_projector(acrl.make_constraint("power", bound=1.0, dim=3)).name == "closed-form"
    )
    lin = acrl.make_constraint("linear", A=[[1.0, 1.0], [1.0, -1.0]], b=[1.0, 0.5])
    assert acrl.make_projector(lin).name == "osqp"
    quad = acrl.make_constraint("quadratic", Q=[[1.0, 0.2], [0.2, 1.0]], bound=0.5)
    assert acrl.make_projector(quad).name == "nonlinear"
    assert acrl.make_projector({"name": "box", "dim": 2}).name == "closed-form"


def test_forcing_an_unsupported_projector_lists_the_supported_ones():
    quad = acrl.make_constraint("quadratic", Q=[[1.0, 0.0], [0.0, 1.0]], bound=0.5)
    with pytest.raises(ProjectionError, match=r"use one of \['nonlinear'\]"):
        acrl.make_projector(quad, "osqp")
    with pytest.raises(UnknownProjectorError, match="did you mean 'osqp'"):
        acrl.make_projector(quad, "osq")


def test_feasible_action_is_returned_unchanged_without_a_solve():
    c = acrl.make_constraint("ball", bound=0.05, dim=2)
    projector = acrl.make_projector(c)
    x, info = projector.project(np.array([0.1, 0.1], dtype=np.float32))
    np.testing.assert_allclose(x, [0.1, 0.1], rtol=1e-7)
    assert x.dtype == np.float64
    assert info.projected is False and info.solves == 0 and info.status == "feasible"
    assert (projector.calls, projector.solves) == (1, 0)


def test_osqp_is_set_up_once_and_matches_closed_form(cheetah_obs, rng):
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    osqp_projector = acrl.make_projector(c, "osqp")
    exact = acrl.make_projector(c, "closed-form")
    solvers = set()
    for _ in range(50):
        obs = cheetah_obs + rng.normal(0, 3, size=17)
        a = rng.uniform(-1, 1, size=6)
        x, _ = osqp_projector.project(a, obs)
        y, _ = exact.project(a, obs)
        solvers.add(id(osqp_projector._solver))
        assert c.violation(x, obs) <= c.tol
        np.testing.assert_allclose(x, y, atol=1e-5)
    assert len(solvers) == 1  # one OSQP problem, updated in place
    assert osqp_projector.calls == 50 and 0 < osqp_projector.solves <= 50


def test_solver_output_never_reaches_stdout(capfd, cheetah_obs, rng):
    c = acrl.make_constraint(
        "intersection",
        members=[
            {"name": "power", "bound": 20.0, "weight_index": "11:17"},
            {"name": "linear", "A": [[1.0, 1.0, 1.0, 1.0, 1.0, 1.0]], "b": [0.5]},
        ],
    )
    projector = acrl.make_projector(c)
    assert projector.name == "osqp"
    for _ in range(30):
        projector.project(rng.uniform(-1, 1, size=6), cheetah_obs)
    acrl.make_projector(
        acrl.make_constraint("quadratic", Q=[[1.0, 0.0], [0.0, -1.0]], bound=0.1), "nonlinear"
    ).project([1.0, 0.0])
    out, _ = capfd.readouterr()
    assert out == ""


class _ContradictoryRows(acrl.Constraint):
    """A test family whose QP form is infeasible when obs[0] > 0 (x0 >= 0.5 and x0 <= -0.5)."""

    family = "test-contradictory"

    def __init__(self) -> None:
        super().__init__(dim=2)
        self.obs_dim = 1

    def _params(self) -> dict[str, Any]:
        return {}

    def rows(self, actions, obs):
        gap = np.where(obs[:, 0] > 0, 0.5, -0.5)
        return np.stack([gap - actions[:, 0], actions[:, 0] + gap], axis=1)

    def qp_form(self) -> QPForm:
        def values(obs):
            gap = 0.5 if obs[0, 0] > 0 else -0.5
            return np.array([-1.0, 1.0]), np.array([-np.inf, -np.inf]), np.array([-gap, -gap])

        return QPForm(
            dim=2,
            n_aux=0,
            n_rows=2,
            rows=np.array([0, 1]),
            cols=np.array([0, 0]),
            values=values,
            state_dependent=False,
        )


def test_osqp_failure_raises_with_status_and_counts_it():
    c = _ContradictoryRows()
    projector = acrl.OSQPProjector(c)
    x, info = projector.project([0.9, 0.0], [-1.0])  # feasible set |x0| <= 0.5: fine
    assert info.projected and c.contains(x, [-1.0])
    with pytest.raises(ProjectionError, match="primal infeasible") as caught:
        projector.project([0.9, 0.0], [1.0])
    assert "infeasible" in caught.value.status
    assert projector.failures == 1


def test_project_rejects_batches_and_bad_input():
    projector = acrl.make_projector(acrl.make_constraint("box", dim=2))
    with pytest.raises(InvalidActionError, match="project_batch"):
        projector.project(np.zeros((3, 2)))
    with pytest.raises(InvalidActionError):
        projector.project([np.nan, 0.0])


def test_project_batch_projects_each_row(cheetah_obs, rng):
    c = acrl.make_constraint("power", bound=5.0, weight_index="11:17")
    actions = rng.uniform(-1, 1, size=(20, 6))
    out, dist = acrl.make_projector(c).project_batch(actions, cheetah_obs)
    assert out.shape == (20, 6) and dist.shape == (20,)
    assert np.all(c.violation(out, cheetah_obs) <= c.tol)
    np.testing.assert_allclose(dist, np.linalg.norm(out - actions, axis=1))


def test_projectors_pickle_and_keep_working(cheetah_obs):
    c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    projector = acrl.make_projector(c, "osqp")
    projector.project(np.ones(6), cheetah_obs)
    copy = pickle.loads(pickle.dumps(projector))
    x, _ = copy.project(np.ones(6), cheetah_obs)
    assert c.contains(x, cheetah_obs)


def test_nonconvex_projection_is_feasible_and_no_farther_than_samples():
    c = acrl.make_constraint("quadratic", Q=[[1.0, 0.0], [0.0, -1.0]], bound=-0.1)  # |x1| > ...
    assert not c.convex
    samples = c.sample(None, 2000, rng=1)
    projector = acrl.make_projector(c)
    for a in np.random.default_rng(0).uniform(-1, 1, size=(20, 2)):
        x, info = projector.project(a)
        assert c.contains(x)
        assert info.distance <= np.linalg.norm(samples - a, axis=1).min() + 1e-6
