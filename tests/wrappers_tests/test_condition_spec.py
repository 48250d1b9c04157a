"""Task-declared condition distributions: parsing, refusal of bad specs, attachment by gym.make."""

from __future__ import annotations

import gymnasium as gym
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.condition_spec import condition_spec, find_condition_distribution
from acrl_wrappers.errors import PluginError, SpecError
from acrl_wrappers.registration import register_function


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("uniform:-20,20", {"kind": "uniform", "low": -20.0, "high": 20.0}),
        ("normal:15", {"kind": "normal", "std": 15.0}),
        (
            {"kind": "uniform", "low": [-1, -2], "high": [1, 2]},
            {"kind": "uniform", "low": (-1.0, -2.0), "high": (1.0, 2.0)},
        ),
    ],
)
def test_specs_are_normalised(text, spec):
    assert condition_spec(text) == spec


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("uniform:1", "cannot read"),
        ("beta:1,2", "cannot read"),
        ("uniform:2,1", "low < high"),
        ("normal:-1", "std > 0"),
        ({"kind": "uniform", "low": [-1, -2], "high": [1, 2, 3]}, "differ in length"),
        ({"kind": "normal", "std": 1, "low": 0}, "mapping is"),
        ({"kind": "normal", "std": float("nan")}, "finite"),
        (3.0, "mapping"),
    ],
)
def test_bad_specs_are_refused_with_the_accepted_forms(bad, message):
    with pytest.raises(SpecError, match=message):
        condition_spec(bad)


def test_a_plugin_declaring_a_bad_distribution_is_refused_at_registration():
    register = register_function("env", "demo", [])
    with pytest.raises(
        PluginError, match=r"condition_distribution of env 'ACRL/Demo-v0'.*low < high"
    ):
        register("ACRL/Demo-v0", "demo:Env", condition_distribution="uniform:5,-5")


def test_gym_make_attaches_the_declared_distribution_under_every_enforcement():
    acrl.load_plugins()  # registers the plugins' ACRL/ tasks
    for enforce in ("project", "reject", "automdp", "none"):
        env = gym.make("ACRL/HalfCheetahO20-v0", enforce=enforce)
        assert find_condition_distribution(env) == {"kind": "uniform", "low": -20.0, "high": 20.0}
        env.close()
    assert find_condition_distribution(gym.make("ACRL/ReacherL2-v0")) is None  # not state-dependent
