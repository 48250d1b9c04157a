"""The v5 observation indices the constraints read are the simulator's joint angles/velocities."""

from __future__ import annotations

import numpy as np
import pytest

from mujoco_tests.mujoco_helpers import random_states

# env -> [(observation slice, function of (qpos, qvel) giving the same values)]
MAPPING = {
    "Reacher-v5": [
        (slice(0, 2), lambda qpos, qvel: np.cos(qpos[0:2])),
        (slice(2, 4), lambda qpos, qvel: np.sin(qpos[0:2])),
        (slice(6, 8), lambda qpos, qvel: qvel[0:2]),
    ],
    "HalfCheetah-v5": [
        (slice(2, 8), lambda qpos, qvel: qpos[3:9]),
        (slice(11, 17), lambda qpos, qvel: qvel[3:9]),
    ],
    "Hopper-v5": [
        (slice(2, 5), lambda qpos, qvel: qpos[3:6]),
        (slice(8, 11), lambda qpos, qvel: np.clip(qvel[3:6], -10, 10)),
    ],
    "Walker2d-v5": [
        (slice(2, 8), lambda qpos, qvel: qpos[3:9]),
        (slice(11, 17), lambda qpos, qvel: np.clip(qvel[3:9], -10, 10)),
    ],
}


@pytest.mark.parametrize("env_id", sorted(MAPPING))
def test_observation_indices_match_the_simulator_state(env_id):
    checked = 0
    for obs, data in random_states(env_id, steps=200):
        for part, from_state in MAPPING[env_id]:
            np.testing.assert_allclose(obs[part], from_state(data.qpos, data.qvel), atol=1e-12)
        checked += 1
    assert checked == 200
