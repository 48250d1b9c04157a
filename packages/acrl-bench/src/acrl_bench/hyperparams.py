"""Hyperparameters as data: zoo-style YAML files, safe ``policy_kwargs``, schedules.

rl-baselines3-zoo users keep a YAML file keyed by env id; ``acrl train --hyperparams``
reads the same files, without ``eval``:

.. code-block:: yaml

    default:                    # applies to every env (an env's own keys win)
      learning_starts: 1000
    ACRL/ReacherL2-v0:
      n_timesteps: 20000        # zoo keys: n_timesteps, n_envs, policy, policy_kwargs,
      n_envs: 1                 #   normalize, env_kwargs
      policy_kwargs: "dict(net_arch=[64, 64], activation_fn=nn.ReLU)"  # or a mapping
      learning_rate: lin_7.3e-4 # a linear schedule, as in the zoo
      enforce: automdp          # acrl keys: enforce, constraint, wrapper_kwargs
      wrapper_kwargs: {kappa: 0.2, reward_offset: 1.0}

Everything else goes to the algorithm's constructor and is checked against it.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from acrl_bench.errors import ConfigError

__all__ = [
    "ACTIVATIONS",
    "RUN_KEYS",
    "load_hyperparams",
    "materialize",
    "parse_policy_kwargs",
    "parse_schedule",
    "split_run_keys",
]

ACTIVATIONS = ("ReLU", "Tanh", "ELU", "LeakyReLU", "SiLU", "GELU", "Sigmoid", "Softplus")
"""``torch.nn`` activations a ``policy_kwargs`` string or mapping may name."""

RUN_KEYS = {
    "n_timesteps": "steps",
    "n_envs": "n_envs",
    "policy": "policy",
    "normalize": "normalize",
    "env_kwargs": "env_kwargs",
    "enforce": "enforce",
    "constraint": "constraint",
    "wrapper_kwargs": "wrapper_kwargs",
}
"""YAML keys that configure the run rather than the algorithm -> ``RunConfig`` field."""

_UNSUPPORTED = ("env_wrapper", "vec_env_wrapper", "callback", "frame_stack", "monitor_kwargs")


def load_hyperparams(path: str | Path, env_id: str) -> dict[str, Any]:
    r"""The hyperparameters for ``env_id`` in a zoo-style YAML file (``default`` merged under).

    Raises:
        ConfigError: unreadable YAML, no section for ``env_id`` and no ``default``, or a zoo
            key acrl does not support.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "sac.yml")
        >>> text = "default: {gamma: 0.98}\nPendulum-v1: {n_timesteps: 5000}\n"
        >>> _ = open(path, "w").write(text)
        >>> load_hyperparams(path, "Pendulum-v1")
        {'gamma': 0.98, 'n_timesteps': 5000}
    """
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read hyperparameters from {path}: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ConfigError(f"{path} must be a mapping keyed by env id (and 'default'), got {data!r}")
    if env_id not in data and "default" not in data:
        raise ConfigError(
            f"{path} has no section for {env_id!r} and no 'default'; its sections: "
            f"{', '.join(map(str, data))}"
        )
    merged: dict[str, Any] = {}
    for section in ("default", env_id):
        value = data.get(section) or {}
        if not isinstance(value, Mapping):
            raise ConfigError(f"section {section!r} of {path} must be a mapping, got {value!r}")
        merged.update(value)
    for key in _UNSUPPORTED:
        if key in merged:
            raise ConfigError(
                f"{path}: the zoo key {key!r} is not supported by acrl train; use enforce / "
                "constraint / wrapper_kwargs for the acrl wrappers, or a Python script"
            )
    return merged


def parse_policy_kwargs(value: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """``policy_kwargs`` as plain data: a mapping, or a zoo string parsed without ``eval``.

    Activation functions are kept as names (``"ReLU"``); :func:`materialize` turns them
    into classes when the model is built.

    Raises:
        ConfigError: a string that is not ``dict(...)``/``{...}`` of literals and ``nn.<Act>``.

    Example:
        >>> parse_policy_kwargs("dict(net_arch=[64, 64], activation_fn=nn.ReLU)")
        {'net_arch': [64, 64], 'activation_fn': 'ReLU'}
    """
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    try:
        tree = ast.parse(str(value), mode="eval").body
        parsed = _literal(tree)
    except (SyntaxError, ValueError) as exc:
        raise ConfigError(
            f"policy_kwargs {value!r} is not understood ({exc}); write a mapping such as "
            "{net_arch: [64, 64], activation_fn: ReLU} or a string 'dict(net_arch=[64, 64])' "
            "of literals and nn.<Activation>"
        ) from exc
    if not isinstance(parsed, dict):
        raise ConfigError(f"policy_kwargs must be a mapping, got {value!r}")
    return parsed


def _literal(node: ast.AST) -> Any:
    """A literal, ``dict(k=v)``, ``{k: v}``, list/tuple, or ``nn.Name`` -> its activation name."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        if node.args:
            raise ValueError("dict() takes keyword arguments only here")
        return {kw.arg: _literal(kw.value) for kw in node.keywords}
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True)}  # type: ignore[arg-type]
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(e) for e in node.elts]
    if isinstance(node, ast.Attribute) and node.attr in ACTIVATIONS:
        return node.attr
    if isinstance(node, ast.Name) and node.id in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[node.id]
    return ast.literal_eval(node)


