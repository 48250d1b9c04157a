"""Documentation stays in step with the code."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import acrl_wrappers as acrl
from acrl_wrappers import hookspecs
from acrl_wrappers.plugins import PluginHost

README = Path(__file__).resolve().parents[2] / "packages" / "acrl-wrappers" / "README.md"


def test_every_hook_has_a_heading_with_its_signature():
    host = PluginHost(entry_points=False, environ={})
    text = README.read_text()
    hooks = [name for name in dir(host.pm.hook) if not name.startswith("_")]
    assert len(hooks) == 7
    for name in hooks:
        argument = "cli" if name == "register_commands" else "register"
        assert f"#### {name}({argument})" in text, f"README lacks a heading for hook {name}"


def test_every_builtin_family_is_in_the_readme_table():
    text = README.read_text()
    for entry in acrl.list_constraints():
        if entry["plugin"] == "acrl.constraints":
            assert re.search(rf"\| `{re.escape(entry['name'])}` \|", text), entry["name"]


def test_public_classes_have_docstrings_with_examples():
    missing = []
    for name in acrl.__all__:
        obj = getattr(acrl, name)
        if inspect.isclass(obj) and not issubclass(obj, Exception) and name != "ProjectionInfo":
            doc = inspect.getdoc(obj) or ""
            if "Example" not in doc:
                missing.append(name)
    assert not missing, f"public classes without an Example in their docstring: {missing}"


def test_hookspecs_are_typed_and_documented():
    for name in (
        "register_constraints",
        "register_projectors",
        "register_envs",
        "register_commands",
        "register_policies",
        "register_algorithms",
    ):
        fn = getattr(hookspecs, name)
        assert fn.__doc__ and "versionadded" in fn.__doc__
        assert all(
            p.annotation is not inspect.Parameter.empty
            for p in inspect.signature(fn).parameters.values()
        )
