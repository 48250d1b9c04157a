"""ConstraintMonitor: measures, changes nothing."""

from __future__ import annotations

import numpy as np

from wrappers_tests.wrappers_helpers import probed


def test_monitor_executes_infeasible_actions_unchanged_and_counts_them():
    env, probe, _c = probed("Reacher-v5", "monitor")
    probe.keep = True
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([0.9, 0.9]))
    np.testing.assert_array_equal(probe.actions[-1], [0.9, 0.9])
    assert info["cost"] == 1.0 and not info["constraint"]["feasible"]
    assert info["constraint"]["enforcement"] == "none"
    assert info["constraint"]["distance"] > 0 and info["constraint"]["qp_solves"] == 1
    env.step(np.array([0.1, 0.1]))
    assert env.violation_rate == 0.5 and env.steps == 2
    assert probe.infeasible == 1  # the probe sees what the monitor let through


def test_episode_summary_at_the_end_of_an_episode():
    env, _, _ = probed("Reacher-v5", "monitor", measure_distance=False)
    env.reset(seed=0)
    for t in range(50):
        _, _, _terminated, truncated, info = env.step(
            np.array([0.9, 0.9]) if t % 2 else np.zeros(2)
        )
    assert truncated
    assert info["constraint_episode"] == {
        "steps": 50,
        "violations": 25,
        "violation_rate": 0.5,
        "mean_distance": 0.0,
    }