def parse_schedule(value: Any) -> Any:
    """A zoo schedule string ``lin_<start>`` as a linear schedule; anything else unchanged.

    Example:
        >>> schedule = parse_schedule("lin_1e-3")
        >>> schedule(1.0), schedule(0.5)
        (0.001, 0.0005)
        >>> parse_schedule(3e-4)
        0.0003
    """
    if isinstance(value, str) and value.startswith("lin_"):
        try:
            start = float(value[4:])
        except ValueError as exc:
            raise ConfigError(f"schedule {value!r} should look like 'lin_0.001'") from exc
        return _LinearSchedule(start)
    return value


class _LinearSchedule:
    """``progress_remaining * start`` (picklable, unlike a closure)."""

    def __init__(self, start: float) -> None:
        self.start = start

    def __call__(self, progress_remaining: float) -> float:
        return progress_remaining * self.start


def materialize(hyperparams: Mapping[str, Any]) -> dict[str, Any]:
    """Algorithm keyword arguments from their data form: activations and schedules resolved.

    Example:
        >>> kwargs = materialize({"policy_kwargs": {"activation_fn": "Tanh"}, "gamma": 0.9})
        >>> kwargs["policy_kwargs"]["activation_fn"].__name__, kwargs["gamma"]
        ('Tanh', 0.9)
    """
    from torch import nn

    out = {key: parse_schedule(value) for key, value in hyperparams.items()}
    policy_kwargs = dict(out.get("policy_kwargs") or {})
    activation = policy_kwargs.get("activation_fn")
    if isinstance(activation, str):
        name = activation.removeprefix("nn.")
        match = {a.lower(): a for a in ACTIVATIONS}.get(name.lower())
        if match is None:
            raise ConfigError(
                f"activation_fn {activation!r} is not one of {', '.join(ACTIVATIONS)}"
            )
        policy_kwargs["activation_fn"] = getattr(nn, match)
    if "policy_kwargs" in out:
        out["policy_kwargs"] = policy_kwargs
    return out


def split_run_keys(hyperparams: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run fields, algorithm kwargs) from one YAML section.

    Example:
        >>> split_run_keys({"n_timesteps": 1000, "gamma": 0.9})
        ({'steps': 1000}, {'gamma': 0.9})
    """
    run = {RUN_KEYS[k]: v for k, v in hyperparams.items() if k in RUN_KEYS}
    algo = {k: v for k, v in hyperparams.items() if k not in RUN_KEYS}
    if "policy_kwargs" in algo:
        algo["policy_kwargs"] = parse_policy_kwargs(algo["policy_kwargs"])
    return run, algo
