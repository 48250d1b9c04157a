"""ARAM: self-loops, feasibility of every executed action, batched proposals, save/load, errors."""

from __future__ import annotations

import csv

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3.common.logger import configure

import acrl_wrappers as acrl
from acrl_policies import ARAM
from acrl_policies.errors import (
    AcceptanceRejectionError,
    MissingConstraintError,
    PreferenceError,
)
from acrl_wrappers.testing import ActionProbe

TASKS = {"ACRL/ReacherL2-v0": "reacher-l2", "ACRL/HalfCheetahO20-v0": "halfcheetah-o20"}


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    acrl.load_plugins()
    torch.set_num_threads(1)


def make(env, **kwargs) -> ARAM:
    settings = {
        "learning_starts": 50,
        "batch_size": 32,
        "policy_kwargs": {"net_arch": [32, 32]},
        "seed": 0,
        **kwargs,
    }
    return ARAM("MlpPolicy", env, **settings)


class Counter:
    """Wraps ``constraint._violation`` and records the batch size of each call."""

    def __init__(self, fn):
        self.fn, self.rows = fn, []

    def __call__(self, actions, obs):
        self.rows.append(len(actions))
        return self.fn(actions, obs)


def count_forward(module: torch.nn.Module) -> list[int]:
    calls = [0]
    module.register_forward_hook(lambda *_: calls.__setitem__(0, calls[0] + 1))
    return calls


@pytest.mark.parametrize("task", sorted(TASKS))
def test_learns_and_sends_only_feasible_actions(task):
    c = acrl.make_constraint(TASKS[task])
    # the probe sits outside the task's own enforcement: it sees what ARAM sends
    probe = ActionProbe(gym.make(task, enforce="project"), c, keep=False)
    model = make(probe, max_proposals=20)
    model.learn(150, progress_bar=True)
    assert probe.steps == 150 and model.num_timesteps == 150
    assert probe.infeasible == 0, f"{probe.infeasible} infeasible actions left ARAM"
    obs, _ = probe.reset(seed=3)
    for deterministic in (True, False):
        action, _ = model.predict(obs, deterministic=deterministic)
        assert c.contains(action, obs if c.obs_dim else None)


def test_rejected_proposals_are_self_loops_with_the_penalty_vector():
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    c = acrl.find_constraint(env)
    model = make(env, kappa=0.3, learning_starts=1000)  # warm-up: uniform proposals
    model.learn(40)
    buffer = model.replay_buffer
    loops = buffer.self_loops
    n = loops.size()
    assert n == model.safety_net.self_loops > 40  # the ball holds ~4% of the box
    obs = loops.observations[:n, 0]
    np.testing.assert_array_equal(loops.next_observations[:n, 0], obs)
    np.testing.assert_allclose(buffer.self_loop_reward_vectors[:n], [[0.0, -0.3]] * n)
    assert not loops.dones[:n].any()
    rejected = model.policy.unscale_action(loops.actions[:n, 0])
    assert not c.contains(rejected).any()  # every stored self-loop action was infeasible
    # the real transitions: executed steps, reward vector [r (+ offset), 0 or -kappa]
    assert buffer.size() == 40
    penalties = buffer.reward_vectors[:40, 1]
    assert np.all(np.isclose(penalties, 0.0) | np.isclose(penalties, -0.3))


def test_fallback_projects_and_stores_the_penalty():
    box = {"name": "box", "dim": 1, "low": -0.01, "high": 0.01}
    probe = ActionProbe(gym.make("Pendulum-v1"), acrl.make_constraint(box), keep=False)
    env = acrl.wrap(probe, box, enforce="monitor")
    model = make(env, max_proposals=1, kappa=0.2, learning_starts=100)
    model.learn(30)
    assert probe.infeasible == 0
    assert model.safety_net.projections > 20  # one uniform proposal rarely lands in 1% of the box
    assert (
        model.replay_buffer.reward_vectors[:30, 1] == -0.2
    ).sum() == model.safety_net.projections


def test_safety_net_counts_every_proposal_and_survives_save_load(tmp_path):
    box = {"name": "box", "dim": 1, "low": -0.2, "high": 0.2}
    env = acrl.wrap(gym.make("Pendulum-v1"), box, enforce="monitor")
    model = make(env, max_proposals=4, learning_starts=100)
    model.learn(40)
    net = model.safety_net
    accepted = 40 - net.projections  # steps whose ARM found a feasible proposal
    assert net.proposals == net.infeasible + accepted
    assert net.self_loops == net.infeasible > 0  # every rejected proposal is a self-loop
    assert net.valid_rate == pytest.approx(accepted / net.proposals)
    proposals = net.proposals
    model.predict(np.zeros(3, dtype=np.float32), deterministic=True)
    assert model.safety_net.proposals == proposals + 1
    model.save(tmp_path / "aram.zip")
    assert ARAM.load(tmp_path / "aram.zip").safety_net == model.safety_net


