"""The plugin host: registration through hooks, isolation of failures, env switches.

In-process tests use a fresh PluginHost with in-test plugin classes; the tests with
real installed distributions are in test_installed_plugins.py.
"""

from __future__ import annotations

import warnings
from functools import partial

import click
import gymnasium as gym
import pytest

import acrl_wrappers as acrl
from acrl_wrappers import hookimpl
from acrl_wrappers.cli import make_cli
from acrl_wrappers.errors import (
    DuplicateNameError,
    NameConflictWarning,
    PluginError,
    PluginLoadWarning,
)
from acrl_wrappers.plugins import PluginHost

PENDULUM = "gymnasium.envs.classic_control.pendulum:PendulumEnv"


def fresh_host(**environ: str) -> PluginHost:
    host = PluginHost(entry_points=False, environ=environ)
    host.load()
    return host


class GoodPlugin:
    @hookimpl
    def register_constraints(self, register):
        register("good-budget", acrl.PowerConstraint, aliases=("gb",), doc="a budget")

    @hookimpl
    def register_algorithms(self, register):
        register("good-algo", "collections:OrderedDict")


def test_builtins_register_through_the_same_hooks():
    host = fresh_host()
    names = {p["name"]: p for p in host.list_plugins()}
    assert set(names) == {"acrl.constraints", "acrl.projectors", "acrl.commands"}
    assert names["acrl.constraints"]["hooks"] == ["register_constraints"]
    assert host.registry("constraint").get("power").plugin == "acrl.constraints"
    assert [e.name for e in host.registry("projector")] == ["closed-form", "nonlinear", "osqp"]


def test_plugin_registrations_are_found_by_name_and_alias():
    host = fresh_host()
    assert host.add_plugin(GoodPlugin(), "good")
    entry = host.registry("constraint").get("GB")
    assert (entry.name, entry.plugin, entry.summary) == ("good-budget", "good", "a budget")
    assert host.registry("algorithm").get("good-algo").load().__name__ == "OrderedDict"


def test_loading_is_idempotent():
    host = fresh_host()
    count = len(host.registry("constraint"))
    host.load()
    host.load()
    assert len(host.registry("constraint")) == count


def test_a_duplicate_name_is_refused_alone_and_keeps_its_meaning():
    class Clash:
        @hookimpl
        def register_constraints(self, register):
            register("power", acrl.BallConstraint)  # a built-in's name
            register("clash-disc", acrl.BallConstraint, aliases=("l2", "my-disc"))  # 'l2' taken

        @hookimpl
        def register_algorithms(self, register):
            register("clash-algo", "collections:OrderedDict")

    host = fresh_host()
    with pytest.warns(NameConflictWarning) as caught:
        assert host.add_plugin(Clash(), "clash")
    messages = [str(w.message) for w in caught]
    assert len(messages) == 2
    assert "constraint 'power' from plugin 'clash' was refused" in messages[0]
    assert "plugin 'acrl.constraints' (acrl-wrappers " in messages[0]
    assert "ACRL_DISABLE_PLUGINS=clash" in messages[0]
    assert "constraint 'l2'" in messages[1]
    registry = host.registry("constraint")
    # the existing names mean what they meant; the rest of the plugin loaded
    assert registry.get("power").target is acrl.PowerConstraint
    assert registry.get("l2").target is acrl.BallConstraint and registry.get("l2").name == "ball"
    assert registry.get("my-disc").name == "clash-disc"
    assert host.registry("algorithm").get("clash-algo").plugin == "clash"
    # the refused registration is still reachable by its qualified name
    assert registry.get("clash:power").target is acrl.BallConstraint
    assert registry.get("acrl.constraints:power").target is acrl.PowerConstraint
    with pytest.raises(acrl.UnknownConstraintError):
        registry.get("clash:box")
    assert [(c.kind, c.name) for c in host.conflicts] == [
        ("constraint", "power"),
        ("constraint", "l2"),
    ]
    (listed,) = [p for p in host.list_plugins() if p["name"] == "clash"]
    assert listed["status"] == "loaded" and len(listed["conflicts"]) == 2


