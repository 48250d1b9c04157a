"""Flow checkpoints: the weights plus what they were trained for.

A checkpoint records the constraint's spec, the condition indices, the base distribution,
the architecture and its settings, and the training metrics, so a flow refuses to be used
with a different constraint (or action size, or condition) instead of silently producing
infeasible actions. Files are written with ``torch.save`` and read with
``torch.load(weights_only=True)``: plain tensors and JSON-like values, no pickled code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from acrl_policies.errors import FlowCheckpointError
from acrl_policies.flows.bases import BaseDistribution, make_base
from acrl_policies.flows.conditions import ConditionDistribution, Conditioning
from acrl_policies.flows.registry import make_flow
from acrl_wrappers import Constraint, make_constraint

__all__ = ["FLOW_FORMAT", "FlowCheckpoint"]

FLOW_FORMAT = "acrl-flow/1"
"""Identifier written into every checkpoint; other formats are refused."""


@dataclass
class FlowCheckpoint:
    """A trained flow and the constraint, condition and base it belongs to.

    Attributes:
        flow: the flow module (``forward``: base → action, ``inverse``: action → base).
        constraint: the constraint it was trained for.
        condition_indices: observation entries it is conditioned on.
        condition: the distribution conditions were drawn from in training.
        base: the base distribution's name (``"uniform"`` or ``"gaussian"``).
        base_sigma: fall-off width of the mollified uniform base.
        method: ``"flowpg"`` or ``"cvflow"`` (the training objective).
        architecture: registered name of the flow class.
        metrics: one dict per training epoch (accuracy, recall, F1, loss, seconds).

    Example:
        >>> import acrl_wrappers as acrl, tempfile, os
        >>> from acrl_policies.flows import ConditionalRealNVP
        >>> c = acrl.make_constraint("reacher-l2")
        >>> ckpt = FlowCheckpoint(ConditionalRealNVP(2, n_layers=2, hidden=8), c, [])
        >>> path = os.path.join(tempfile.mkdtemp(), "reacher.flow")
        >>> ckpt.save(path)
        >>> FlowCheckpoint.load(path, constraint="reacher-l2").constraint == c
        True
        >>> FlowCheckpoint.load(path, constraint="halfcheetah-o20")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        acrl_policies.errors.FlowCheckpointError: the flow acts in 2 dimensions but the ...
    """

    flow: nn.Module
    constraint: Constraint
    condition_indices: Sequence[int]
    condition: ConditionDistribution = field(default_factory=ConditionDistribution)
    base: str = "uniform"
    base_sigma: float = 1e-4
    method: str = "flowpg"
    architecture: str = "realnvp"
    metrics: list[dict[str, float]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.condition_indices = [int(i) for i in self.condition_indices]
        self.conditioning = Conditioning(self.constraint, self.condition_indices)

    # ------------------------------------------------------------------ use
    @property
    def base_distribution(self) -> BaseDistribution:
        """The base distribution object."""
        return make_base(self.base, self.constraint.dim, self.base_sigma)

    @property
    def dtype(self) -> torch.dtype:
        """The flow's floating-point type."""
        return next(self.flow.parameters()).dtype

    def actions(self, z: np.ndarray, obs: np.ndarray | None = None) -> np.ndarray:
        """Map base samples ``(N, dim)`` to actions, conditioned on observations ``(N, k)``.

        Example:
            >>> import acrl_wrappers as acrl
            >>> from acrl_policies.flows import ConditionalRealNVP
            >>> c = acrl.make_constraint("hopper-m10")
            >>> ckpt = FlowCheckpoint(ConditionalRealNVP(3, 3, n_layers=2, hidden=8), c, [8, 9, 10])
            >>> ckpt.actions(np.zeros((2, 3)), np.ones((2, 11))).shape
            (2, 3)
        """
        device = next(self.flow.parameters()).device
        z_t = torch.as_tensor(np.asarray(z), dtype=self.dtype, device=device)
        y = None
        if self.conditioning.dim:
            if obs is None:
                raise FlowCheckpointError("this flow is conditional: pass the observations")
            o = np.asarray(obs, dtype=np.float64).reshape(z_t.shape[0], -1)
            self.conditioning.check_observation_size(o.shape[1])
            y = torch.as_tensor(self.conditioning.select(o), dtype=self.dtype, device=device)
        with torch.no_grad():
            a, _ = self.flow(z_t, y)
        return a.cpu().double().numpy()

    def config(self) -> dict[str, Any]:
        """Everything except the weights, as JSON-able data (rebuild with :meth:`from_config`)."""
        return {
            "format": FLOW_FORMAT,
            "architecture": self.architecture,
            "flow": dict(getattr(self.flow, "config", {})),
            "dtype": str(self.dtype).removeprefix("torch."),
            "constraint": self.constraint.spec,
            "condition_indices": list(self.condition_indices),
            "condition": self.condition.to_dict(),
            "base": self.base,
            "base_sigma": self.base_sigma,
            "method": self.method,
            "metrics": [dict(m) for m in self.metrics],
        }

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], state_dict: Mapping[str, Any] | None = None
    ) -> FlowCheckpoint:
        """Rebuild from :meth:`config` (and load ``state_dict`` when given).

        Raises:
            FlowCheckpointError: the config is not a flow checkpoint of this format.
        """
        if not isinstance(config, Mapping) or config.get("format") != FLOW_FORMAT:
            found = config.get("format") if isinstance(config, Mapping) else type(config).__name__
            raise FlowCheckpointError(
                f"not an acrl flow checkpoint (format {found!r}, expected {FLOW_FORMAT!r}); "
                "train one with `acrl flow train` or acrl_policies.flows.train_flow"
            )
        try:
            flow = make_flow(config["architecture"], **config["flow"])
            flow.to(getattr(torch, config["dtype"]))
            if state_dict is not None:
                flow.load_state_dict(state_dict)
            return cls(
                flow=flow,
                constraint=make_constraint(config["constraint"]),
                condition_indices=config["condition_indices"],
                condition=ConditionDistribution.from_dict(config["condition"]),
                base=config["base"],
                base_sigma=float(config["base_sigma"]),
                method=config["method"],
                architecture=config["architecture"],
                metrics=list(config.get("metrics", [])),
            )
        except (KeyError, TypeError, RuntimeError) as exc:
            raise FlowCheckpointError(
                f"the flow checkpoint is incomplete or corrupt: {exc}"
            ) from exc

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the checkpoint atomically (a crash never leaves half a file)."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        torch.save({"config": self.config(), "state_dict": self.flow.state_dict()}, tmp)
        os.replace(tmp, target)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        constraint: Constraint | Mapping[str, Any] | str | None = None,
        obs_size: int | None = None,
    ) -> FlowCheckpoint:
        """Read a checkpoint and check it fits the constraint and observations it will serve.

        Args:
            path: the file.
            constraint: the constraint it must have been trained for (name, spec or object).
            obs_size: the env's observation size (the condition indices must fit in it).

        Raises:
            FlowCheckpointError: missing, unreadable or corrupt file; another constraint,
                action dimension or condition.
        """
        file = Path(path)
        if not file.is_file():
            raise FlowCheckpointError(f"no flow checkpoint at {str(file)!r}")
        try:
            data = torch.load(file, weights_only=True, map_location="cpu")
        except Exception as exc:
            raise FlowCheckpointError(
                f"cannot read the flow checkpoint {str(file)!r}: {exc}"
            ) from exc
        if not isinstance(data, dict) or "config" not in data or "state_dict" not in data:
            raise FlowCheckpointError(f"{str(file)!r} is not an acrl flow checkpoint")
        ckpt = cls.from_config(data["config"], data["state_dict"])
        if constraint is not None:
            ckpt.check_compatible(constraint, obs_size=obs_size)
        elif obs_size is not None:
            ckpt.conditioning.check_observation_size(obs_size)
        return ckpt

    def check_compatible(
        self, constraint: Constraint | Mapping[str, Any] | str, *, obs_size: int | None = None
    ) -> None:
        """Raise :class:`FlowCheckpointError` unless this flow serves ``constraint``.

        Raises:
            FlowCheckpointError: another constraint or action dimension, or condition
                indices beyond ``obs_size``.
        """
        wanted = make_constraint(constraint)
        if wanted.dim != self.constraint.dim:
            raise FlowCheckpointError(
                f"the flow acts in {self.constraint.dim} dimensions but the constraint has "
                f"{wanted.dim}; train a flow for this constraint"
            )
        if wanted != self.constraint:
            raise FlowCheckpointError(
                "the flow was trained for constraint "
                f"{json.dumps(self.constraint.spec)}, not {json.dumps(wanted.spec)}; "
                "train a flow for this constraint (acrl flow train --constraint ...)"
            )
        if obs_size is not None:
            try:
                self.conditioning.check_observation_size(obs_size)
            except Exception as exc:
                raise FlowCheckpointError(str(exc)) from exc

    def metrics_table(self) -> str:
        """The per-epoch metrics as a markdown table."""
        if not self.metrics:
            return "(no metrics recorded)"
        keys = list(self.metrics[0])
        lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
        for row in self.metrics:
            lines.append("| " + " | ".join(_fmt(row.get(k)) for k in keys) + " |")
        return "\n".join(lines)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1e4 else f"{value:.3g}"
    return str(value)
