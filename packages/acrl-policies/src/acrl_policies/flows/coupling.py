"""What every coupling flow shares: settings checks, condition scaling, both directions.

A :class:`CouplingFlow` is a stack of coupling layers (``self.layers``), each with
``layer(x, y) -> (x', log_det)``, ``layer.transform(x, y)`` and ``layer.inverse(x, y)``.
Subclasses build the layers: :class:`~acrl_policies.flows.ConditionalRealNVP` (affine)
and :class:`~acrl_policies.flows.ConditionalSplineFlow` (rational-quadratic splines).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from acrl_policies.errors import FlowError, FlowNumericalError

__all__ = ["CouplingFlow"]


def _check_size(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise FlowError(f"`{name}` must be {kind}, got {value!r}")


class CouplingFlow(nn.Module):
    """A conditional flow made of coupling layers (see the module docstring).

    Args:
        dim: action dimension (at least 1).
        condition_dim: number of condition entries (0 for an unconditional flow).
        n_layers: coupling layers.
        hidden: hidden width of each layer's MLP.
        condition_scale: the condition is divided by this before entering the MLPs
            (a scalar or one value per entry), so conditions of size ~10 do not saturate
            them; stored with the flow.
        **settings: the subclass's own settings, recorded in :attr:`config`.

    Raises:
        FlowError: on a non-positive size or scale.
    """

    architecture = ""
    """The name the subclass is registered under (``register_policies``)."""

    def __init__(
        self,
        dim: int,
        condition_dim: int = 0,
        *,
        n_layers: int = 6,
        hidden: int = 256,
        condition_scale: float | Sequence[float] = 1.0,
        **settings: Any,
    ) -> None:
        super().__init__()
        for name, value in (("dim", dim), ("n_layers", n_layers), ("hidden", hidden)):
            _check_size(name, value, 1)
        _check_size("condition_dim", condition_dim, 0)
        scale = torch.as_tensor(condition_scale, dtype=torch.float32).reshape(-1)
        if scale.numel() not in (1, max(condition_dim, 1)) or not bool((scale > 0).all()):
            raise FlowError(
                f"`condition_scale` must be positive, a scalar or {condition_dim} values, "
                f"got {condition_scale!r}"
            )
        self.dim = dim
        self.condition_dim = condition_dim
        self.config: dict[str, Any] = {
            "dim": dim,
            "condition_dim": condition_dim,
            "n_layers": n_layers,
            "hidden": hidden,
            **settings,
            "condition_scale": scale.tolist() if scale.numel() > 1 else float(scale),
        }
        self.register_buffer("condition_scale", scale.expand(max(condition_dim, 1)).clone())
        self.layers = nn.ModuleList()

    def _scaled(self, condition: torch.Tensor | None, batch: int) -> torch.Tensor | None:
        if self.condition_dim == 0:
            return None
        if condition is None:
            raise FlowError(
                f"this flow is conditional on {self.condition_dim} observation entries; "
                "pass the condition"
            )
        if condition.ndim == 1:
            condition = condition.expand(batch, -1)
        if condition.shape[-1] != self.condition_dim:
            raise FlowError(
                f"condition has {condition.shape[-1]} entries, the flow expects "
                f"{self.condition_dim}"
            )
        return condition / self.condition_scale

    def forward(
        self, z: torch.Tensor, condition: torch.Tensor | None = None, *, check: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Base samples ``(N, dim)`` → actions ``(N, dim)`` and ``log|det da/dz|`` ``(N,)``.

        Args:
            z: base samples.
            condition: ``(N, condition_dim)`` or one ``(condition_dim,)`` row for all.
            check: raise :class:`~acrl_policies.errors.FlowNumericalError` naming the
                first layer that produced NaN or inf.
        """
        y = self._scaled(condition, z.shape[0])
        x, log_det = z, z.new_zeros(z.shape[0])
        for layer in self.layers:
            x, step = layer(x, y)
            log_det = log_det + step
        if check:
            self._check_finite(x, z, y, inverse=False)
        return x, log_det

    def actions(
        self, z: torch.Tensor, condition: torch.Tensor | None = None, *, check: bool = True
    ) -> torch.Tensor:
        """:meth:`forward` without the log-determinant: what a policy needs, a little faster.

        Example:
            >>> from acrl_policies.flows import ConditionalRealNVP
            >>> flow = ConditionalRealNVP(2, n_layers=2, hidden=8)
            >>> z = torch.rand(3, 2)
            >>> bool(torch.equal(flow.actions(z), flow(z)[0]))
            True
        """
        y = self._scaled(condition, z.shape[0])
        x = z
        for layer in self.layers:
            x = layer.transform(x, y)
        if check:
            self._check_finite(x, z, y, inverse=False)
        return x

    def inverse(
        self, a: torch.Tensor, condition: torch.Tensor | None = None, *, check: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Actions ``(N, dim)`` → base samples and ``log|det dz/da|`` ``(N,)``."""
        y = self._scaled(condition, a.shape[0])
        x, log_det = a, a.new_zeros(a.shape[0])
        for layer in reversed(self.layers):
            x, step = layer.inverse(x, y)
            log_det = log_det + step
        if check:
            self._check_finite(x, a, y, inverse=True)
        return x, log_det

    def _check_finite(
        self, out: torch.Tensor, start: torch.Tensor, y: torch.Tensor | None, *, inverse: bool
    ) -> None:
        if bool(torch.isfinite(out).all()):
            return
        if not bool(torch.isfinite(start).all()):
            raise FlowNumericalError("the flow's input contains NaN or inf")
        if y is not None and not bool(torch.isfinite(y).all()):
            raise FlowNumericalError("the flow's condition contains NaN or inf")
        order = list(reversed(self.layers)) if inverse else list(self.layers)
        x = start
        with torch.no_grad():
            for position, layer in enumerate(order):
                x, _ = layer.inverse(x, y) if inverse else layer(x, y)
                if not bool(torch.isfinite(x).all()):
                    index = len(order) - 1 - position if inverse else position
                    direction = "inverse" if inverse else "forward"
                    raise FlowNumericalError(
                        f"coupling layer {index} of {len(order)} produced NaN or inf in the "
                        f"{direction} pass (largest |input| {start.abs().max().item():.3g}); "
                        "the flow's weights may have diverged: retrain with a smaller "
                        "learning rate or gradient clip"
                    )
        raise FlowNumericalError("the flow produced NaN or inf")
