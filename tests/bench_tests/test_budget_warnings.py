"""Valid settings that will not do what they suggest get a warning naming the fix."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from acrl_bench.config import RunConfig
from acrl_bench.errors import BudgetWarning
from acrl_bench.train import train
from acrl_bench.validation import run_warnings
from acrl_wrappers.cli import make_cli


def test_aram_below_its_default_learning_starts_never_updates():
    (warning,) = run_warnings(RunConfig(algo="aram", env="ACRL/HalfCheetahO20-v0", steps=3000))
    assert "ARAM's learning_starts is 10,000 (its default)" in warning
    assert "the policy is never updated" in warning and "-p learning_starts=300" in warning


def test_a_rollout_longer_than_the_run_is_named():
    config = RunConfig(
        algo="ppo", env="ACRL/ReacherL2-v0", steps=200, hyperparams={"n_steps": 10**6}
    )
    (warning,) = run_warnings(config)
    assert "1,000,000 env steps per rollout" in warning and "more than the run's 200" in warning
    assert "-p n_steps=200" in warning
    four = config.replace(n_envs=4, hyperparams={"n_steps": 100})
    assert "at most 50" in run_warnings(four)[0]  # 100 x 4 envs > 200


@pytest.mark.parametrize(
    "config",
    [
        RunConfig(algo="sac", steps=1000, hyperparams={"learning_starts": 100}),
        RunConfig(algo="ppo", steps=4096),
        RunConfig(algo="ctrpo", env="ACRL/SafeHopperVelocity-v1", steps=2048),
    ],
    ids=["sac", "ppo", "ctrpo"],
)
def test_budgets_that_fit_get_no_warning(config):
    assert run_warnings(config) == []


def test_train_warns_in_python_and_on_the_command_line(tmp_path):
    config = RunConfig(algo="sac", env="ACRL/ReacherL2-v0", steps=30)
    with pytest.warns(BudgetWarning, match="learning_starts is 100"):
        train(config, log_root=tmp_path / "api", progress_bar=False)
    args = ["train", "--algo", "sac", "-n", "30", "--no-progress", "--log-root", str(tmp_path)]
    result = CliRunner().invoke(make_cli(), args)
    assert result.exit_code == 0, result.output
    warning = next(line for line in result.output.splitlines() if line.startswith("Warning: "))
    assert "SAC's learning_starts is 100 (its default) but the run has 30 steps" in warning
