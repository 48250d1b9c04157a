"""The acrl command line: plugins, constraints, check."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from acrl_wrappers.cli import make_cli


@pytest.fixture(scope="module")
def cli():
    return make_cli()


def invoke(cli, *args: str):
    return CliRunner().invoke(cli, list(args))


def test_help_lists_core_commands(cli):
    result = invoke(cli, "--help")
    assert result.exit_code == 0
    for command in ("plugins", "constraints", "envs", "check"):
        assert command in result.output


def test_plugins_lists_builtins_with_versions(cli):
    result = invoke(cli, "plugins", "--json")
    plugins = {p["name"]: p for p in json.loads(result.output)}
    assert plugins["acrl.constraints"]["distribution"] == "acrl-wrappers"
    assert plugins["acrl.constraints"]["hooks"] == ["register_constraints"]
    table = invoke(cli, "plugins").output
    assert table.splitlines()[0].split() == [
        "plugin",
        "distribution",
        "version",
        "registers",
        "status",
    ]


def test_constraints_lists_families_with_summaries(cli):
    found = {c["name"]: c for c in json.loads(invoke(cli, "constraints", "--json").output)}
    assert found["power"]["family"] == "power"
    assert found["power"]["aliases"] == ["weighted-l1", "orthoplex"]
    assert "sum_i |w_i a_i| <= bound" in found["power"]["summary"]


def test_check_a_state_dependent_constraint(cli):
    result = invoke(
        cli, "check", "power", "-p", "bound=20", "-p", "weight_index=11:17", "--samples", "200"
    )
    assert result.exit_code == 0, result.output
    assert "projector   closed-form" in result.output
    assert "observations ~ N(0, 10^2) on 17 entries" in result.output
    inside = next(line for line in result.output.splitlines() if line.startswith("inside"))
    projected, total = inside.split()[1], inside.split()[3]
    assert projected == total and int(total) > 0
    assert "result      ok" in result.output


def test_check_accepts_a_json_spec_and_a_forced_method(cli):
    spec = json.dumps({"name": "linear", "A": [[1.0, 1.0], [1.0, -1.0]], "b": [0.5, 0.2]})
    result = invoke(cli, "check", spec, "--method", "osqp", "--samples", "100")
    assert result.exit_code == 0, result.output
    assert "projector   osqp" in result.output


def test_check_reports_bad_input_as_one_line_errors(cli):
    unknown = invoke(cli, "check", "halfchetah")
    assert unknown.exit_code != 0
    assert "UnknownConstraintError: unknown constraint 'halfchetah'" in unknown.output
    bad_param = invoke(cli, "check", "power", "-p", "bond=1", "-p", "dim=2")
    assert "did you mean 'bound'" in bad_param.output
    malformed = invoke(cli, "check", "power", "-p", "bound")
    assert "expected KEY=VALUE" in malformed.output


def test_envs_lists_registered_tasks(cli):
    from acrl_wrappers import hookimpl
    from acrl_wrappers.plugins import default_host

    class Task:
        @hookimpl
        def register_envs(self, register):
            register(
                "ACRL/CliListedPendulum-v0",
                "gymnasium.envs.classic_control.pendulum:PendulumEnv",
                constraint={"name": "box", "dim": 1},
                max_episode_steps=9,
                doc="a test task",
            )

    host = default_host()
    assert host.add_plugin(Task(), "cli-task")
    try:
        found = {e["id"]: e for e in json.loads(invoke(cli, "envs", "--json").output)}
        assert found["ACRL/CliListedPendulum-v0"]["max_episode_steps"] == 9
        assert found["ACRL/CliListedPendulum-v0"]["action_dim"] == 1
        table = invoke(cli, "envs").output
        assert re.search(r"ACRL/CliListedPendulum-v0 +box +1 +9 +cli-task +a test task", table)
    finally:
        host.pm.unregister(name="cli-task")
        for registry in host._registries.values():
            registry.remove_plugin("cli-task")


def test_envs_takes_action_dims_from_registrations_without_building(cli, monkeypatch):
    import gymnasium as gym

    from acrl_wrappers import hookimpl
    from acrl_wrappers.plugins import default_host

    class Task:
        @hookimpl
        def register_envs(self, register):
            pendulum = "gymnasium.envs.classic_control.pendulum:PendulumEnv"
            register("ACRL/CliDeclaredPendulum-v0", pendulum, action_dim=1)
            register("ACRL/CliUnknownPendulum-v0", pendulum)

    def refuse(*args, **kwargs):
        raise AssertionError("acrl envs must not build envs")

    host = default_host()
    assert host.add_plugin(Task(), "cli-task")
    monkeypatch.setattr(gym, "make", refuse)
    try:
        found = {e["id"]: e for e in json.loads(invoke(cli, "envs", "--json").output)}
        assert found["ACRL/CliDeclaredPendulum-v0"]["action_dim"] == 1
        assert found["ACRL/CliUnknownPendulum-v0"]["action_dim"] == "?"
    finally:
        host.pm.unregister(name="cli-task")
        for registry in host._registries.values():
            registry.remove_plugin("cli-task")