def test_proposals_are_one_forward_pass_and_one_violation_call():
    env = gym.make("ACRL/HalfCheetahO20-v0", enforce="project")
    model = make(env, max_proposals=64, learning_starts=0)
    obs, _ = env.reset(seed=0)
    model._last_obs = obs[None].astype(np.float32)
    forward = count_forward(model.actor.latent_pi)
    violation = Counter(model.constraint._violation)
    model.constraint._violation = violation
    proposals_before = model.arm_proposals
    action, _ = model._sample_action(learning_starts=0, n_envs=1)
    assert forward[0] == 1 and violation.rows == [64]  # (a projection would add 1-row checks)
    assert 1 <= model.arm_proposals - proposals_before <= 64
    assert model.constraint.contains(action, obs[None]).all()
    batch = np.stack([env.reset(seed=s)[0] for s in range(5)])
    violation.rows.clear()
    actions, _ = model.predict(batch)
    assert forward[0] == 2 and violation.rows[0] == 5 * 64 and actions.shape == (5, 6)
    assert 5 * 64 not in violation.rows[1:]


def test_logs_acceptance_rate_and_constraint_metrics(tmp_path):
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = make(env)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(200, log_interval=1)
    with open(tmp_path / "progress.csv") as f:
        rows = list(csv.DictReader(f))
    keys = set(rows[-1])
    assert {
        "constraint/acceptance_rate",
        "constraint/violation_rate",
        "rollout/ep_cost_mean",
    } <= keys
    assert 0.0 < float(rows[-1]["constraint/acceptance_rate"]) <= 1.0
    assert float(rows[-1]["constraint/violation_rate"]) == 0.0  # nothing infeasible reached the env


def test_save_load_round_trip_reproduces_deterministic_predictions(tmp_path):
    env = gym.make("ACRL/HalfCheetahO20-v0", enforce="project")
    model = make(env, eval_preference=(0.9, 0.1))
    model.learn(100)
    obs = np.stack([env.observation_space.sample() for _ in range(8)]) * 3
    expected, _ = model.predict(obs, deterministic=True)
    model.save(tmp_path / "aram.zip")
    loaded = ARAM.load(tmp_path / "aram.zip")  # no env: the constraint comes from the file
    actions, _ = loaded.predict(obs, deterministic=True)
    np.testing.assert_array_equal(actions, expected)
    assert loaded.constraint.spec == model.constraint.spec
    assert loaded.actor.preference.tolist() == pytest.approx([0.9, 0.1])
    assert loaded.constraint.contains(actions, obs).all()


def test_single_preference_variant_is_sosac():
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = make(env, preference=(0.9, 0.1), reward_offset=1.0)
    assert model.q_snapshots == 0 and model.n_preferences == 1
    assert model.eval_preference.tolist() == [0.9, 0.1]
    model.learn(120)
    assert np.allclose(model._acting_preferences, [[0.9, 0.1]])
    assert torch.allclose(model._sample_preferences(3), torch.tensor([[0.9, 0.1]] * 3))


def test_q_snapshots_enter_the_policy_loss():
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    model = make(env, q_snapshot_start=20, q_snapshot_every=10, q_snapshots=2)
    model.learn(120)
    assert len(model._snapshots) == 2
    assert not any(p.requires_grad for s in model._snapshots for p in s.parameters())


def test_bad_input_raises_with_the_fix():
    with pytest.raises(MissingConstraintError, match=r"acrl\.wrap"):
        ARAM("MlpPolicy", gym.make("Pendulum-v1"))
    env = gym.make("ACRL/ReacherL2-v0", enforce="project")
    for bad in ((0.5, 0.6), (1.2, -0.2), (0.5, 0.5, 0.0), (float("nan"), 1.0)):
        with pytest.raises(PreferenceError, match="simplex"):
            ARAM("MlpPolicy", env, preference=bad)
        with pytest.raises(PreferenceError, match="eval_preference"):
            ARAM("MlpPolicy", env, eval_preference=bad)
    for bad_m in (0, -3):
        with pytest.raises(AcceptanceRejectionError, match="max_proposals"):
            ARAM("MlpPolicy", env, max_proposals=bad_m)
    # a plain (stock) Pendulum works when the constraint is given explicitly
    model = ARAM("MlpPolicy", gym.make("Pendulum-v1"), constraint={"name": "box", "dim": 1})
    assert model.constraint.family == "box"


