"""ProjectAction: executes the projection; penalty shaping; failure fallback."""

from __future__ import annotations

import numpy as np
import pytest

import acrl_wrappers as acrl
from acrl_wrappers.errors import InvalidActionError, ProjectionError
from acrl_wrappers.projection import Projector
from wrappers_tests.wrappers_helpers import probed


def test_infeasible_action_is_replaced_by_its_projection():
    env, probe, c = probed("HalfCheetah-v5", "project")
    probe.keep = True
    obs, _ = env.reset(seed=0)
    proposed = np.full(6, 1.0)
    rng = np.random.default_rng(0)
    while c.contains(proposed, obs):  # run until the joints move fast enough
        obs, *_ = env.step(rng.uniform(-1, 1, size=6))
    expected, _ = acrl.make_projector(c).project(proposed, obs)
    _, _, _, _, info = env.step(proposed)
    np.testing.assert_allclose(probe.actions[-1], expected)
    assert info["constraint"]["enforcement"] == "projected"
    assert info["cost"] == 1.0 and info["constraint"]["qp_solves"] == 1
    assert info["constraint"]["distance"] == pytest.approx(np.linalg.norm(expected - proposed))
    assert probe.infeasible == 0


def test_feasible_action_passes_unchanged_with_the_full_info_schema():
    env, probe, _ = probed("Reacher-v5", "project")
    probe.keep = True
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([0.1, -0.1], dtype=np.float32))
    np.testing.assert_allclose(probe.actions[-1], [0.1, -0.1], rtol=1e-6)
    assert info["cost"] == 0.0
    assert set(info["constraint"]) == {
        "violation",
        "feasible",
        "enforcement",
        "qp_solves",
        "distance",
    }
    assert info["constraint"]["enforcement"] == "none" and info["constraint"]["feasible"]
    assert info["reward_vector"] == [float(reward), 0.0]


def test_penalty_subtracts_the_projection_distance():
    env, _, _ = probed("Reacher-v5", "project", penalty=2.0)
    env.reset(seed=0)
    _, reward, _, _, info = env.step(np.array([0.6, 0.8]))
    distance = info["constraint"]["distance"]
    assert distance == pytest.approx(1.0 - np.sqrt(0.05))
    assert info["reward_vector"][1] == pytest.approx(-2.0 * distance)
    assert reward == pytest.approx(info["reward_vector"][0] - 2.0 * distance)


class _AlwaysFails(Projector):
    """A projector whose solver always fails (to exercise the wrapper's fallback)."""

    name = "always-fails"

    @classmethod
    def supports(cls, constraint):
        return True

    def _project(self, action, obs):
        raise ProjectionError("solver gave up", status="max iter reached")


def test_projection_failure_executes_the_safe_action_and_says_so():
    env, probe, c = probed("Reacher-v5", "project")
    probe.keep = True
    env._projector = _AlwaysFails(c)
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.array([0.9, 0.9]))
    assert info["constraint"]["enforcement"] == "fallback"
    assert info["constraint"]["error"] == "max iter reached"
    np.testing.assert_array_equal(probe.actions[-1], c.safe_action())
    assert probe.infeasible == 0


def test_projection_failure_without_a_safe_action_does_not_step():
    env, probe, c = probed("Reacher-v5", "project")
    env._projector = _AlwaysFails(c)

    def no_safe_action(obs=None):
        raise acrl.SamplingError("none")

    c.safe_action = no_safe_action
    env.reset(seed=0)
    with pytest.raises(ProjectionError, match="not executed"):
        env.step(np.array([0.9, 0.9]))
    assert probe.steps == 0


@pytest.mark.parametrize("action", [np.array([np.nan, 0.0]), np.zeros(3), np.zeros((1, 2))])
def test_bad_actions_raise_and_are_not_executed(action):
    env, probe, _ = probed("Reacher-v5", "project")
    env.reset(seed=0)
    with pytest.raises(InvalidActionError):
        env.step(action)
    assert probe.steps == 0
