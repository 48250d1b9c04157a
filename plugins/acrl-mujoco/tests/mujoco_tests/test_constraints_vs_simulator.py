"""Every named constraint agrees with its formula evaluated directly on the simulator state.

The formulas below are written from the papers' tables (ARAM, arXiv:2503.12932; Kasaura
et al., arXiv:2304.08743) in terms of MuJoCo's qpos/qvel, independently of the constraint
classes and their observation indices; they are compared on states a random policy visits
and on random actions.
"""

from __future__ import annotations

import numpy as np
import pytest

import acrl_wrappers as acrl
from mujoco_tests.mujoco_helpers import random_states, uniform_actions


def pos(x):
    return np.maximum(x, 0.0)


def clip10(v):
    return np.clip(v, -10.0, 10.0)  # Hopper/Walker2d report clipped velocities


# name -> (env, g(a, qpos, qvel) -> list of row values, feasible where all <= 0)
FORMULAS = {
    "reacher-l2": ("Reacher-v5", lambda a, q, v: [a[0] ** 2 + a[1] ** 2 - 0.05]),
    "halfcheetah-o20": ("HalfCheetah-v5", lambda a, q, v: [np.abs(v[3:9] * a).sum() - 20]),
    "hopper-m10": ("Hopper-v5", lambda a, q, v: [pos(clip10(v[3:6]) * a).sum() - 10]),
    "walker2d-m10": ("Walker2d-v5", lambda a, q, v: [pos(clip10(v[3:9]) * a).sum() - 10]),
    "ant-l2": ("Ant-v5", lambda a, q, v: [(a**2).sum() - 2]),
    "reacher-o03": ("Reacher-v5", lambda a, q, v: [np.abs(v[0:2] * a).sum() - 0.3]),
    "reacher-o10": ("Reacher-v5", lambda a, q, v: [np.abs(v[0:2] * a).sum() - 1.0]),
    "reacher-o30": ("Reacher-v5", lambda a, q, v: [np.abs(v[0:2] * a).sum() - 3.0]),
    "reacher-m": ("Reacher-v5", lambda a, q, v: [pos(v[0:2] * a).sum() - 1.0]),
    "reacher-t": (
        "Reacher-v5",
        lambda a, q, v: [
            a[0] ** 2 + 2 * a[0] * (a[0] + a[1]) * np.cos(q[1]) + (a[0] + a[1]) ** 2 - 0.05
        ],
    ),
    "halfcheetah-ma": (
        "HalfCheetah-v5",
        lambda a, q, v: [
            v[3] * a[0] * np.sin(q[3] + q[4] + q[5]) + v[6] * a[3] * np.sin(q[6] + q[7] + q[8]) - 5
        ],
    ),
    "hopper-os": (
        "Hopper-v5",
        lambda a, q, v: [
            np.abs(clip10(v[3:6]) * a).sum() - 10,
            (a**2 * np.sin(q[3:6]) ** 2).sum() - 0.1,
        ],
    ),
    "walker2d-os": (
        "Walker2d-v5",
        lambda a, q, v: [
            np.abs(clip10(v[3:9]) * a).sum() - 10,
            (a**2 * np.sin(q[3:9]) ** 2).sum() - 0.1,
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_violation_matches_the_formula_on_visited_states(name):
    env_id, rows = FORMULAS[name]
    c = acrl.make_constraint(name)
    infeasible = feasible = 0
    for t, (obs, data) in enumerate(random_states(env_id, steps=60, shake=True)):
        actions = uniform_actions(c.dim, 40, seed=t)
        expected = np.array([pos(np.asarray(rows(a, data.qpos, data.qvel))).sum() for a in actions])
        got = c.violation(actions, obs)
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
        np.testing.assert_array_equal(c.contains(actions, obs), expected <= c.tol)
        infeasible += int((expected > c.tol).sum())
        feasible += int((expected <= c.tol).sum())
    assert infeasible > 0 and feasible > 0  # both sides of the boundary were exercised


@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_named_constraints_are_reachable_by_their_tags(name):
    c = acrl.make_constraint(name)
    entry = next(e for e in acrl.list_constraints() if e["name"] == name)
    assert entry["plugin"] == "mujoco" and entry["aliases"]
    for alias in entry["aliases"]:
        assert acrl.make_constraint(alias) == c
    assert acrl.make_constraint(c.spec) == c
