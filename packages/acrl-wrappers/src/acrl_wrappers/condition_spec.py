"""A task's condition distribution: where the state entries a constraint reads lie.

A state-dependent constraint reads a few observation entries (HalfCheetah's power
constraint: the joint velocities ``obs[11:17]``). A method that learns something for the
constraint ahead of RL — a normalizing flow (FlowPG, arXiv:2402.05149; CV-Flow,
arXiv:2502.10431) — needs to know which values those entries take on the task. A task
declares it when it is registered::

    register("ACRL/HalfCheetahO20-v0", ..., condition_distribution="uniform:-20,20")

and ``gym.make`` attaches it to the env as ``task_condition_distribution``
(:func:`find_condition_distribution`). Specs are text: ``"uniform:LOW,HIGH"`` or
``"normal:STD"`` (every entry alike), or a mapping with one value per entry
(``{"kind": "uniform", "low": [...], "high": [...]}``). This module only checks and
normalises them; torch-free.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from acrl_wrappers._env_attrs import env_attr
from acrl_wrappers.errors import SpecError

__all__ = ["condition_spec", "find_condition_distribution"]

_FORMS = "'uniform:LOW,HIGH' (e.g. 'uniform:-20,20') or 'normal:STD' (e.g. 'normal:15')"


def _values(name: str, value: Any) -> float | tuple[float, ...]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(float(v) for v in value)
        if not items:
            raise SpecError(f"condition distribution `{name}` is an empty list")
    else:
        items = (float(value),)
    if not all(math.isfinite(v) for v in items):
        raise SpecError(f"condition distribution `{name}` must be finite, got {value!r}")
    return items if len(items) > 1 or isinstance(value, Sequence) else items[0]


def _parse_text(text: str) -> dict[str, Any]:
    kind, _, args = text.partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
    except ValueError:
        values = []
    if kind == "uniform" and len(values) == 2:
        return {"kind": "uniform", "low": values[0], "high": values[1]}
    if kind == "normal" and len(values) == 1:
        return {"kind": "normal", "std": values[0]}
    raise SpecError(f"cannot read the condition distribution {text!r}; write {_FORMS}")


def condition_spec(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """A condition distribution spec, checked and normalised to a JSON-able dict.

    Raises:
        SpecError: not one of the accepted forms, non-finite values, ``low >= high`` or
            ``std <= 0`` (for any entry), or per-entry lists of different lengths.

    Example:
        >>> condition_spec("uniform:-20,20")
        {'kind': 'uniform', 'low': -20.0, 'high': 20.0}
        >>> condition_spec({"kind": "uniform", "low": [-1, -2], "high": [1, 2]})["high"]
        (1.0, 2.0)
        >>> condition_spec("normal:0")
        Traceback (most recent call last):
        acrl_wrappers.errors.SpecError: normal condition distribution needs std > 0, got 0.0
    """
    if isinstance(value, str):
        spec = _parse_text(value)
    elif isinstance(value, Mapping):
        spec = dict(value)
    else:
        raise SpecError(f"a condition distribution is {_FORMS} or a mapping, got {value!r}")
    kind = spec.get("kind")
    keys = {"uniform": ("low", "high"), "normal": ("std",)}.get(kind)  # type: ignore[arg-type]
    if keys is None or set(spec) != {"kind", *keys}:
        raise SpecError(
            f"a condition distribution mapping is {{'kind': 'uniform', 'low', 'high'}} or "
            f"{{'kind': 'normal', 'std'}}, got {dict(spec)!r}"
        )
    out: dict[str, Any] = {"kind": kind, **{k: _values(k, spec[k]) for k in keys}}
    lengths = {len(v) for v in out.values() if isinstance(v, tuple)}
    if len(lengths) > 1:
        raise SpecError(f"per-entry lists of a condition distribution differ in length: {out}")
    _check_order(out)
    return out


def _as_tuple(value: float | tuple[float, ...]) -> tuple[float, ...]:
    return value if isinstance(value, tuple) else (value,)


def _check_order(spec: dict[str, Any]) -> None:
    if spec["kind"] == "normal":
        if not all(s > 0 for s in _as_tuple(spec["std"])):
            raise SpecError(f"normal condition distribution needs std > 0, got {spec['std']}")
        return
    n = max(len(_as_tuple(spec["low"])), len(_as_tuple(spec["high"])))
    lows, highs = (_as_tuple(spec[k]) * (n // len(_as_tuple(spec[k]))) for k in ("low", "high"))
    if not all(lo < hi for lo, hi in zip(lows, highs, strict=True)):
        raise SpecError(
            f"uniform condition distribution needs low < high, got [{spec['low']}, {spec['high']}]"
        )


def find_condition_distribution(env: Any) -> dict[str, Any] | None:
    """The condition distribution a registered task declares, or ``None``.

    Example:
        >>> import gymnasium as gym
        >>> find_condition_distribution(gym.make("Pendulum-v1")) is None
        True
    """
    found = env_attr(env, "task_condition_distribution")
    return None if found is None else condition_spec(found)