def test_strict_mode_makes_a_name_conflict_an_error_and_adds_nothing():
    class Clash:
        @hookimpl
        def register_constraints(self, register):
            register("clash-free", acrl.BallConstraint)
            register("power", acrl.BallConstraint)

    host = fresh_host(ACRL_STRICT_PLUGINS="1")
    with pytest.raises(DuplicateNameError, match="'power' from plugin 'clash' was refused"):
        host.add_plugin(Clash(), "clash")
    assert "clash-free" not in host.registry("constraint")
    assert host.registry("constraint").get("power").target is acrl.PowerConstraint


def test_a_task_keeps_its_own_plugins_constraint_when_another_plugin_owns_the_name():
    class First:
        @hookimpl
        def register_constraints(self, register):
            register("shared-disc", partial(acrl.BallConstraint, bound=0.5, dim=1))

    class Second:
        @hookimpl
        def register_constraints(self, register):
            register("shared-disc", partial(acrl.BoxConstraint, low=-0.1, high=0.1, dim=1))

        @hookimpl
        def register_envs(self, register):
            register("ACRL/TestSharedDisc-v0", PENDULUM, constraint="shared-disc")

    host = fresh_host()
    host.add_plugin(First(), "first")
    with pytest.warns(NameConflictWarning, match="'second:shared-disc'"):
        host.add_plugin(Second(), "second")
    task = host.registry("env").get("ACRL/TestSharedDisc-v0")
    assert task.options["constraint"] == "second:shared-disc"
    assert host.registry("constraint").get("shared-disc").plugin == "first"
    assert gym.spec("ACRL/TestSharedDisc-v0").kwargs["constraint"] == "second:shared-disc"


def test_a_command_name_is_owned_by_the_first_plugin():
    class Intruder:
        @hookimpl
        def register_commands(self, cli):
            @cli.command("check")
            def check():
                click.echo("intruder")

            @cli.command("intruder-hello")
            def hello():
                click.echo("hello")

    host = fresh_host()
    host.add_plugin(Intruder(), "intruder")
    with pytest.warns(NameConflictWarning, match="command 'check' from plugin 'intruder'"):
        cli = make_cli(host)
    assert cli.commands["check"].callback.__module__ == "acrl_wrappers.default_plugins.commands"
    assert "intruder-hello" in cli.commands
    assert [(c.kind, c.owner_plugin) for c in host.conflicts] == [("command", "acrl.commands")]


def test_names_with_a_colon_are_refused():
    class Colon:
        @hookimpl
        def register_constraints(self, register):
            register("a:b", acrl.BallConstraint)

    with pytest.warns(PluginLoadWarning, match="must not contain ':'"):
        assert not fresh_host().add_plugin(Colon(), "colon")


def test_garbage_registration_rolls_back_the_whole_plugin():
    class Garbage:
        @hookimpl
        def register_constraints(self, register):
            register("fine-name", acrl.PowerConstraint)
            register("not a name", 42)

    host = fresh_host()
    with pytest.warns(PluginLoadWarning, match="'garbage' was skipped.*without spaces"):
        assert not host.add_plugin(Garbage(), "garbage")
    assert "fine-name" not in host.registry("constraint")
    assert "garbage" not in [p["name"] for p in host.list_plugins() if p["status"] == "loaded"]
    assert any(
        p["name"] == "garbage" and p["status"].startswith("failed") for p in host.list_plugins()
    )


@pytest.mark.parametrize(
    ("target", "options", "match"),
    [
        (42, {}, "class, a callable or a 'module:attribute'"),
        (acrl.PowerConstraint, {"aliases": "x"}, "aliases"),
        (acrl.PowerConstraint, {"doc": 3}, "doc"),
        (acrl.PowerConstraint, {"priority": 3}, "unexpected options"),
    ],
)
def test_invalid_register_calls_are_reported(target, options, match):
    class Bad:
        @hookimpl
        def register_constraints(self, register):
            register("bad", target, **options)

    with pytest.raises(PluginError, match=match):
        fresh_host(ACRL_STRICT_PLUGINS="1").add_plugin(Bad(), "bad")


