"""Faulty plugin objects at the wrapper boundary: named, answered safely, never executed.

A probe beneath each wrapper records what reaches the simulator: under every enforcing
mode a projector that raises, returns the wrong shape, NaN or an infeasible action gets
the constraint's safe action (zero infeasible executions); when the safe action fails
too, or the constraint itself is broken, the step raises a named acrl error and the
simulator is not stepped.
"""

from __future__ import annotations

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.constraints.base import Constraint
from acrl_wrappers.errors import PluginFaultError, ProjectionError
from acrl_wrappers.testing import ConformanceError, check_constraint
from wrappers_tests.wrappers_helpers import probed


class _Faulty(acrl.Projector):
    """A projector that misbehaves in the way ``fault`` names."""

    name = "faulty"
    fault = "raise"

    @classmethod
    def supports(cls, constraint):
        return True

    def _project(self, action, obs):
        if self.fault == "raise":
            return 1 / 0
        if self.fault == "shape":
            return np.zeros(self.constraint.dim + 1)
        if self.fault == "nan":
            return np.full(self.constraint.dim, np.nan)
        return action  # "infeasible": hands the infeasible action back


class _LyingProjector(_Faulty):
    """Overrides the checked entry point too, so only the wrapper's own check stands."""

    def project_checked(self, action, obs, violation):
        return np.full(self.constraint.dim, 0.9), None


FAULTS = ["raise", "shape", "nan", "infeasible"]
# each enforcing mode, set up so that an infeasible proposal is projected at once
MODES = [
    ("project", {}),
    ("reject", {"on_reject": "fallback"}),
    ("reject", {"max_rejections": 1}),
    ("automdp", {"max_rejections": 1}),
]
FAR_OUTSIDE = np.array([0.9, 0.9])  # the Reacher disc is a1^2 + a2^2 <= 0.05


def _step_until_executed(env, probe, action, limit=5):
    for _ in range(limit):
        before = probe.steps
        _, _, _, _, info = env.step(action)
        if probe.steps > before:
            return info
    raise AssertionError("no step reached the simulator")


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize(("enforce", "options"), MODES)
def test_a_faulty_projector_gets_the_safe_action_and_is_named(fault, enforce, options):
    env, probe, c = probed("Reacher-v5", enforce, **options)
    probe.keep = True
    env._projector = type("Faulty", (_Faulty,), {"fault": fault, "__module__": __name__})(c)
    env.reset(seed=0)
    info = _step_until_executed(env, probe, FAR_OUTSIDE)
    found = info["constraint"]
    assert found["enforcement"] == "fallback"
    assert "projector 'faulty'" in found["error_detail"] and "test_faults" in found["error_detail"]
    np.testing.assert_array_equal(probe.actions[-1], c.safe_action())
    assert probe.infeasible == 0


def test_the_wrapper_checks_the_projection_itself():
    env, probe, c = probed("Reacher-v5", "project")
    env._projector = _LyingProjector(c)
    env.reset(seed=0)
    _, _, _, _, info = env.step(FAR_OUTSIDE)
    assert info["constraint"]["error"] == "infeasible"
    assert probe.infeasible == 0 and probe.steps == 1


def test_a_projector_that_cannot_be_built_counts_as_a_failed_projection():
    env, probe, _ = probed("Reacher-v5", "project", projector="no-such-projector")
    env.reset(seed=0)
    _, _, _, _, info = env.step(FAR_OUTSIDE)
    assert info["constraint"]["enforcement"] == "fallback"
    assert "no-such-projector" in info["constraint"]["error_detail"]
    assert probe.infeasible == 0


class _NoSafeAction(acrl.BallConstraint):
    """A ball whose safe action raises (a broken sampler)."""

    def safe_action(self, obs=None):
        raise ZeroDivisionError("sampler bug")


class _InfeasibleSafeAction(acrl.BallConstraint):
    def safe_action(self, obs=None):
        return np.array([0.9, 0.9])


