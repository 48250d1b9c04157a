"""Conditional rational-quadratic spline flow: a bijection of the box ``[-1, 1]^n`` onto itself.

Each coupling layer keeps some coordinates and moves the others through monotone
rational-quadratic splines on ``[-1, 1]`` whose knots come from an MLP on the kept
coordinates and the condition (Durkan et al., "Neural Spline Flows", arXiv:1906.04087);
outside ``[-1, 1]`` a layer is the identity. The layers permute which coordinates move
(a cyclic shift after every pair), so every coordinate is eventually conditioned on every
other.

Why this shape suits action constraints: the whole base box maps onto the whole action
box, so a flow output never leaves the box, and a feasible set inside the box is learned
by *where the base's mass goes*, not by squeezing the box. Maximum likelihood on feasible
samples then has a smooth gradient everywhere — it lowers the base volume sent to
infeasible actions — whereas an affine flow under the mollified-uniform base learns only
from samples pushed against the base's steep wall (``benchmarks/results/flows.md``
measures both). Every coordinate of the moved half gets its own flexible 1-D map, so
shapes with corners (the L1 ball of HalfCheetah's power constraint) need few layers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from acrl_policies.errors import FlowError
from acrl_policies.flows.coupling import CouplingFlow

__all__ = ["ConditionalSplineFlow", "SplineCoupling", "rational_quadratic_spline"]

MIN_BIN_WIDTH = 1e-4
MIN_BIN_HEIGHT = 1e-4
MIN_DERIVATIVE = 1e-4
_IDENTITY_DERIVATIVE = math.log(math.expm1(1.0 - MIN_DERIVATIVE))  # softplus(.) + min = 1


def _knots(raw: torch.Tensor, minimum: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Bin sizes (summing to 2) and knot positions on ``[-1, 1]`` from unnormalised logits."""
    bins = raw.shape[-1]
    sizes = minimum + (1.0 - minimum * bins) * torch.softmax(raw, dim=-1)
    inner = torch.cumsum(sizes[..., :-1], dim=-1) * 2.0 - 1.0
    knots = F.pad(F.pad(inner, (1, 0), value=-1.0), (0, 1), value=1.0)  # exact end knots
    return knots[..., 1:] - knots[..., :-1], knots