# MOSAC's losses against a hand computation ----------------------------------------------


def linear_q(layer: torch.nn.Module, obs, pref, actions) -> np.ndarray:
    """A linear critic ``W [s, w, a] + b`` (``net_arch=[]``) evaluated in float64 numpy."""
    (linear,) = [m for m in layer.modules() if isinstance(m, torch.nn.Linear)]
    weight = linear.weight.detach().double().numpy()
    bias = linear.bias.detach().double().numpy()
    pref = np.broadcast_to(pref, (len(obs), 2))
    return np.concatenate([obs, pref, actions], axis=1) @ weight.T + bias


def perturbed_critic(model: ARAM, seed: int):
    """A critic of the model's shape whose weights differ from the model's critic."""
    critic = model.policy.make_critic(features_extractor=None)
    critic.load_state_dict(model.critic.state_dict())
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in critic.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 0.5)
    return critic


def mirrored_critic(model: ARAM):
    """A copy of the linear critic with its action weights negated: Q(s, w, -a) + const.

    Whether it or the critic is higher then depends on the sign of the action, so each
    wins the maximum over critics for some sampled actions.
    """
    critic = model.policy.make_critic(features_extractor=None)
    critic.load_state_dict(model.critic.state_dict())
    with torch.no_grad():
        for net in (critic.qf0, critic.qf1):
            net[0].weight[:, -1].neg_()  # the input is [s, w, a]: the action is last
    return critic


def record_samples(monkeypatch, actor) -> list[tuple[torch.Tensor, ...]]:
    """Record the inputs and outputs of every ``actor.action_log_prob`` call."""
    calls: list[tuple[torch.Tensor, ...]] = []
    sample = actor.action_log_prob

    def spy(obs, preference=None):
        actions, log_prob = sample(obs, preference)
        calls.append((obs, preference, actions.detach(), log_prob.detach()))
        return actions, log_prob

    monkeypatch.setattr(actor, "action_log_prob", spy)
    return calls


@pytest.fixture
def linear_aram() -> ARAM:
    env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
    settings = {"gamma": 0.9, "policy_action_samples": 2, "device": "cpu"}  # CPU tensors below
    return make(env, policy_kwargs={"net_arch": []}, **settings)


def test_mosac_critic_loss_matches_a_hand_computation(linear_aram, monkeypatch):
    from acrl_wrappers.sb3 import DualReplayBufferSamples

    model = linear_aram
    model.policy.critic_target.load_state_dict(perturbed_critic(model, 1).state_dict())
    gen = torch.Generator().manual_seed(0)
    batch = 6
    obs, next_obs = torch.randn(batch, 3, generator=gen), torch.randn(batch, 3, generator=gen)
    actions = torch.rand(batch, 1, generator=gen) * 2 - 1
    dones = torch.tensor([[0.0], [0.0], [1.0], [0.0], [0.0], [0.0]])
    vectors = torch.tensor(
        [[0.5, 0.0], [-1.0, 0.0], [2.0, 0.0], [0.0, -0.2], [0.0, -0.2], [1.5, -0.2]]
    )
    data = DualReplayBufferSamples(
        obs, actions, next_obs, dones, vectors[:, :1], None, vectors, torch.zeros(batch, 1)
    )
    w, alpha, gamma = np.array([0.3, 0.7]), 0.25, 0.9
    calls = record_samples(monkeypatch, model.actor)
    loss = model._critic_loss(data, torch.tensor(w, dtype=torch.float32), torch.tensor(alpha))

    ((sampled_obs, sampled_pref, next_actions, next_log_prob),) = calls
    assert torch.equal(sampled_obs, next_obs)  # a' ~ pi(.|s', w)
    np.testing.assert_allclose(sampled_pref.numpy(), w)
    a_next, logp = next_actions.double().numpy(), next_log_prob.double().numpy()
    s, s_next, a = obs.double().numpy(), next_obs.double().numpy(), actions.double().numpy()
    target = model.policy.critic_target
    t1, t2 = (linear_q(net, s_next, w, a_next) for net in (target.qf0, target.qf1))
    pick_first = (t1 @ w <= t2 @ w)[:, None]  # the twin with the smaller w . Q, whole vector
    selected = np.where(pick_first, t1, t2)
    assert 0 < pick_first.sum() < batch  # both twins are picked somewhere ...
    assert not np.allclose(selected, np.minimum(t1, t2))  # ... not an elementwise min
    d = dones.double().numpy()
    y = vectors.double().numpy() + gamma * (1 - d) * (selected - alpha * logp[:, None])
    expected = sum(
        np.mean(((linear_q(net, s, w, a) - y) ** 2) @ w)
        for net in (model.critic.qf0, model.critic.qf1)
    )
    assert loss.item() == pytest.approx(expected, rel=1e-5)


