"""Plugin discovery with real installed distributions (no mocks).

``acrl-example`` is installed in the test environment; the broken plugins of
``plugin_dists/`` are built and installed into a temporary folder with pip, which a
subprocess then puts on its path, so they are discovered through their entry-point
metadata exactly as after a ``pip install``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DISTS = Path(__file__).parent / "plugin_dists"
BROKEN = ["acrl-broken-import", "acrl-broken-register", "acrl-broken-hook", "acrl-broken-duplicate"]


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            *(str(DISTS / name) for name in BROKEN),
        ],
        check=True,
    )
    return target


def run_acrl(site: Path | None, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACRL_")}
    if site is not None:
        environ["PYTHONPATH"] = os.pathsep.join([str(site), environ.get("PYTHONPATH", "")])
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "acrl_wrappers", *args], capture_output=True, text=True, env=environ
    )


def test_example_plugin_is_discovered():
    result = run_acrl(None, "plugins", "--json")
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["example"]["status"] == "loaded"
    assert plugins["example"]["distribution"] == "acrl-example"


def test_broken_plugins_are_reported_and_skipped_while_others_work(broken_site):
    result = run_acrl(broken_site, "plugins", "--json")
    assert result.returncode == 0, result.stderr
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    assert plugins["example"]["status"] == "loaded"
    for name, reason in [
        ("broken-import", "import failed"),
        ("broken-register", "without spaces"),
        ("broken-hook", "register_constraint"),
        ("broken-duplicate", "both plugin"),
    ]:
        assert plugins[name]["status"].startswith("failed"), name
        assert reason in plugins[name]["status"], plugins[name]
        assert plugins[name]["distribution"] == f"acrl-{name}"
        assert plugins[name]["version"] == "0.0.1"
    # each failure is also a warning on stderr naming the distribution and version
    for name in BROKEN:
        assert f"({name} 0.0.1) was skipped" in result.stderr
    # the rolled-back plugin left nothing behind; the healthy ones still work
    constraints = run_acrl(broken_site, "constraints", "--json")
    names = {c["name"] for c in json.loads(constraints.stdout)}
    assert {"annulus", "reacher-annulus", "power"} <= names
    assert "broken-register-valid" not in names and "broken-hook" not in names
    check = run_acrl(broken_site, "check", "reacher-annulus", "--samples", "50")
    assert check.returncode == 0 and "result      ok" in check.stdout


def test_disable_and_allow_lists_choose_plugins(broken_site):
    quiet = run_acrl(
        broken_site,
        "plugins",
        "--json",
        ACRL_DISABLE_PLUGINS="broken-import,acrl-broken-register,broken-hook,broken-duplicate",
    )
    assert quiet.returncode == 0 and "was skipped" not in quiet.stderr
    only = run_acrl(broken_site, "plugins", "--json", ACRL_LOAD_PLUGINS="acrl-example")
    names = {p["name"] for p in json.loads(only.stdout)}
    assert names == {"acrl.commands", "acrl.constraints", "acrl.projectors", "example"}
    none = run_acrl(broken_site, "plugins", "--json", ACRL_LOAD_PLUGINS="")
    assert {p["name"] for p in json.loads(none.stdout)} == {
        "acrl.commands",
        "acrl.constraints",
        "acrl.projectors",
    }


def test_strict_mode_turns_a_failure_into_an_error(broken_site):
    result = run_acrl(broken_site, "plugins", ACRL_STRICT_PLUGINS="1")
    assert result.returncode != 0
    assert result.stderr.startswith("Error: DuplicateNameError: acrl plugin 'broken-duplicate'")
    assert "(acrl-broken-duplicate 0.0.1)" in result.stderr and "Traceback" not in result.stderr
