"""Run configs, zoo-style hyperparameter files and their errors."""

from __future__ import annotations

import pytest
from stable_baselines3 import SAC
from torch import nn

from acrl_bench.algorithms import accepted_hyperparameters, algorithm_class
from acrl_bench.config import DEFAULT_RUN, RunConfig
from acrl_bench.errors import ConfigError
from acrl_bench.hyperparams import load_hyperparams, materialize, parse_policy_kwargs


def test_every_stock_and_plugin_algorithm_resolves():
    for name in ("sac", "td3", "ppo", "trpo", "tqc", "aram", "flowpg", "cvflow_sac", "ctrpo"):
        assert isinstance(algorithm_class(name), type)


def test_unknown_algorithm_suggests_a_match():
    with pytest.raises(ConfigError, match="did you mean 'sac'"):
        RunConfig(algo="sacc").resolved()


def test_unknown_env_suggests_a_match():
    with pytest.raises(ConfigError, match="did you mean 'ACRL/ReacherL2-v0'"):
        RunConfig(env="ACRL/ReacherL2-v9").resolved()


def test_unknown_constraint_suggests_a_match():
    with pytest.raises(ConfigError, match="reacher-l2"):
        RunConfig(env="Reacher-v5", constraint="reacher-l3").resolved()


def test_unknown_hyperparameter_names_the_accepted_keys():
    with pytest.raises(ConfigError) as info:
        RunConfig(hyperparams={"learning_rat": 1e-3}).resolved()
    message = str(info.value)
    assert "did you mean 'learning_rate'" in message and "buffer_size" in message


def test_plugin_algorithm_keywords_include_its_bases():
    keys = accepted_hyperparameters(algorithm_class("ctrpo"))
    assert {"cost_limit", "target_kl", "learning_rate"} <= set(keys)


def test_enforce_defaults_to_project_when_there_is_a_constraint():
    assert RunConfig(env="ACRL/HopperM10-v0").resolved().enforce == "project"
    assert RunConfig(env="ACRL/SafeHopperVelocity-v1").resolved().enforce == "none"
    assert DEFAULT_RUN.resolved().enforce == "project"


def test_enforce_without_a_constraint_is_an_error():
    with pytest.raises(ConfigError, match="--constraint"):
        RunConfig(env="Hopper-v5", enforce="project").resolved()


def test_bad_numbers_are_errors():
    with pytest.raises(ConfigError, match="steps must be a positive integer"):
        RunConfig(steps=0).resolved()


def test_config_round_trips_through_plain_data():
    config = RunConfig(hyperparams={"policy_kwargs": {"net_arch": [8]}}, seed=3)
    assert RunConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown run settings"):
        RunConfig.from_dict({"algo": "sac", "stpes": 3})


def test_zoo_yaml_merges_default_under_the_env_section(tmp_path):
    path = tmp_path / "sac.yml"
    path.write_text(
        "default:\n  gamma: 0.9\n  learning_starts: 10\n"
        "ACRL/ReacherL2-v0:\n  gamma: 0.95\n  n_timesteps: 3000\n"
        "  policy_kwargs: 'dict(net_arch=[32, 32], activation_fn=nn.Tanh)'\n"
    )
    params = load_hyperparams(path, "ACRL/ReacherL2-v0")
    assert params["gamma"] == 0.95 and params["learning_starts"] == 10
    assert parse_policy_kwargs(params["policy_kwargs"]) == {
        "net_arch": [32, 32],
        "activation_fn": "Tanh",
    }


def test_zoo_yaml_without_a_matching_section_is_an_error(tmp_path):
    path = tmp_path / "sac.yml"
    path.write_text("Pendulum-v1: {gamma: 0.9}\n")
    with pytest.raises(ConfigError, match="no section for 'Hopper-v5'"):
        load_hyperparams(path, "Hopper-v5")


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('echo pwned')",
        "dict(net_arch=open('/etc/passwd').read())",
        "dict(activation_fn=nn.Module)",
    ],
)
def test_policy_kwargs_strings_are_never_evaluated(text):
    with pytest.raises(ConfigError, match="policy_kwargs"):
        parse_policy_kwargs(text)


def test_materialize_resolves_activations_and_linear_schedules():
    kwargs = materialize({"policy_kwargs": {"activation_fn": "relu"}, "learning_rate": "lin_1e-3"})
    assert kwargs["policy_kwargs"]["activation_fn"] is nn.ReLU
    assert kwargs["learning_rate"](0.5) == pytest.approx(5e-4)
    model = SAC("MlpPolicy", "Pendulum-v1", **kwargs)
    assert model.lr_schedule(1.0) == pytest.approx(1e-3)


def test_wrapper_options_are_checked_before_training():
    with pytest.raises(ConfigError, match=r"ProjectAction .* does not take \['kappa'\]"):
        RunConfig(enforce="project", wrapper_kwargs={"kappa": 0.2}).resolved()


def train_config(*args: str) -> RunConfig:
    """The config ``acrl train ARGS`` would run, parsed by the real command line."""
    from acrl_bench.commands import _config_from_options, train

    return _config_from_options(train.make_context("train", list(args)).params)


def test_run_keys_in_the_yaml_file_apply_and_flags_win(tmp_path):
    path = tmp_path / "sac.yml"
    path.write_text(
        "ACRL/ReacherL2-v0:\n  n_timesteps: 20000\n  n_envs: 2\n  enforce: automdp\n"
        "  wrapper_kwargs: {kappa: 0.3}\n  gamma: 0.95\n"
    )
    config = train_config("--env", "ACRL/ReacherL2-v0", "--hyperparams", str(path))
    assert (config.steps, config.n_envs, config.enforce) == (20000, 2, "automdp")
    assert config.wrapper_kwargs == {"kappa": 0.3} and config.hyperparams == {"gamma": 0.95}
    config = train_config(
        "--env",
        "ACRL/ReacherL2-v0",
        "--hyperparams",
        str(path),
        "-n",
        "500",
        "--enforce",
        "project",
        "-p",
        "n_envs=3",
    )
    assert (config.steps, config.n_envs, config.enforce) == (500, 3, "project")


def test_the_default_run_keeps_its_settings_unless_a_task_or_algorithm_is_named():
    assert train_config() == DEFAULT_RUN
    assert train_config("-n", "500").wrapper_kwargs == DEFAULT_RUN.wrapper_kwargs
    assert train_config("--enforce", "automdp").wrapper_kwargs == {}  # penalty: ProjectAction's
    named = train_config("--env", "ACRL/ReacherL2-v0")
    assert named.algo == "sac" and named.wrapper_kwargs == {} and named.hyperparams == {}
