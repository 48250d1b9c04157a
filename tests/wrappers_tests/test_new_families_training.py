"""Stock SAC and PPO train through each new family; nothing infeasible is executed.

A probe beneath the wrapper checks every executed action against the constraint.
"""

from __future__ import annotations

import gymnasium as gym
import pytest
from stable_baselines3 import PPO, SAC

import acrl_wrappers as acrl
from acrl_wrappers.sb3 import ConstraintMetricsCallback
from acrl_wrappers.testing import ActionProbe

# family -> (env id, constraint, whether the previous action must be observed)
FAMILIES = {
    "slew-rate": ("Reacher-v5", {"name": "slew-rate", "delta": 0.2, "prev_index": "10:12"}, True),
    "slew-rate-l2": (
        "Reacher-v5",
        {"name": "slew-rate", "delta": 0.2, "prev_index": "10:12", "norm": "l2"},
        True,
    ),
    "simplex": ("Reacher-v5", {"name": "simplex", "dim": 2}, False),
    "capped-simplex": ("Reacher-v5", {"name": "capped-simplex", "caps": [0.7, 0.6]}, False),
    "psd": ("Hopper-v5", {"name": "psd", "n": 2, "eps": 0.1}, False),
}
ALGOS = {
    "SAC": (SAC, {"learning_starts": 50, "batch_size": 32}, 150),
    "PPO": (PPO, {"n_steps": 64, "batch_size": 32, "n_epochs": 1}, 128),
}


@pytest.mark.parametrize("algo", sorted(ALGOS))
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_stock_agents_train_through_the_new_families(family, algo):
    env_id, spec, history = FAMILIES[family]
    c = acrl.make_constraint(spec)
    env = gym.make(env_id)
    probe = ActionProbe(acrl.PreviousAction(env) if history else env, c, keep=False)
    wrapped = acrl.wrap(probe, c, enforce="project")
    cls, kwargs, steps = ALGOS[algo]
    model = cls("MlpPolicy", wrapped, policy_kwargs={"net_arch": [32, 32]}, seed=0, **kwargs)
    metrics = ConstraintMetricsCallback()
    model.learn(steps, callback=metrics)
    assert probe.steps == metrics.steps == steps
    assert metrics.violations > 0  # the policy proposed infeasible actions ...
    assert probe.infeasible == 0  # ... and none reached the simulator