def test_mosac_actor_loss_matches_a_hand_computation(linear_aram, monkeypatch):
    model = linear_aram
    model._snapshots.append(mirrored_critic(model))  # one Q-snapshot beside the critic
    gen = torch.Generator().manual_seed(3)
    obs = torch.randn(5, 3, generator=gen)
    prefs = torch.tensor([[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]])  # W; the actor's w first
    alpha = 0.25
    calls = record_samples(monkeypatch, model.actor)
    loss, log_prob = model._actor_loss(obs, prefs, torch.tensor(alpha))

    ((sampled_obs, sampled_pref, actions, logp),) = calls
    assert torch.equal(sampled_obs, obs.repeat(2, 1))  # policy_action_samples = 2 per state
    assert torch.equal(sampled_pref, prefs[0])
    assert torch.equal(log_prob.detach(), logp)
    s, a, logp_np = sampled_obs.double().numpy(), actions.double().numpy(), logp.double().numpy()
    w = prefs[0].double().numpy()
    # value[c, j, i]: min over the twins of critic c of w . Q(s_i, a_i, w'_j)
    value = np.array(
        [
            [
                np.minimum(linear_q(c.qf0, s, pj, a) @ w, linear_q(c.qf1, s, pj, a) @ w)
                for pj in prefs.double().numpy()
            ]
            for c in (model.critic, model._snapshots[0])
        ]
    )
    best = value.max(axis=(0, 1))  # the best (critic, w') per sampled action
    assert not np.allclose(best, value[0].max(axis=0))  # the snapshot matters ...
    assert not np.allclose(best, value[:, 0].max(axis=0))  # ... and so do the other w'
    expected = np.mean(alpha * logp_np - best)
    assert loss.item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("snapshots", [0, 1])
