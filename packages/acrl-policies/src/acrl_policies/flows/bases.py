"""Base distributions of the flows: the mollified uniform on ``[-1, 1]^n`` and the Gaussian.

- :class:`MollifiedUniform` — FlowPG's and CV-Flow's default: flat inside the box, and a
  steep Gaussian fall-off ``log N(CV_box(z) / sigma; 0, 1)`` outside it (``sigma = 1e-4``),
  where ``CV_box`` is the summed distance outside the box (FlowPG, arXiv:2402.05149).
- :class:`StandardNormal` — CV-Flow's Gaussian-base variant.

Both sample with a ``torch.Generator`` and score with :meth:`log_prob`; :meth:`support`
says whether a point counts as inside the base (the *recall* metric). Samples are drawn on
the generator's device and returned on ``device`` (so a seeded CPU generator gives the
same samples to a flow on any device).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from acrl_policies.errors import FlowError

__all__ = ["BaseDistribution", "MollifiedUniform", "StandardNormal", "make_base"]


class BaseDistribution:
    """Interface of a flow's base distribution on ``R^dim``."""

    name = ""

    def __init__(self, dim: int) -> None:
        self.dim = dim

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """``n`` samples, shape ``(n, dim)``, on ``device`` (see the module docstring).

        ``device=None`` leaves them where they are drawn: the generator's device, or
        torch's default device without a generator.
        """
        raise NotImplementedError

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """Log-density (up to a constant) of each row of ``z``, shape ``(N,)``."""
        raise NotImplementedError

    def support(self, z: torch.Tensor) -> torch.Tensor:
        """Whether each row lies in the region base samples come from (bool ``(N,)``)."""
        raise NotImplementedError

    def normalized_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """The normalised log-density of the distribution samples come from (``-inf`` off it)."""
        raise NotImplementedError


class MollifiedUniform(BaseDistribution):
    """Uniform on ``[-1, 1]^dim`` with a Gaussian fall-off of width ``sigma`` outside.

    Args:
        dim: dimension.
        sigma: width of the fall-off (FlowPG: 1e-4).

    Example:
        >>> base = MollifiedUniform(2)
        >>> base.log_prob(torch.tensor([[0.5, -0.9], [1.0001, 0.0]])).tolist()
        [0.0, -0.5]
        >>> bool(base.sample(1000).abs().max() <= 1.0)
        True
    """

    name = "uniform"

    def __init__(self, dim: int, sigma: float = 1e-4) -> None:
        super().__init__(dim)
        if not sigma > 0:
            raise FlowError(f"`sigma` of the mollified uniform must be positive, got {sigma!r}")
        self.sigma = float(sigma)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """Uniform samples in ``[-1, 1]^dim``."""
        return seeded_draw(torch.rand, (n, self.dim), generator, dtype, device) * 2.0 - 1.0

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``-0.5 * (CV_box(z) / sigma)^2``: 0 inside the box."""
        outside = torch.relu(z.abs() - 1.0).sum(dim=1)
        return -0.5 * (outside / self.sigma) ** 2

    def support(self, z: torch.Tensor) -> torch.Tensor:
        """Inside ``[-1, 1]^dim`` (with 1e-6 of slack for rounding)."""
        return (z.abs() <= 1.0 + 1e-6).all(dim=1)

    def normalized_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """``-dim * log 2`` inside the box (the uniform samples are drawn from), ``-inf`` off it."""
        inside = torch.full_like(z[:, 0], -self.dim * math.log(2.0))
        return torch.where(self.support(z), inside, torch.full_like(inside, -math.inf))


class StandardNormal(BaseDistribution):
    """``N(0, I)`` on ``R^dim``; :meth:`support` is the ball holding 99 % of its mass.

    Example:
        >>> base = StandardNormal(3)
        >>> round(base.log_prob(torch.zeros(1, 3)).item(), 4)
        -2.7568
    """

    name = "gaussian"

    def __init__(self, dim: int) -> None:
        super().__init__(dim)
        # 99 % quantile of the chi distribution with `dim` degrees of freedom (Wilson-Hilferty)
        k = float(dim)
        q = k * (1.0 - 2.0 / (9.0 * k) + 2.326348 * math.sqrt(2.0 / (9.0 * k))) ** 3
        self.radius = math.sqrt(q)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str | None = None,
    ) -> torch.Tensor:
        """Standard normal samples."""
        return seeded_draw(torch.randn, (n, self.dim), generator, dtype, device)

    def log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """The exact standard normal log-density."""
        return -0.5 * (z**2).sum(dim=1) - 0.5 * self.dim * math.log(2.0 * math.pi)

    def support(self, z: torch.Tensor) -> torch.Tensor:
        """Within the radius holding 99 % of the mass."""
        return z.norm(dim=1) <= self.radius

    def normalized_log_prob(self, z: torch.Tensor) -> torch.Tensor:
        """The exact standard normal log-density."""
        return self.log_prob(z)


def seeded_draw(
    fn: Callable[..., torch.Tensor],
    shape: tuple[int, ...],
    generator: torch.Generator | None,
    dtype: torch.dtype,
    device: torch.device | str | None,
) -> torch.Tensor:
    """``fn(shape)`` drawn on the generator's device, returned on ``device``.

    Without a generator it is drawn on ``device`` (``None``: torch's default device).
    """
    if generator is None:
        return fn(shape, dtype=dtype, device=device)
    out = fn(shape, generator=generator, dtype=dtype, device=generator.device)
    return out if device is None else out.to(device)


def make_base(name: str, dim: int, sigma: float = 1e-4) -> BaseDistribution:
    """The base distribution called ``name`` (``"uniform"`` or ``"gaussian"``).

    Example:
        >>> make_base("gaussian", 2).name
        'gaussian'
    """
    if name == "uniform":
        return MollifiedUniform(dim, sigma)
    if name == "gaussian":
        return StandardNormal(dim)
    raise FlowError(f"unknown base distribution {name!r}; use 'uniform' or 'gaussian'")
