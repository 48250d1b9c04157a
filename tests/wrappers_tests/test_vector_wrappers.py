"""Vector-env enforcement: one batched check per step, the per-env wrappers' info.

Nothing infeasible is executed (probes inside every sub-env); CleanRL-style loops and SB3
PPO with 16 envs train through the wrappers.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from stable_baselines3 import PPO
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

import acrl_wrappers as acrl
from acrl_wrappers.projection.base import Projector
from acrl_wrappers.sb3 import ConstraintMetricsCallback, VecProjectAction
from acrl_wrappers.testing import ActionProbe

BALL = {"name": "ball", "bound": 0.05, "dim": 2}  # Reacher: a1^2 + a2^2 <= 0.05
SINGLE = {"project": acrl.ProjectAction, "monitor": acrl.ConstraintMonitor}
OPTIONS = {"project": {}, "reject": {"on_reject": "fallback"}, "monitor": {}}


def probed_vector(n: int, inner=None) -> gym.vector.VectorEnv:
    """A sync vector env of Reacher-v5 with an ActionProbe inside every sub-env."""
    c = acrl.make_constraint(BALL)
    wrappers = [lambda e: ActionProbe(e, c)] + ([inner] if inner else [])
    return gym.make_vec("Reacher-v5", num_envs=n, vectorization_mode="sync", wrappers=wrappers)


def single_wrapper(enforce: str):
    if enforce == "reject":
        return lambda e: acrl.RejectAction(e, BALL, on_reject="fallback")
    return lambda e: SINGLE[enforce](e, BALL)


def run(envs, steps: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    envs.reset(seed=seed)
    out = []
    for _ in range(steps):
        actions = rng.uniform(-1, 1, size=(envs.num_envs, 2)).astype(np.float32)
        out.append(envs.step(actions))
    return out


def probes(envs) -> list[ActionProbe]:
    """The probe inside each sub-env (beneath any per-env wrapper)."""
    found = []
    for env in envs.unwrapped.envs:
        while not isinstance(env, ActionProbe):
            env = env.env
        found.append(env)
    return found


@pytest.mark.parametrize("enforce", ["project", "reject", "monitor"])
def test_gymnasium_vector_wrapper_matches_per_env_wrappers(enforce):
    """Same executed actions, rewards and per-sub-env info as one wrapper per sub-env.

    60 steps cross Reacher's 50-step episodes, so next-step autoreset is covered: the
    resetting sub-env's action is ignored and its masks are False in both.
    """
    batched = acrl.wrap(probed_vector(3), BALL, enforce, **OPTIONS[enforce])
    per_env = probed_vector(3, inner=single_wrapper(enforce))
    for (o1, r1, te1, tr1, i1), (o2, r2, te2, tr2, i2) in zip(
        run(batched, 60), run(per_env, 60), strict=True
    ):
        np.testing.assert_allclose(o1, o2, atol=1e-9)
        np.testing.assert_allclose(r1, r2, atol=1e-9)
        assert np.array_equal(te1, te2) and np.array_equal(tr1, tr2)
        mask = i2.get("_cost", np.zeros(3, bool))
        assert np.array_equal(i1["_cost"], mask) and np.array_equal(i1["_constraint"], mask)
        if not mask.any():  # every sub-env was reset (same episode lengths): nothing to compare
            continue
        np.testing.assert_array_equal(i1["cost"][mask], i2["cost"][mask])
        for key in ("violation", "distance"):
            np.testing.assert_allclose(
                i1["constraint"][key][mask], i2["constraint"][key][mask], atol=1e-9
            )
        for key in ("feasible", "enforcement", "qp_solves"):
            assert list(i1["constraint"][key][mask]) == list(i2["constraint"][key][mask])
        if enforce != "monitor":
            expected = np.array([list(v) for v in i2["reward_vector"][mask]]).reshape(-1, 2)
            np.testing.assert_allclose(i1["reward_vector"][mask], expected, atol=1e-9)
    for p1, p2 in zip(probes(batched), probes(per_env), strict=True):
        np.testing.assert_allclose(np.array(p1.actions), np.array(p2.actions), atol=1e-9)
        if enforce != "monitor":
            assert p1.infeasible == 0
    assert sum(p.infeasible for p in probes(batched)) > 0 or enforce != "monitor"


def test_one_batched_violation_and_one_batched_projection_per_step(monkeypatch):
    envs = acrl.wrap(probed_vector(4), BALL)
    envs.reset(seed=0)
    c = envs.constraint
    calls = {"violation": 0, "project": 0, "verify": 0}
    violation, project = c._violation, envs.projector.project_batch_checked
    proposed = np.full((4, 2), 0.9, dtype=np.float32)

    def counted_violation(a, o):
        calls["violation" if np.array_equal(a, proposed) else "verify"] += 1
        return violation(a, o)

    def counted_project(a, o, v):
        calls["project"] += 1
        return project(a, o, v)

    monkeypatch.setattr(c, "_violation", counted_violation)
    monkeypatch.setattr(envs.projector, "project_batch_checked", counted_project)
    envs.step(proposed)  # all infeasible
    # one check of all proposals, one projection of all, one check of all its results
    assert calls == {"violation": 1, "project": 1, "verify": 1}


def test_cleanrl_style_loop_with_16_envs_executes_only_feasible_actions():
    envs = acrl.wrap(probed_vector(16), BALL, enforce="project")
    obs, _ = envs.reset(seed=0)
    rng = np.random.default_rng(0)
    costs, returns, episodes = 0.0, np.zeros(16), 0
    for _ in range(80):  # the loop of cleanrl/ppo_continuous_action.py, with a random policy
        actions = np.clip(rng.normal(0, 0.5, size=(16, 2)), -1, 1)
        obs, reward, terminations, truncations, infos = envs.step(actions)
        costs += float(infos["cost"][infos["_cost"]].sum())
        returns += reward
        episodes += int(np.logical_or(terminations, truncations).sum())
    assert obs.shape == (16, 10) and costs > 0 and np.all(returns < 0)
    assert episodes == 16  # Reacher's 50-step time limit, once per sub-env
    assert sum(p.steps for p in probes(envs)) >= 16 * 78
    assert sum(p.infeasible for p in probes(envs)) == 0


def test_sb3_ppo_with_16_envs_trains_through_the_vec_wrapper():
    c = acrl.make_constraint(BALL)
    venv = make_vec_env(
        "Reacher-v5", n_envs=16, seed=0, wrapper_class=ActionProbe, wrapper_kwargs={"constraint": c}
    )
    venv = acrl.wrap(venv, c, enforce="project")
    assert isinstance(venv, VecProjectAction)
    metrics = ConstraintMetricsCallback()
    model = PPO("MlpPolicy", venv, n_steps=16, batch_size=64, n_epochs=1, seed=0)
    model.learn(512, callback=metrics)
    assert metrics.steps == 512 and 0 < metrics.violations == metrics.projections
    assert sum(venv.get_attr("infeasible")) == 0
    assert sum(venv.get_attr("steps")) == 512
    assert {info["l"] for info in model.ep_info_buffer} <= {50}


@pytest.mark.parametrize("enforce", ["project", "reject", "monitor"])
def test_sb3_vec_wrapper_infos_match_per_env_wrappers(enforce):
    def make(wrapped: bool):
        def factory():
            env = gym.make("Reacher-v5")
            return single_wrapper(enforce)(env) if wrapped else env

        return DummyVecEnv([factory] * 3)

    batched = acrl.wrap(make(False), BALL, enforce, **OPTIONS[enforce])
    per_env = make(True)
    for venv in (batched, per_env):
        venv.seed(0)
        venv.reset()
    rng = np.random.default_rng(1)
    for _ in range(55):
        actions = rng.uniform(-1, 1, size=(3, 2)).astype(np.float32)
        o1, r1, d1, infos1 = batched.step(actions)
        o2, r2, d2, infos2 = per_env.step(actions)
        np.testing.assert_allclose(o1, o2, atol=1e-6)
        np.testing.assert_allclose(r1, r2, atol=1e-6)
        assert np.array_equal(d1, d2)
        for a, b in zip(infos1, infos2, strict=True):
            assert a["cost"] == b["cost"]
            assert a["constraint"].keys() == b["constraint"].keys()
            assert a["constraint"]["enforcement"] == b["constraint"]["enforcement"]
            assert a["constraint"]["violation"] == pytest.approx(b["constraint"]["violation"])
            assert a["constraint"]["distance"] == pytest.approx(b["constraint"]["distance"])
            assert ("reward_vector" in a) == ("reward_vector" in b)
            if "reward_vector" in a:
                assert a["reward_vector"] == pytest.approx(b["reward_vector"], abs=1e-6)


def test_automdp_on_a_vector_env_is_refused_with_the_sound_alternatives():
    for envs in (probed_vector(2), DummyVecEnv([lambda: gym.make("Reacher-v5")] * 2)):
        with pytest.raises(acrl.ConstraintError, match="inside each sub-env") as err:
            acrl.wrap(envs, BALL, enforce="automdp")
        assert "wrapper_class=acrl.AutoMDP" in str(err.value)


def test_per_sub_env_automdp_through_make_vec_self_loops_soundly():
    acrl.load_plugins()
    envs = gym.make_vec(
        "ACRL/ReacherL2-v0", num_envs=2, vectorization_mode="sync", enforce="automdp"
    )
    envs.reset(seed=0)
    _, reward, *_, info = envs.step(np.full((2, 2), 0.9, dtype=np.float32))
    assert list(info["constraint"]["enforcement"]) == ["rejected", "rejected"]
    np.testing.assert_allclose(reward, -0.2)


def test_reject_refuses_self_loops_and_raise_executes_nothing():
    with pytest.raises(acrl.ConstraintError, match=r"acrl\.RejectAction"):
        acrl.wrap(probed_vector(2), BALL, enforce="reject", on_reject="self_loop")
    envs = acrl.wrap(probed_vector(2), BALL, enforce="reject", on_reject="raise")
    envs.reset(seed=0)
    with pytest.raises(acrl.ConstraintViolationError, match=r"sub-envs \[1\]"):
        envs.step(np.array([[0.1, 0.1], [0.9, 0.9]], dtype=np.float32))
    assert [p.steps for p in probes(envs)] == [0, 0]


@pytest.mark.parametrize("fallback", ["safe", "callable"])
def test_reject_fallbacks_are_checked_per_sub_env(fallback):
    chosen = "safe" if fallback == "safe" else (lambda action, obs: action * 0.1)
    envs = acrl.wrap(probed_vector(2), BALL, enforce="reject", fallback=chosen)
    envs.reset(seed=0)
    *_, info = envs.step(np.array([[0.1, 0.1], [0.9, 0.9]], dtype=np.float32))
    assert list(info["constraint"]["enforcement"]) == ["none", "fallback"]
    executed = probes(envs)[1].actions[-1]
    assert np.allclose(executed, [0.0, 0.0] if fallback == "safe" else [0.09, 0.09])
    bad = acrl.wrap(probed_vector(2), BALL, enforce="reject", fallback=lambda a, o: a)
    bad.reset(seed=0)
    with pytest.raises(acrl.ConstraintViolationError, match="infeasible action"):
        bad.step(np.array([[0.1, 0.1], [0.9, 0.9]], dtype=np.float32))


class _Broken(Projector):
    name = "broken"

    @classmethod
    def supports(cls, constraint):
        return True

    def _project(self, action, obs):
        raise ZeroDivisionError("boom")


def test_a_faulty_projector_gives_the_safe_action_per_sub_env():
    envs = acrl.wrap(probed_vector(3), BALL, enforce="project")
    envs.reset(seed=0)
    envs._enforcer._projector = _Broken(envs.constraint)
    *_, info = envs.step(np.array([[0.1, 0.1], [0.9, 0.9], [0.0, 0.0]], dtype=np.float32))
    found = info["constraint"]
    assert list(found["enforcement"]) == ["none", "fallback", "none"]
    assert list(found["_error"]) == [False, True, False] and "boom" in found["error_detail"][1]
    assert sum(p.infeasible for p in probes(envs)) == 0


def test_bad_actions_are_refused_before_anything_is_executed():
    envs = acrl.wrap(probed_vector(2), BALL)
    envs.reset(seed=0)
    with pytest.raises(acrl.InvalidActionError, match=r"sub-envs \[0\]"):
        envs.step(np.array([[np.nan, 0.0], [0.0, 0.0]]))
    with pytest.raises(acrl.InvalidActionError, match=r"shape \(2, 2\)"):
        envs.step(np.zeros((3, 2)))
    assert [p.steps for p in probes(envs)] == [0, 0]


def test_find_constraint_and_vec_normalize():
    venv = acrl.wrap(DummyVecEnv([lambda: gym.make("Reacher-v5")] * 2), BALL)
    assert acrl.find_constraint(VecNormalize(venv)).family == "ball"
    assert acrl.find_constraint(acrl.wrap(probed_vector(2), BALL)).family == "ball"
    power = {"name": "power", "bound": 1.0, "weight_index": "6:8"}
    inner = VecNormalize(DummyVecEnv([lambda: gym.make("Reacher-v5")] * 2))
    with pytest.raises(acrl.ConstraintError, match="put the acrl wrapper inside"):
        acrl.wrap(inner, power)


def test_options_of_other_wrappers_and_hooks_missing_from_sub_envs_are_errors():
    with pytest.raises(acrl.ConstraintError, match="do not apply to enforce='project'"):
        acrl.wrap(probed_vector(2), BALL, kappa=0.3)
    hook = {"name": "ball", "radius": {"index": 10, "hook": "reach"}, "dim": 2}
    with pytest.raises(acrl.ConstraintError, match="ObserveParameters inside each sub-env"):
        acrl.wrap(probed_vector(2), hook)


def test_monitor_counts_violations_over_sub_envs():
    envs = acrl.wrap(probed_vector(2), BALL, enforce="monitor")
    envs.reset(seed=0)
    envs.step(np.array([[0.9, 0.0], [0.1, 0.0]], dtype=np.float32))
    assert envs.violation_rate == 0.5 and envs.mean_distance == pytest.approx(0.9 - 0.05**0.5)
    assert probes(envs)[0].infeasible == 1  # the monitor changes nothing
