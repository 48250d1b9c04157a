"""C-TRPO's constrained divergence and mode switch, as pure functions (arXiv:2411.02957).

- :func:`surrogate_cost_increase` — α(θ), the predicted increase of the episode cost.
- :func:`bregman_divergence` — D̄_φ(α), the Bregman divergence of the mirror function φ
  between the predicted and the current constraint margin (+inf past the limit).
- :func:`constrained_divergence` — D̄_C = KL + β·D̄_φ(α), the trust region of safe mode.
- :func:`next_safe_mode` — the hysteresis rule between safe and recovery mode.
"""

from __future__ import annotations

import math

import torch as th

__all__ = [
    "MIRRORS",
    "bregman_divergence",
    "constrained_divergence",
    "next_safe_mode",
    "surrogate_cost_increase",
]

MIRRORS = ("entropy", "barrier")
"""Mirror functions φ: ``"entropy"`` is x·log x (the reference default), ``"barrier"`` −log x."""


def surrogate_cost_increase(
    ratio: th.Tensor, cost_advantages: th.Tensor, cost_gamma: float
) -> th.Tensor:
    """α(θ) = 1/(1−γ_c) · mean[(r_θ − 1)·Â_c], the surrogate increase of the cost return.

    The "−1" makes α exactly 0 at the behaviour policy. As in the reference code, α is a
    discounted quantity scaled by 1/(1−γ_c) while the margin it is compared with is an
    undiscounted episode cost (the authors' code mixes the two scales); this port keeps that.

    Args:
        ratio: importance ratios π_θ(a|s)/π_k(a|s) of the batch.
        cost_advantages: cost advantages of the batch (mean-centred, not scaled).
        cost_gamma: discount factor of the costs.

    Example:
        >>> ratio = th.tensor([1.1, 0.9]); adv_c = th.tensor([1.0, -1.0])
        >>> round(surrogate_cost_increase(ratio, adv_c, 0.99).item(), 4)
        10.0
    """
    return ((ratio - 1.0) * cost_advantages).mean() / (1.0 - cost_gamma)


def bregman_divergence(
    cost_increase: th.Tensor, margin: float, mirror: str = "entropy"
) -> th.Tensor:
    """D̄_φ(α) = φ(δ_b − α) − φ(δ_b) + φ′(δ_b)·α, and +inf where α ≥ δ_b.

    With φ(x) = x·log x (``"entropy"``): (δ_b − α)·ln((δ_b − α)/δ_b) + α.
    With φ(x) = −log x (``"barrier"``): −ln((δ_b − α)/δ_b) − α/δ_b.
    It is 0 with zero gradient at α = 0, and its second derivative there is φ″(δ_b)
    (1/δ_b, resp. 1/δ_b²), so at θ_k the Hessian of β·D̄_φ is β·φ″(δ_b)·g_c·g_cᵀ.
    The +inf makes the line search reject any step predicted to cross the limit.

    Args:
        cost_increase: α, a scalar tensor (differentiable).
        margin: δ_b = b − J_c > 0, the current distance to the cost limit.
        mirror: ``"entropy"`` or ``"barrier"`` (see :data:`MIRRORS`).

    Raises:
        ValueError: ``margin`` is not positive, or ``mirror`` is unknown.

    Example:
        >>> bregman_divergence(th.tensor(0.0), 5.0).item()
        0.0
        >>> bregman_divergence(th.tensor(6.0), 5.0).item()
        inf
        >>> round(bregman_divergence(th.tensor(1.0), 5.0).item(), 4)  # 4 ln(4/5) + 1
        0.1074
    """
    if not margin > 0:
        raise ValueError(f"the constraint margin must be > 0 in safe mode, got {margin!r}")
    if mirror not in MIRRORS:
        raise ValueError(f"unknown mirror {mirror!r}; choose one of {MIRRORS}")
    inside = cost_increase < margin
    # clamp so the branch not taken stays finite (torch.where would pass NaN gradients)
    new_margin = th.clamp(margin - cost_increase, min=margin * 1e-12)
    relative = new_margin / margin
    if mirror == "entropy":
        value = new_margin * th.log(relative) + cost_increase
    else:
        value = -th.log(relative) - cost_increase / margin
    return th.where(inside, value, th.full_like(value, math.inf))


def constrained_divergence(
    kl: th.Tensor,
    cost_increase: th.Tensor,
    margin: float,
    beta: float = 1.0,
    mirror: str = "entropy",
) -> th.Tensor:
    """D̄_C = KL(π_k ‖ π_θ) + β·D̄_φ(α): C-TRPO's trust region in safe mode.

    Args:
        kl: mean KL divergence between the behaviour and the new policy.
        cost_increase: α from :func:`surrogate_cost_increase`.
        margin: δ_b = b − J_c > 0.
        beta: weight β of the cost term (the reference uses 1).
        mirror: ``"entropy"`` (x·log x) or ``"barrier"`` (−log x).

    Example:
        >>> kl = th.tensor(0.004)
        >>> constrained_divergence(kl, th.tensor(0.0), margin=5.0).item() == kl.item()
        True
        >>> constrained_divergence(kl, th.tensor(5.5), margin=5.0).item()
        inf
    """
    return kl + beta * bregman_divergence(cost_increase, margin, mirror)


def next_safe_mode(
    safe_mode: bool, episode_cost: float, cost_limit: float, hysteresis: float
) -> bool:
    """C-TRPO's mode switch with hysteresis (as in the authors' ``algorithms/c-trpo.py``).

    Safe mode if (it was safe and J_c < b) or (it was in recovery and J_c < h·b);
    recovery mode otherwise. Once over the limit, the agent keeps decreasing the cost
    until J_c drops below h·b. The algorithm starts in recovery mode.

    Args:
        safe_mode: the previous mode (True: safe, False: recovery).
        episode_cost: J_c, the current mean episode cost.
        cost_limit: b.
        hysteresis: h in (0, 1].

    Example:
        >>> next_safe_mode(True, 22.0, 25.0, 0.8), next_safe_mode(False, 22.0, 25.0, 0.8)
        (True, False)
        >>> next_safe_mode(False, 19.0, 25.0, 0.8), next_safe_mode(True, 25.0, 25.0, 0.8)
        (True, False)
    """
    threshold = cost_limit if safe_mode else hysteresis * cost_limit
    return bool(episode_cost < threshold)
