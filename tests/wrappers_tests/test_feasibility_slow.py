"""100,000 random-policy steps per env through RejectAction and AutoMDP: zero infeasible executions.

The check is made by an ActionProbe between the wrapper and the simulator, in the state
each action was executed in, not from what the wrapper reports.
"""

from __future__ import annotations

import pytest

from wrappers_tests.wrappers_helpers import MUJOCO_CONSTRAINTS, probed

STEPS = 100_000


@pytest.mark.slow
@pytest.mark.parametrize("enforce", ["reject", "automdp"])
@pytest.mark.parametrize("env_id", sorted(MUJOCO_CONSTRAINTS))
def test_no_infeasible_action_reaches_the_simulator(env_id, enforce):
    env, probe, _constraint = probed(env_id, enforce)
    env.action_space.seed(0)
    env.reset(seed=0)
    rejected = 0
    for _ in range(STEPS):
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        rejected += info["constraint"]["enforcement"] == "rejected"
        if terminated or truncated:
            env.reset()
    assert probe.infeasible == 0, f"worst executed violation {probe.worst_violation}"
    assert probe.steps + rejected == STEPS
    assert probe.steps > 0 and rejected > 0  # both paths were exercised
