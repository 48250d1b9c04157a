"""Shared fixtures and Hypothesis profiles for acrl-wrappers tests."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, settings

torch.set_num_threads(1)  # the tests' tiny networks train faster on one thread

settings.register_profile(
    "default", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=40,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def cheetah_obs(rng: np.random.Generator) -> np.ndarray:
    """A HalfCheetah-sized observation whose joint velocities (obs[11:17]) are large."""
    obs = rng.normal(0.0, 1.0, size=17)
    obs[11:17] = rng.normal(0.0, 10.0, size=6)
    return obs
