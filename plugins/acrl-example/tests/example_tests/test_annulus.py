"""Tests of the example plugin: conformance kit, entry-point loading, use through acrl."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_example import AnnulusConstraint, RadialProjector
from acrl_wrappers.testing import ConstraintConformance


class TestAnnulusConformance(ConstraintConformance):
    """acrl's conformance suite run on the plugin's family (through its own projector)."""

    def make_constraint(self):
        return AnnulusConstraint(lower=0.045, upper=0.05, dim=2)


class TestOffsetAnnulusConformance(ConstraintConformance):
    def make_constraint(self):
        return AnnulusConstraint(lower=0.1, upper=0.3, center=[0.2, -0.1, 0.0], low=-1.0, high=1.0)


def test_loaded_through_the_installed_entry_point():
    plugins = {p["name"]: p for p in acrl.list_plugins()}
    assert plugins["example"]["distribution"] == "acrl-example"
    assert plugins["example"]["status"] == "loaded"
    assert {"register_constraints", "register_projectors"} <= set(plugins["example"]["hooks"])


def test_constraint_and_projector_reached_by_name():
    c = acrl.make_constraint("reacher-annulus")
    assert isinstance(c, AnnulusConstraint) and c.spec["name"] == "annulus"
    projector = acrl.make_projector(c)
    assert isinstance(projector, RadialProjector)
    x, info = projector.project(np.array([0.0, 0.0]))
    assert c.contains(x) and info.projected


def test_listed_by_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "acrl_wrappers", "constraints"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "reacher-annulus" in out and "annulus" in out


def test_annulus_outside_the_box_is_rejected():
    with pytest.raises(acrl.ConstraintError, match="inside the action box"):
        AnnulusConstraint(lower=0.5, upper=2.0, dim=2)


def test_registered_task_takes_enforce_and_executes_only_feasible_actions():
    import gymnasium as gym

    acrl.load_plugins()
    env = gym.make("ACRL/ReacherAnnulus-v0", enforce="reject", on_reject="fallback")
    constraint = acrl.find_constraint(env)
    assert constraint == acrl.make_constraint("reacher-annulus")
    env.reset(seed=0)
    env.action_space.seed(0)
    executed = 0
    for _ in range(200):
        state = env.unwrapped.data.qpos.copy()
        obs = env.unwrapped._get_obs()
        _, _, terminated, truncated, _ = env.step(env.action_space.sample())
        # what the simulator applied is its control input; it must be feasible
        assert constraint.contains(env.unwrapped.data.ctrl.copy(), obs)
        executed += not (env.unwrapped.data.qpos == state).all()
        if terminated or truncated:
            env.reset()
    assert executed > 0
