"""The resource plugin through acrl: entry point, registry, env checkers, executed feasibility."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import acrl_wrappers as acrl
from acrl_resource import BikeSharingEnv, NSFnetEnv
from acrl_wrappers.testing import ActionProbe, check_constraint

TASKS = {
    "ACRL/BSS3z-v0": ("bss3z", 24),
    "ACRL/BSS5z-v0": ("bss5z", 24),
    "ACRL/NSFnet-v0": ("nsfnet", 100),
}
ALIASES = {"bss3z": "BSS3z+S+D40", "bss5z": "BSS5z+S+D40", "nsfnet": "NSFnetV2+S"}


@pytest.fixture(scope="module", autouse=True)
def _plugins():
    acrl.load_plugins()


def test_loaded_through_the_installed_entry_point():
    plugins = {p["name"]: p for p in acrl.list_plugins()}
    assert plugins["resource"]["distribution"] == "acrl-resource"
    assert plugins["resource"]["status"] == "loaded"
    assert set(plugins["resource"]["hooks"]) == {"register_constraints", "register_envs"}


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("bss3z", {"name": "sum-band", "dim": 3, "target": 1.0, "width": 0.1}),
        ("bss5z", {"name": "sum-band", "dim": 5, "target": 2.5, "width": 0.1}),
        ("nsfnet", {"name": "linear", "dim": 9}),
    ],
)
def test_named_constraints_are_core_families_reachable_by_name_and_alias(name, spec):
    c = acrl.make_constraint(name)
    assert spec.items() <= c.spec.items()
    assert acrl.make_constraint(ALIASES[name]) == c
    assert acrl.make_constraint(c.spec) == c
    listed = {entry["name"]: entry for entry in acrl.list_constraints()}
    assert ALIASES[name] in listed[name]["aliases"]
    assert "arXiv:2503.12932" in listed[name]["summary"] and listed[name]["plugin"] == "resource"


@pytest.mark.parametrize("name", sorted(ALIASES))
def test_named_constraints_pass_the_conformance_kit(name):
    check_constraint(acrl.make_constraint(name), n_states=2, n_actions=60)


@pytest.mark.parametrize("env_id", sorted(TASKS))
def test_tasks_are_registered_with_their_constraint_and_time_limit(env_id):
    name, steps = TASKS[env_id]
    env = gym.make(env_id, enforce="monitor")
    assert acrl.find_constraint(env) == acrl.make_constraint(name)
    assert isinstance(env.unwrapped, BikeSharingEnv | NSFnetEnv)
    env.reset(seed=0)
    for step in range(1, steps + 1):
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        assert not terminated and truncated == (step == steps)


def test_tasks_are_listed_by_the_cli():
    out = subprocess.run(
        [sys.executable, "-m", "acrl_wrappers", "envs", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert set(TASKS) <= {entry["id"] for entry in json.loads(out)}


def _check(env: gym.Env) -> None:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*wrapped.*")  # wrapped on purpose
        warnings.filterwarnings("error", message=".*not equal although similar.*")
        check_env(env, skip_render_check=True)


@pytest.mark.parametrize("env_id", sorted(TASKS))
def test_env_checker_passes_on_the_plain_env(env_id):
    _check(gym.make(env_id).unwrapped)
    _check(gym.make(env_id))


def _enforce_cases():
    for env_id in sorted(TASKS):
        for enforce in ("project", "reject", "automdp", "monitor"):
            yield pytest.param(env_id, enforce, {}, id=f"{env_id}-{enforce}")
            if env_id == "ACRL/NSFnet-v0" and enforce in ("project", "monitor"):
                # several link rows: OSQP by default; the general projector must pass too
                yield pytest.param(
                    env_id, enforce, {"projector": "nonlinear"}, id=f"{env_id}-{enforce}-slsqp"
                )


@pytest.mark.parametrize(("env_id", "enforce", "options"), list(_enforce_cases()))
def test_env_checker_passes_under_each_enforcement(env_id, enforce, options):
    _check(gym.make(env_id, enforce=enforce, **options))


@pytest.mark.parametrize("enforce", ["project", "reject", "automdp"])
@pytest.mark.parametrize("env_id", sorted(TASKS))
def test_random_policy_executes_only_feasible_actions(env_id, enforce):
    constraint = acrl.make_constraint(TASKS[env_id][0])
    probe = ActionProbe(gym.make(env_id), constraint, keep=False)
    env = acrl.wrap(probe, constraint, enforce)
    env.reset(seed=0)
    env.action_space.seed(0)
    totals = set()
    for _ in range(1000):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        if "allocation" in info:  # an executed bike-sharing step
            totals.add(int(info["allocation"].sum()))
        if terminated or truncated:
            env.reset()
    assert probe.steps > 0 and probe.infeasible == 0, probe.worst_violation
    if isinstance(env.unwrapped, BikeSharingEnv):
        assert totals == {env.unwrapped.bikes}


def test_registered_task_stack_executes_only_feasible_rates():
    env = gym.make("ACRL/NSFnet-v0", enforce="project")
    links = env.unwrapped.links
    env.reset(seed=1)
    for _ in range(200):
        _, _, _, truncated, info = env.step(np.ones(9, dtype=np.float32))
        assert (links @ info["rates"] <= 50.0 + 1e-4).all()
        if truncated:
            env.reset()