def _gather(values: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    return values.gather(-1, index[..., None])[..., 0]


def rational_quadratic_spline(
    x: torch.Tensor,
    widths: torch.Tensor,
    heights: torch.Tensor,
    derivatives: torch.Tensor,
    *,
    inverse: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Monotone rational-quadratic splines on ``[-1, 1]``, identity outside.

    Args:
        x: ``(N, D)`` inputs.
        widths: ``(N, D, K)`` unnormalised bin widths (input side of the forward map).
        heights: ``(N, D, K)`` unnormalised bin heights (output side).
        derivatives: ``(N, D, K - 1)`` unnormalised derivatives at the inner knots (the
            two end knots have derivative 1, matching the identity outside).
        inverse: apply the inverse map.

    Returns:
        ``(y, log|dy/dx|)``, both ``(N, D)``.

    Example:
        >>> x = torch.tensor([[-0.5, 0.0, 0.7, 1.5]])
        >>> zeros, ones = torch.zeros(1, 4, 8), torch.full((1, 4, 7), _IDENTITY_DERIVATIVE)
        >>> y, log_det = rational_quadratic_spline(x, zeros, zeros, ones)
        >>> bool(torch.allclose(y, x, atol=1e-6)), bool(log_det.abs().max() < 1e-5)
        (True, True)
    """
    inside = (x >= -1.0) & (x <= 1.0)
    xc = x.clamp(-1.0, 1.0)
    bin_w, knots_x = _knots(widths, MIN_BIN_WIDTH)
    bin_h, knots_y = _knots(heights, MIN_BIN_HEIGHT)
    d = MIN_DERIVATIVE + F.softplus(derivatives)
    ones = torch.ones_like(d[..., :1])
    d = torch.cat((ones, d, ones), dim=-1)
    search = knots_y if inverse else knots_x
    edges = search[..., 1:-1].contiguous()
    index = torch.searchsorted(edges, xc[..., None].contiguous())[..., 0]
    x0, w = _gather(knots_x[..., :-1], index), _gather(bin_w, index)
    y0, h = _gather(knots_y[..., :-1], index), _gather(bin_h, index)
    d0, d1 = _gather(d[..., :-1], index), _gather(d[..., 1:], index)
    delta = h / w
    if inverse:
        shifted = xc - y0
        slope_sum = d0 + d1 - 2.0 * delta
        a = h * (delta - d0) + shifted * slope_sum
        b = h * d0 - shifted * slope_sum
        c = -delta * shifted
        disc = (b * b - 4.0 * a * c).clamp_min(0.0)
        theta = (2.0 * c) / (-b - torch.sqrt(disc))
        out = theta * w + x0
    else:
        theta = (xc - x0) / w
        slope_sum = d0 + d1 - 2.0 * delta
    mix = theta * (1.0 - theta)
    denominator = delta + slope_sum * mix
    if not inverse:
        out = y0 + h * (delta * theta * theta + d0 * mix) / denominator
    numerator = delta * delta * (d1 * theta * theta + 2.0 * delta * mix + d0 * (1.0 - theta) ** 2)
    log_det = torch.log(numerator) - 2.0 * torch.log(denominator)
    if inverse:
        log_det = -log_det
    return torch.where(inside, out, x), torch.where(inside, log_det, torch.zeros_like(log_det))


class SplineCoupling(nn.Module):
    """One coupling layer: the ``moved`` coordinates go through splines set by the others.

    Args:
        dim: size of the vector (the action dimension).
        moved: indices of the coordinates this layer moves (the rest condition them).
        condition_dim: size of the condition ``y``.
        hidden: width of the two hidden layers.
        bins: spline bins per coordinate.

    Example:
        >>> layer = SplineCoupling(3, [1, 2], condition_dim=2)
        >>> with torch.no_grad():
        ...     _ = layer.net[-1].weight.normal_(0.0, 0.1)
        >>> x, y = torch.rand(4, 3) * 2 - 1, torch.randn(4, 2)
        >>> out, log_det = layer(x, y)
        >>> back, inv = layer.inverse(out, y)
        >>> bool(torch.allclose(back, x, atol=1e-5)), bool(torch.allclose(log_det, -inv, atol=1e-4))
        (True, True)
    """

    def __init__(
        self,
        dim: int,
        moved: Sequence[int],
        condition_dim: int = 0,
        *,
        hidden: int = 256,
        bins: int = 8,
    ) -> None:
        super().__init__()
        moved_set = sorted(set(int(i) for i in moved))
        kept = [i for i in range(dim) if i not in moved_set]
        self.register_buffer("moved_index", torch.tensor(moved_set, dtype=torch.long))
        self.register_buffer("kept_index", torch.tensor(kept, dtype=torch.long))
        self.register_buffer("order", torch.argsort(torch.tensor(kept + moved_set)))
        self.n_moved, self.bins = len(moved_set), bins
        inputs = len(kept) + condition_dim
        self.net = nn.Sequential(
            nn.Linear(max(inputs, 1), hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(),
            nn.Linear(hidden, self.n_moved * (3 * bins - 1)),
        )
        nn.init.zeros_(self.net[-1].weight)  # start as the identity map
        nn.init.zeros_(self.net[-1].bias)

    def _spline(
        self, x: torch.Tensor, condition: torch.Tensor | None, inverse: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        kept, moved = x[:, self.kept_index], x[:, self.moved_index]
        parts = [p for p in (kept, condition) if p is not None and p.shape[1]]
        h = torch.cat(parts, dim=1) if parts else x.new_zeros(x.shape[0], 1)
        raw = self.net(h).view(x.shape[0], self.n_moved, 3 * self.bins - 1)
        k = self.bins
        widths, heights, slopes = raw[..., :k], raw[..., k : 2 * k], raw[..., 2 * k :]
        moved, log_det = rational_quadratic_spline(
            moved, widths, heights, slopes + _IDENTITY_DERIVATIVE, inverse=inverse
        )
        return torch.cat((kept, moved), dim=1)[:, self.order], log_det.sum(dim=1)

    def forward(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x', log|det dx'/dx|)``."""
        return self._spline(x, condition, inverse=False)

    def transform(self, x: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        """The forward map without its log-determinant."""
        return self._spline(x, condition, inverse=False)[0]

    def inverse(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The inverse map and its log-determinant (minus the forward one)."""
        return self._spline(x, condition, inverse=True)


def moved_coordinates(dim: int, layer: int) -> list[int]:
    """Which coordinates layer ``layer`` moves: alternating halves, shifted every pair.

    Example:
        >>> [moved_coordinates(6, i) for i in range(4)]
        [[3, 4, 5], [0, 1, 2], [4, 5, 0], [1, 2, 3]]
        >>> moved_coordinates(1, 0)
        [0]
    """
    if dim == 1:
        return [0]
    order = [(j + layer // 2) % dim for j in range(dim)]
    split = dim // 2
    return order[split:] if layer % 2 == 0 else order[:split]


class ConditionalSplineFlow(CouplingFlow):
    """A conditional spline flow from the base box ``[-1, 1]^n`` onto the action box.

    :meth:`forward` maps base samples to actions, :meth:`inverse` actions to the base,
    both with exact log-determinants (shared with RealNVP: :class:`CouplingFlow`).
    Registered as ``"rqspline"``; the default architecture of
    :func:`~acrl_policies.flows.train_flow`.

    Args:
        dim: action dimension.
        condition_dim: number of condition entries (0 for an unconditional flow).
        n_layers: coupling layers.
        hidden: hidden width of each layer's MLP.
        bins: spline bins per coordinate.
        condition_scale: the condition is divided by this before entering the MLPs.

    Example:
        >>> flow = ConditionalSplineFlow(3, condition_dim=2, n_layers=4, hidden=16)
        >>> z, y = torch.rand(5, 3) * 2 - 1, torch.randn(5, 2)
        >>> a, log_det = flow(z, y)
        >>> z_back, inv = flow.inverse(a, y)
        >>> bool(torch.allclose(z_back, z, atol=1e-5)), bool(a.abs().max() <= 1.0)
        (True, True)
    """

    architecture = "rqspline"

    def __init__(
        self,
        dim: int,
        condition_dim: int = 0,
        *,
        n_layers: int = 6,
        hidden: int = 256,
        bins: int = 8,
        condition_scale: float | Sequence[float] = 1.0,
    ) -> None:
        if isinstance(bins, bool) or not isinstance(bins, int) or bins < 2:
            raise FlowError(f"`bins` must be an integer >= 2, got {bins!r}")
        super().__init__(
            dim,
            condition_dim,
            n_layers=n_layers,
            hidden=hidden,
            condition_scale=condition_scale,
            bins=bins,
        )
        self.layers = nn.ModuleList(
            SplineCoupling(dim, moved_coordinates(dim, i), condition_dim, hidden=hidden, bins=bins)
            for i in range(n_layers)
        )

    def extra_repr(self) -> str:
        """Sizes shown by ``print(flow)``."""
        return f"dim={self.dim}, condition_dim={self.condition_dim}, bins={self.config['bins']}"
