"""``acrl flow train``: the command registered by the acrl-policies plugin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch
from click.testing import CliRunner

from acrl_policies.flows import FlowCheckpoint
from acrl_wrappers.cli import make_cli

TINY = [
    "--epochs",
    "1",
    "--steps-per-epoch",
    "30",
    "--layers",
    "2",
    "--hidden",
    "16",
    "--samples",
    "2000",
    "--no-progress",
]


def test_flow_train_writes_a_checkpoint_and_a_metrics_table(tmp_path):
    out = tmp_path / "hopper.flow"
    result = CliRunner().invoke(
        make_cli(),
        [
            "flow",
            "train",
            "--constraint",
            "hopper-m10",
            "--method",
            "flowpg",
            "--sampler",
            "hmc",
            "--condition",
            "uniform:-10,10",
            "-o",
            str(out),
            *TINY,
        ],
    )
    assert result.exit_code == 0, result.output
    assert "| epoch | accuracy |" in result.output and "wrote" in result.output
    ckpt = FlowCheckpoint.load(out, constraint="hopper-m10", obs_size=11)
    assert ckpt.method == "flowpg" and len(ckpt.metrics) == 2
    assert (
        (tmp_path / "hopper.flow.metrics.md").read_text().startswith("# flowpg flow for hopper-m10")
    )


def test_flow_train_for_a_task_uses_its_constraint_and_declared_conditions(tmp_path):
    out = tmp_path / "cheetah.flow"
    result = CliRunner().invoke(
        make_cli(), ["flow", "train", "--task", "ACRL/HalfCheetahO20-v0", "-o", str(out), *TINY]
    )
    assert result.exit_code == 0, result.output
    assert "conditions: uniform:-20,20 (declared by the task)" in result.output
    ckpt = FlowCheckpoint.load(out, constraint="halfcheetah-o20", obs_size=17)
    assert ckpt.condition.to_dict() == {"kind": "uniform", "low": -20.0, "high": 20.0}
    both = CliRunner().invoke(
        make_cli(), ["flow", "train", "--task", "ACRL/HalfCheetahO20-v0", "--constraint", "x"]
    )
    assert both.exit_code != 0 and "give one of --constraint NAME and --task ID" in both.output


def test_flow_train_accepts_a_json_spec_and_float64(tmp_path):
    out = tmp_path / "disc.flow"
    spec = '{"name": "ball", "dim": 2, "bound": 0.1}'
    result = CliRunner().invoke(
        make_cli(),
        [
            "flow",
            "train",
            "--constraint",
            spec,
            "--method",
            "cvflow",
            "--dtype",
            "float64",
            "-o",
            str(out),
            *TINY,
        ],
    )
    assert result.exit_code == 0, result.output
    assert FlowCheckpoint.load(out).dtype == torch.float64


def test_missing_the_target_accuracy_saves_then_exits_with_status_1(tmp_path):
    out = tmp_path / "r.flow"
    result = CliRunner().invoke(
        make_cli(),
        [
            "flow",
            "train",
            "--constraint",
            "reacher-l2",
            "--method",
            "cvflow",
            "--target-accuracy",
            "0.9999",
            "-o",
            str(out),
            *TINY,
        ],
    )
    assert result.exit_code == 1
    assert "below the requested 0.9999" in result.output
    assert out.exists()  # nothing the user produced is lost


def test_bad_input_is_a_one_line_error():
    runner = CliRunner()
    result = runner.invoke(make_cli(), ["flow", "train", "--constraint", "reacher-l3"])
    assert result.exit_code == 1
    assert "did you mean 'reacher-l2'" in result.output
    result = runner.invoke(
        make_cli(), ["flow", "train", "--constraint", "reacher-l2", "--condition", "gauss"]
    )
    assert "uniform:LOW,HIGH" in result.output and "Traceback" not in result.output


def test_the_installed_acrl_command_lists_flow():
    acrl = Path(sys.executable).with_name("acrl")  # the console script pip installed
    result = subprocess.run(
        [str(acrl), "flow", "train", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "--constraint" in result.stdout and "flowpg|cvflow" in result.stdout