def test_misspelled_hook_is_rejected_with_a_suggestion():
    class Typo:
        @hookimpl
        def register_constraint(self, register):
            register("typo", acrl.PowerConstraint)

    with pytest.raises(PluginError, match="did you mean 'register_constraints'"):
        fresh_host(ACRL_STRICT_PLUGINS="1").add_plugin(Typo(), "typo")


def test_hook_with_unknown_argument_is_rejected():
    class WrongArgs:
        @hookimpl
        def register_constraints(self, register, extra):
            pass

    host = fresh_host()
    with pytest.warns(PluginLoadWarning, match="invalid hooks"):
        assert not host.add_plugin(WrongArgs(), "wrong-args")


def test_plugin_raising_inside_a_hook_is_skipped_and_others_work():
    class Raises:
        @hookimpl
        def register_constraints(self, register):
            raise RuntimeError("boom")

    host = fresh_host()
    with pytest.warns(PluginLoadWarning, match="RuntimeError: boom"):
        assert not host.add_plugin(Raises(), "raises")
    assert host.add_plugin(GoodPlugin(), "good")


def test_lazy_string_targets_that_fail_to_import_name_the_plugin():
    class Lazy:
        @hookimpl
        def register_constraints(self, register):
            register("lazy", "no_such_module:Thing")

    host = fresh_host()
    assert host.add_plugin(Lazy(), "lazy")
    with pytest.raises(PluginError, match=r"from plugin 'lazy'.*cannot be imported"):
        host.registry("constraint").get("lazy").load()


def test_make_constraint_rejects_a_factory_returning_garbage(monkeypatch):
    class Weird:
        @hookimpl
        def register_constraints(self, register):
            register("weird", lambda: "not a constraint")

    host = fresh_host()
    host.add_plugin(Weird(), "weird")
    monkeypatch.setattr("acrl_wrappers.plugins._DEFAULT_HOST", host)
    with pytest.raises(PluginError, match="from plugin 'weird' built str"):
        acrl.make_constraint("weird")


def test_default_host_loads_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        acrl.load_plugins()
        assert acrl.list_plugins()


def test_registered_env_ids_work_with_gym_make():
    import gymnasium as gym

    class Tasks:
        @hookimpl
        def register_envs(self, register):
            register(
                "ACRL/TestPendulum-v0",
                "gymnasium.envs.classic_control.pendulum:PendulumEnv",
                constraint={"name": "box", "dim": 1},
                max_episode_steps=7,
            )

    host = fresh_host()
    assert host.add_plugin(Tasks(), "tasks")
    entry = host.registry("env").get("ACRL/TestPendulum-v0")
    assert entry.options["constraint"] == {"name": "box", "dim": 1}
    env = gym.make("ACRL/TestPendulum-v0")
    assert env.spec.max_episode_steps == 7
    env.close()


def test_env_id_without_version_is_rejected():
    class BadTask:
        @hookimpl
        def register_envs(self, register):
            register("NoVersion", "gymnasium.envs.classic_control.pendulum:PendulumEnv")

    with pytest.raises(PluginError, match="Gymnasium id with a version"):
        fresh_host(ACRL_STRICT_PLUGINS="1").add_plugin(BadTask(), "bad-task")


@pytest.mark.parametrize("action_dim", [0, -1, 2.0, True, "3"])
def test_env_action_dim_must_be_a_positive_int(action_dim):
    class BadTask:
        @hookimpl
        def register_envs(self, register):
            pendulum = "gymnasium.envs.classic_control.pendulum:PendulumEnv"
            register("ACRL/BadDim-v0", pendulum, action_dim=action_dim)

    with pytest.raises(PluginError, match="action_dim"):
        fresh_host(ACRL_STRICT_PLUGINS="1").add_plugin(BadTask(), "bad-task")
