"""Every wrapper records its constructor arguments, so env.spec rebuilds the same stack."""

from __future__ import annotations

import inspect
import json

import gymnasium as gym
import pytest

import acrl_wrappers as acrl
from wrappers_tests.wrappers_helpers import WRAPPERS

CONSTRAINT = {"name": "ball", "bound": 0.05, "dim": 2}


@pytest.mark.parametrize("enforce", sorted(WRAPPERS))
def test_recorded_arguments_are_the_constructor_parameters(enforce):
    cls = WRAPPERS[enforce]
    env = cls(gym.make("Reacher-v5"), CONSTRAINT)
    parameters = set(inspect.signature(cls.__init__).parameters) - {"self", "env"}
    assert set(env._saved_kwargs) == parameters


@pytest.mark.parametrize("enforce", sorted(WRAPPERS))
def test_gym_make_of_the_spec_rebuilds_the_same_stack(enforce):
    env = acrl.wrap(gym.make("Reacher-v5"), CONSTRAINT, enforce)
    json.dumps(env.spec.additional_wrappers[-1].kwargs)  # specs stay JSON for these options
    again = gym.make(env.spec)
    assert type(again) is type(env)
    assert again.constraint == env.constraint
    assert again.spec.additional_wrappers == env.spec.additional_wrappers
