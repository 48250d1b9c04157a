"""Conditional RealNVP: affine coupling layers with alternating halves and exact log-determinants.

The flow maps a base sample ``z`` to an action ``a = f(z, y)`` given a condition ``y`` (the
observation entries the constraint reads), and back with :meth:`ConditionalRealNVP.inverse`.
Each coupling layer keeps one half of the vector and moves the other half by
``x_b * exp(s) + t``, where ``(s, t)`` come from one MLP on ``(kept half, y)`` and the
log-scale is bounded, ``s = scale_factor * tanh(.)``; layers alternate which half moves,
as FlowPG's binary masks do (FlowPG, arXiv:2402.05149).

Two deliberate differences from the published code, neither changing the model class:

- FlowPG's ``g`` overwrites instead of accumulating its log-determinant; here both
  directions return the exact log-determinant, which CV-Flow's reverse KL needs.
- The s-net and t-net of a layer share their hidden layers (one MLP with ``2k`` outputs):
  half the matrix products, which keeps a batch-1 forward pass within ~100 µs on a CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from acrl_policies.errors import FlowError
from acrl_policies.flows.coupling import CouplingFlow

__all__ = ["AffineCoupling", "ConditionalRealNVP"]


class AffineCoupling(nn.Module):
    """One affine coupling layer: keep one half, scale and shift the other.

    Args:
        dim: size of the vector the flow transforms (the action dimension).
        condition_dim: size of the condition ``y`` (0 for an unconditional flow).
        moves_second_half: move ``x[:, dim // 2:]`` (else ``x[:, :dim // 2]``).
        hidden: width of the two hidden layers.
        scale_factor: bound of the log-scale, ``|s| <= scale_factor``.

    Example:
        >>> layer = AffineCoupling(3, condition_dim=2, moves_second_half=True)
        >>> x, y = torch.randn(4, 3), torch.randn(4, 2)
        >>> out, log_det = layer(x, y)
        >>> back, inv_log_det = layer.inverse(out, y)
        >>> bool(torch.allclose(back, x, atol=1e-6)), bool(torch.allclose(log_det, -inv_log_det))
        (True, True)
    """

    def __init__(
        self,
        dim: int,
        condition_dim: int = 0,
        *,
        moves_second_half: bool,
        hidden: int = 256,
        scale_factor: float = 1.0,
    ) -> None:
        super().__init__()
        self.split = dim // 2
        self.moves_second_half = moves_second_half
        kept = self.split if moves_second_half else dim - self.split
        self.moved = dim - kept
        self.scale_factor = float(scale_factor)
        self.net = nn.Sequential(
            nn.Linear(kept + condition_dim, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, 2 * self.moved),
        )
        first, second, last = (m for m in self.net if isinstance(m, nn.Linear))
        nn.init.zeros_(last.weight)  # start as the identity map
        nn.init.zeros_(last.bias)
        # a plain tuple (not registered twice): calling F.linear on these directly skips
        # nn.Module's call machinery, about a third of a batch-1 forward pass
        self._linears = (first, second, last)

    def _halves(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(kept, moved)`` halves of ``x``."""
        first, second = x[:, : self.split], x[:, self.split :]
        return (first, second) if self.moves_second_half else (second, first)

    def _join(self, kept: torch.Tensor, moved: torch.Tensor) -> torch.Tensor:
        return torch.cat((kept, moved) if self.moves_second_half else (moved, kept), dim=1)

    def _scale_shift(
        self, kept: torch.Tensor, condition: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        h = kept if condition is None else torch.cat((kept, condition), dim=1)
        first, second, last = self._linears
        h = F.leaky_relu(F.linear(h, first.weight, first.bias))
        h = F.leaky_relu(F.linear(h, second.weight, second.bias))
        out = F.linear(h, last.weight, last.bias)
        return self.scale_factor * torch.tanh(out[:, : self.moved]), out[:, self.moved :]

    def forward(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x', log|det dx'/dx|)`` with ``x'_moved = x_moved * exp(s) + t``."""
        kept, moved = self._halves(x)
        s, t = self._scale_shift(kept, condition)
        return self._join(kept, moved * torch.exp(s) + t), s.sum(dim=1)

    def transform(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """The forward map without its log-determinant (faster when it is not needed)."""
        kept, moved = self._halves(x)
        s, t = self._scale_shift(kept, condition)
        return self._join(kept, moved * torch.exp(s) + t)

    def inverse(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The inverse map and its log-determinant (minus the forward one)."""
        kept, moved = self._halves(x)
        s, t = self._scale_shift(kept, condition)
        return self._join(kept, (moved - t) * torch.exp(-s)), -s.sum(dim=1)


class ConditionalRealNVP(CouplingFlow):
    """A conditional RealNVP flow from a base space to the action space.

    :meth:`forward` maps base samples ``z`` to actions (FlowPG's ``g``, the direction a
    policy uses); :meth:`inverse` maps actions to the base (FlowPG's ``f``, used for
    maximum likelihood). Both return the exact log-determinant of their Jacobian. Works
    in float32 or float64 (``flow.double()``).

    Args:
        dim: action dimension (at least 1).
        condition_dim: number of condition entries (0 for an unconditional flow).
        n_layers: coupling layers (FlowPG and CV-Flow use 6).
        hidden: hidden width of each layer's MLP (256 in both papers).
        scale_factor: bound of each layer's log-scale (CV-Flow's ``s_scaling_factor``, 1).
        condition_scale: the condition is divided by this before entering the MLPs
            (a scalar or one value per entry), so conditions of size ~10 do not saturate
            them; stored with the flow.

    Raises:
        FlowError: on a non-positive size or scale.

    Example:
        >>> flow = ConditionalRealNVP(2, n_layers=4, hidden=32)
        >>> z = torch.rand(5, 2) * 2 - 1
        >>> a, log_det = flow(z)
        >>> z_back, inv_log_det = flow.inverse(a)
        >>> bool(torch.allclose(z_back, z, atol=1e-5)), tuple(log_det.shape)
        (True, (5,))
    """

    architecture = "realnvp"
    """The name this class is registered under (``register_policies``)."""

    def __init__(
        self,
        dim: int,
        condition_dim: int = 0,
        *,
        n_layers: int = 6,
        hidden: int = 256,
        scale_factor: float = 1.0,
        condition_scale: float | Sequence[float] = 1.0,
    ) -> None:
        if not scale_factor > 0:
            raise FlowError(f"`scale_factor` must be positive, got {scale_factor!r}")
        if dim == 1 and condition_dim == 0:
            raise FlowError(
                "a 1-D unconditional flow has no half to condition on; "
                "use dim >= 2 or give a condition"
            )
        super().__init__(
            dim,
            condition_dim,
            n_layers=n_layers,
            hidden=hidden,
            condition_scale=condition_scale,
            scale_factor=float(scale_factor),
        )
        self.layers = nn.ModuleList(
            AffineCoupling(
                dim,
                condition_dim,
                moves_second_half=(i % 2 == 0) or dim == 1,
                hidden=hidden,
                scale_factor=scale_factor,
            )
            for i in range(n_layers)
        )
