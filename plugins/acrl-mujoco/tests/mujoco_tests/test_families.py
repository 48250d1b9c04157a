"""acrl's conformance kit on the plugin's own families."""

from __future__ import annotations

import numpy as np

from acrl_mujoco import AngleMomentConstraint, SineWeightedBall, TipSpeedConstraint
from acrl_wrappers.testing import ConstraintConformance


def angles_and_velocities(rng: np.random.Generator, size: int) -> np.ndarray:
    obs = rng.normal(0.0, 1.0, size=size)
    obs[8:] = rng.normal(0.0, 5.0, size=size - 8)
    return obs


class TestTipSpeed(ConstraintConformance):
    def make_constraint(self):
        return TipSpeedConstraint(bound=0.05)

    def sample_obs(self, rng):
        obs = rng.normal(size=10)
        obs[1] = np.cos(rng.uniform(-np.pi, np.pi))
        return obs


class TestAngleMoment(ConstraintConformance):
    def make_constraint(self):
        return AngleMomentConstraint()

    def sample_obs(self, rng):
        return angles_and_velocities(rng, 17)


class TestSineBall(ConstraintConformance):
    def make_constraint(self):
        return SineWeightedBall(bound=0.1, angle_index="2:5")

    def sample_obs(self, rng):
        return angles_and_velocities(rng, 11)
