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
    ]:
        assert plugins[name]["status"].startswith("failed"), name
        assert reason in plugins[name]["status"], plugins[name]
        assert plugins[name]["distribution"] == f"acrl-{name}"
        assert plugins[name]["version"] == "0.0.1"
    # each failure is also a warning on stderr naming the distribution and version
    for name in BROKEN[:-1]:
        assert f"({name} 0.0.1) was skipped" in result.stderr
    # the rolled-back plugin left nothing behind; the healthy ones still work
    constraints = run_acrl(broken_site, "constraints", "--json")
    names = {c["name"] for c in json.loads(constraints.stdout)}
    assert {"annulus", "reacher-annulus", "power"} <= names
    assert "broken-register-valid" not in names and "broken-hook" not in names
    check = run_acrl(broken_site, "check", "reacher-annulus", "--samples", "50")
    assert check.returncode == 0 and "result      ok" in check.stdout


def test_duplicate_names_are_refused_alone_and_never_change_a_task(broken_site):
    result = run_acrl(broken_site, "plugins", "--json")
    plugins = {p["name"]: p for p in json.loads(result.stdout)}
    # both plugins load; only the contested names are refused
    assert plugins["broken-duplicate"]["status"] == "loaded"
    assert plugins["example"]["status"] == "loaded"
    refused = plugins["broken-duplicate"]["conflicts"]
    assert len(refused) == 2, refused  # 'power' and the command 'check'
    power = next(line for line in refused if "'power'" in line)
    assert "plugin 'acrl.constraints' (acrl-wrappers " in power
    assert "plugin 'broken-duplicate' (acrl-broken-duplicate 0.0.1)" in power
    assert "pip uninstall acrl-broken-duplicate" in power
    assert any("command 'check'" in line for line in refused)
    # the later plugin lost 'reacher-annulus'; the fix offers both ways, naming both
    (annulus,) = plugins["example"]["conflicts"]
    assert "(acrl-example " in annulus and "(acrl-broken-duplicate 0.0.1)" in annulus
    assert (
        "'example:reacher-annulus'" in annulus
        and "ACRL_DISABLE_PLUGINS=broken-duplicate" in annulus
    )
    assert "NameConflictWarning" in result.stderr or "was refused" in result.stderr
    # the built-in command and family keep their meaning; the free name loads
    check = run_acrl(
        broken_site, "check", '{"name": "power", "bound": 1, "dim": 2}', "--samples", "20"
    )
    assert check.returncode == 0, check.stderr
    assert "the intruder's check" not in check.stdout and "constraint  power" in check.stdout
    names = {c["name"] for c in json.loads(run_acrl(broken_site, "constraints", "--json").stdout)}
    assert "duplicate-disc" in names
    # acrl-example's task enforces acrl-example's annulus, executed actions measured beneath
    script = (
        "import gymnasium as gym, numpy as np, acrl_wrappers as acrl\n"
        "from acrl_wrappers.testing import ActionProbe\n"
        "acrl.load_plugins()\n"
        "env = gym.make('ACRL/ReacherAnnulus-v0')\n"
        "c = acrl.find_constraint(env)\n"
        "print(c.family, acrl.make_constraint('example:reacher-annulus') == c)\n"
        "probe = ActionProbe(gym.make('ACRL/ReacherAnnulus-v0', enforce='none'), c)\n"
        "env = acrl.wrap(probe, c, enforce='project')\n"
        "env.reset(seed=0); env.action_space.seed(0)\n"
        "for _ in range(100): env.step(env.action_space.sample())\n"
        "a = np.array(probe.actions)\n"
        "r2 = (a ** 2).sum(axis=1)\n"
        "print(len(a), int(((r2 < 0.045 - 1e-6) | (r2 > 0.05 + 1e-6)).sum()))\n"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ACRL_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(broken_site), environ.get("PYTHONPATH", "")])
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=environ
    )
    assert run.returncode == 0, run.stderr
    family, same, executed, outside = run.stdout.split()
    assert (family, same) == ("annulus", "True")
    assert int(executed) == 100 and outside == "0"


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
    assert result.stderr.startswith("Error: DuplicateNameError: ")
    assert "(acrl-broken-duplicate 0.0.1)" in result.stderr and "Traceback" not in result.stderr
    assert "ACRL_STRICT_PLUGINS is set" in result.stderr