@pytest.mark.parametrize("constraint_cls", [_NoSafeAction, _InfeasibleSafeAction])
@pytest.mark.parametrize(("enforce", "options"), MODES)
def test_when_the_safe_action_fails_too_nothing_is_executed(constraint_cls, enforce, options):
    c = constraint_cls(bound=0.05, dim=2)
    env, probe, _ = probed("Reacher-v5", enforce, constraint=c, **options)
    env._projector = _Faulty(c)
    env.reset(seed=0)
    steps = 0 if enforce == "project" or options.get("on_reject") else 1  # a self-loop first
    for _ in range(steps):
        env.step(FAR_OUTSIDE)
    with pytest.raises(ProjectionError, match=r"no safe action was found.*not executed"):
        env.step(FAR_OUTSIDE)
    assert probe.steps == 0


def test_the_safe_fallback_is_checked_too():
    c = _InfeasibleSafeAction(bound=0.05, dim=2)
    env, probe, _ = probed(
        "Reacher-v5", "reject", constraint=c, on_reject="fallback", fallback="safe"
    )
    env.reset(seed=0)
    with pytest.raises(ProjectionError, match=r"safe_action.*infeasible action"):
        env.step(FAR_OUTSIDE)
    assert probe.steps == 0


class _RaisingRows(acrl.BallConstraint):
    family = "raising-rows"

    def _rows_one(self, action, obs):
        raise ZeroDivisionError("division in rows")

    def rows(self, actions, obs):
        raise ZeroDivisionError("division in rows")


class _NanRows(acrl.BallConstraint):
    family = "nan-rows"

    def _rows_one(self, action, obs):
        return [float("nan")]


class _ForgetsObsDim(Constraint):
    """Reads obs[0] as its bound but never sets obs_dim."""

    family = "forgets-obs-dim"

    def __init__(self):
        super().__init__(dim=2)

    def rows(self, actions, obs):
        return (np.abs(actions).sum(axis=1) - obs[:, 0]).reshape(-1, 1)

    def _params(self):
        return {}


class _WrongRowShape(acrl.BallConstraint):
    family = "wrong-row-shape"

    def rows(self, actions, obs):
        return np.zeros(actions.shape[0])  # (N,) instead of (N, m)


@pytest.mark.parametrize(
    ("constraint", "message"),
    [
        (_RaisingRows(bound=0.05, dim=2), "raised ZeroDivisionError: division in rows"),
        (_NanRows(bound=0.05, dim=2), "overflowed float64"),
        (_ForgetsObsDim(), "set self.obs_dim"),
    ],
)
@pytest.mark.parametrize("enforce", ["project", "reject", "automdp", "monitor"])
def test_a_broken_constraint_is_named_and_nothing_is_executed(constraint, message, enforce):
    env, probe, _ = probed("Reacher-v5", enforce, constraint=constraint)
    env.reset(seed=0)
    with pytest.raises(PluginFaultError, match=message) as caught:
        env.step(np.array([0.01, 0.01]))
    assert f"constraint {constraint.family!r}" in str(caught.value)
    assert "test_faults" in str(caught.value) and "not executed" in str(caught.value)
    assert probe.steps == 0


def test_a_nan_action_is_still_the_policys_error():
    env, probe, _ = probed("Reacher-v5", "project")
    env.reset(seed=0)
    with pytest.raises(acrl.InvalidActionError, match="NaN"):
        env.step(np.array([np.nan, 0.0]))
    assert probe.steps == 0


@pytest.mark.parametrize(
    ("constraint", "message"),
    [
        (_ForgetsObsDim(), "obs_dim is 0, so it was given obs=None: set self.obs_dim"),
        (
            _WrongRowShape(bound=0.05, dim=2),
            r"returned ndarray of shape \(4,\).*one row per action",
        ),
        (_RaisingRows(bound=0.05, dim=2), "rows\\(\\) raised ZeroDivisionError"),
    ],
)
def test_the_conformance_kit_names_each_authoring_mistake_with_its_fix(constraint, message):
    with pytest.raises(ConformanceError, match=message):
        check_constraint(constraint)