def test_actor_gradient_equals_the_full_maximums_and_leaves_the_critic_alone(
    linear_aram, snapshots
):
    """Only the best (critic, w') pair is differentiated: the same gradient, no critic grads."""
    model = linear_aram
    model.policy_action_samples = 1
    model._snapshots.extend(mirrored_critic(model) for _ in range(snapshots))
    obs = torch.randn(64, 3, generator=torch.Generator().manual_seed(5))
    prefs = torch.tensor([[0.3, 0.7], [0.9, 0.1], [0.5, 0.5]])
    alpha = torch.tensor(0.25)

    def actor_grads(loss_fn):
        torch.manual_seed(11)  # the same sampled actions for both losses
        model.actor.zero_grad()
        model.critic.zero_grad()
        loss = loss_fn()
        loss.backward(inputs=model.actor_parameters())  # as ARAM.train does
        grads = [p.grad.clone() for p in model.actor.parameters()]
        return loss.item(), grads

    def full_max():
        w = prefs[0]
        actions, log_prob = model.actor.action_log_prob(obs, w)
        n = len(obs)
        values = [
            (
                torch.stack(
                    c(obs.repeat(3, 1), actions.repeat(3, 1), prefs.repeat_interleave(n, 0))
                )
                @ w
            )
            .min(dim=0)
            .values.reshape(3, n)
            for c in (model.critic, *model._snapshots)
        ]
        return (alpha * log_prob - torch.cat(values).max(dim=0).values).mean()

    expected_loss, expected = actor_grads(full_max)
    loss, grads = actor_grads(lambda: model._actor_loss(obs, prefs, alpha)[0])
    assert loss == pytest.approx(expected_loss, rel=1e-6)
    for got, want in zip(grads, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    assert all(p.grad is None or not p.grad.any() for p in model.critic.parameters())


def test_the_task_reward_transform_applies_to_real_transitions_only(linear_aram):
    from acrl_wrappers.sb3 import DualReplayBufferSamples

    model = make(linear_aram.env, reward_scale=0.5, reward_offset=1.0)
    vectors = torch.tensor([[2.0, 0.0], [0.0, -0.2], [-4.0, -0.2]])
    loops = torch.tensor([[0.0], [1.0], [0.0]])
    zeros = torch.zeros(3, 1)
    data = DualReplayBufferSamples(zeros, zeros, zeros, zeros, zeros, None, vectors, loops)
    expected = [[2.0, 0.0], [0.0, -0.2], [-1.0, -0.2]]  # r * 0.5 + 1; a self-loop stays [0, -k]
    np.testing.assert_allclose(model._reward_vectors(data).numpy(), expected, rtol=1e-6)


def test_a_task_gets_its_papers_transform_and_the_buffer_keeps_raw_rewards():
    model = make(gym.make("ACRL/BSS5z-v0"), learning_starts=1000)
    transform = model.reward_calibration.transform
    assert (transform.scale, transform.offset) == (0.01, 2.0)
    model.learn(48)
    raw = model.replay_buffer.reward_vectors[:48, 0]
    assert raw.max() < 0  # bike-sharing losses, untransformed in the buffer
    assert (raw * 0.01 + 2.0).min() > 0  # what the critic trains on


def test_without_a_declaration_the_offset_is_calibrated_and_saved(tmp_path):
    box = {"name": "box", "dim": 1, "low": -0.5, "high": 0.5}
    env = acrl.wrap(gym.make("Pendulum-v1"), box, enforce="monitor")
    model = make(env)
    assert model.reward_calibration.auto
    model.learn(120)
    lowest = model.replay_buffer.reward_vectors[:120, 0].min()
    assert lowest < 0 and model.reward_calibration.transform.offset == pytest.approx(
        0.2 - lowest, rel=1e-5
    )
    model.save(tmp_path / "aram.zip")
    loaded = ARAM.load(tmp_path / "aram.zip", env=env)
    assert loaded.reward_calibration.transform == model.reward_calibration.transform


def test_an_offset_that_lets_rejection_win_warns_with_the_fix():
    from acrl_wrappers.reward_calibration import RewardInversionWarning

    model = make(gym.make("ACRL/BSS5z-v0"), reward_offset=0.0, learning_starts=2000)
    with pytest.warns(RewardInversionWarning, match=r"ARAM: .*Fix: reward_offset=\d"):
        model.learn(1010)


def test_a_tuned_entropy_coefficient_targets_the_feasible_share_of_the_box():
    box = {"name": "box", "dim": 1, "low": -0.1, "high": 0.1}  # 5 % of Pendulum's [-2, 2]
    env = acrl.wrap(gym.make("Pendulum-v1"), box, enforce="monitor")
    model = make(env, ent_coef="auto_0.1", learning_starts=40)
    assert model.target_entropy == -1.0  # SB3's -|A| until the first update measures p
    model.learn(42)
    assert model.target_entropy == pytest.approx(-1.0 + np.log(0.05), abs=0.1)
    stock = make(env, ent_coef="auto_0.1", learning_starts=40, target_entropy="auto")
    stock.learn(42)
    assert stock.target_entropy == -1.0


def test_the_mode_switch_is_skipped_only_when_no_module_depends_on_it():
    from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

    class DropoutExtractor(BaseFeaturesExtractor):
        def __init__(self, observation_space):
            super().__init__(observation_space, features_dim=3)
            self.drop = torch.nn.Dropout(0.5)

        def forward(self, obs):
            return self.drop(obs)

    env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
    plain = make(env).policy
    plain.set_training_mode(False)
    assert plain._mode_free  # Linear + ReLU: the same in both modes, nothing to walk
    dropout = make(env, policy_kwargs={"features_extractor_class": DropoutExtractor}).policy
    dropout.set_training_mode(False)
    assert not dropout._mode_free and not dropout.actor.features_extractor.drop.training
    dropout.set_training_mode(True)
    assert dropout.actor.features_extractor.drop.training and not dropout.critic_target.training


def test_adam_runs_fused_unless_the_user_picks_an_implementation(tmp_path):
    env = acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")
    model = make(env, ent_coef="auto")
    optimizers = [model.actor.optimizer, model.critic.optimizer, model.ent_coef_optimizer]
    assert all(opt.defaults["fused"] for opt in optimizers)
    model.learn(60)  # a fused step ran on every optimizer
    assert all(opt.state for opt in optimizers)
    model.save(tmp_path / "m")
    loaded = ARAM.load(tmp_path / "m", env=env)
    assert loaded.critic.optimizer.defaults["fused"]
    for key, value in model.critic.optimizer.state_dict()["state"][0].items():
        assert torch.equal(value, loaded.critic.optimizer.state_dict()["state"][0][key])
    chosen = make(env, policy_kwargs={"net_arch": [8], "optimizer_kwargs": {"foreach": False}})
    assert not chosen.actor.optimizer.defaults["fused"]
    assert chosen.actor.optimizer.defaults["foreach"] is False
