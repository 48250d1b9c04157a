"""CVPO's M-step as pure functions (MPO's decoupled trust regions, Abdolmaleki et al. 2018).

- :func:`decoupled_gaussian_kl` — the mean and covariance parts of KL(π_old ‖ π_θ) for
  diagonal Gaussians.
- :func:`weighted_log_likelihood` — the E-step weights times the decoupled log-likelihoods
  of the sampled actions.
"""

from __future__ import annotations

import torch as th
from torch.distributions import Normal

__all__ = ["decoupled_gaussian_kl", "weighted_log_likelihood"]


def decoupled_gaussian_kl(
    mean_old: th.Tensor, std_old: th.Tensor, mean: th.Tensor, std: th.Tensor
) -> tuple[th.Tensor, th.Tensor]:
    """KL_μ = KL(N(μ_old, σ_old) ‖ N(μ, σ_old)) and KL_σ = KL(N(μ_old, σ_old) ‖ N(μ_old, σ)).

    For diagonal Gaussians (CVPO, arXiv:2201.11927; FSRL's ``gaussian_kl``):
    KL_μ = ½·Σ (μ_old − μ)² / σ_old² and KL_σ = ½·Σ (log(σ²/σ_old²) + σ_old²/σ² − 1), summed
    over the action dimensions and averaged over the batch. Variances are floored at 1e-6
    as in FSRL.

    Args:
        mean_old: ``(batch, d)`` means of the old policy.
        std_old: ``(batch, d)`` standard deviations of the old policy.
        mean: ``(batch, d)`` means of the new policy.
        std: ``(batch, d)`` standard deviations of the new policy.

    Returns:
        The scalar tensors (KL_μ, KL_σ).

    Example:
        >>> m, s = th.zeros(2, 3), th.ones(2, 3)
        >>> [kl.item() for kl in decoupled_gaussian_kl(m, s, m + 1.0, s)]
        [1.5, 0.0]
    """
    var_old = std_old.pow(2).clamp_min(1e-6)
    var = std.pow(2).clamp_min(1e-6)
    kl_mean = 0.5 * (mean_old - mean).pow(2) / var_old
    kl_std = 0.5 * (th.log(var / var_old) + var_old / var - 1.0)
    return kl_mean.sum(dim=-1).mean(), kl_std.sum(dim=-1).mean()


def weighted_log_likelihood(
    weights: th.Tensor,
    samples: th.Tensor,
    mean_old: th.Tensor,
    std_old: th.Tensor,
    mean: th.Tensor,
    std: th.Tensor,
) -> th.Tensor:
    """mean_{k,s} q_k(s)·[log N(a_k; μ_θ, σ_old) + log N(a_k; μ_old, σ_θ)].

    The M-step's weighted maximum likelihood with MPO's decoupled parametrisation: the
    mean is fitted with the old standard deviation and the standard deviation with the
    old mean, so each is held by its own trust region. The average over the ``(K,
    batch)`` grid follows FSRL (a sum over K would scale the objective by K against the
    KL terms).

    Args:
        weights: ``(K, batch)`` E-step weights (:func:`~acrl_policies.cvpo.variational_weights`).
        samples: ``(K, batch, d)`` the actions sampled from π_old (pre-squash).
        mean_old: ``(batch, d)`` old means.
        std_old: ``(batch, d)`` old standard deviations.
        mean: ``(batch, d)`` new means (with gradient).
        std: ``(batch, d)`` new standard deviations (with gradient).

    Example:
        >>> m, s = th.zeros(2, 1), th.ones(2, 1)
        >>> x = th.zeros(3, 2, 1)
        >>> value = weighted_log_likelihood(th.full((3, 2), 1 / 3), x, m, s, m, s)
        >>> round(value.item() * 3, 4)  # twice log N(0; 0, 1), times 1/3 per sample
        -1.8379
    """
    log_p_mean = Normal(mean, std_old).log_prob(samples).sum(dim=-1)
    log_p_std = Normal(mean_old, std).log_prob(samples).sum(dim=-1)
    return (weights * (log_p_mean + log_p_std)).mean()
