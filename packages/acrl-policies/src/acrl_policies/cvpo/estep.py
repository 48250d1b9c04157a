"""CVPO's E-step as pure functions (Liu et al. 2022, Sec. 4.1; FSRL ``fsrl/policy/cvpo.py``).

- :func:`cost_threshold` — the per-state Q_c bound ξ from an episodic cost limit.
- :func:`estep_dual` — the convex dual L(η, λ) of the constrained variational E-step.
- :func:`variational_weights` — the non-parametric q(a|s) over K sampled actions.
"""

from __future__ import annotations

import math

import torch as th

__all__ = ["cost_threshold", "estep_dual", "variational_weights"]


def cost_threshold(cost_limit: float, gamma: float, max_episode_steps: int) -> float:
    """ξ = c·(1 − γ^T) / ((1 − γ)·T): the bound on Q_c per state for an episode limit c.

    An episode of T steps paying c/T per step costs c in total, and its discounted cost
    from the start is (c/T)·(1 − γ^T)/(1 − γ); CVPO bounds E_q[Q_c] by that value
    (Liu et al., arXiv:2201.11927). With γ = 1 it is c.

    Args:
        cost_limit: the limit c on the undiscounted episode cost.
        gamma: discount factor of the cost critic.
        max_episode_steps: T, the episode length (the env's time limit).

    Example:
        >>> round(cost_threshold(25, 0.98, 1000), 2)
        1.25
        >>> round(cost_threshold(25, 0.995, 1000), 2)
        4.97
    """
    if gamma >= 1.0:
        return float(cost_limit)
    horizon = int(max_episode_steps)
    return float(cost_limit) * (1.0 - gamma**horizon) / ((1.0 - gamma) * horizon)


def estep_dual(
    eta: th.Tensor,
    lam: th.Tensor,
    q_rewards: th.Tensor,
    q_costs: th.Tensor,
    kl_bound: float,
    threshold: float,
) -> th.Tensor:
    """The E-step dual L(η, λ) = η·ε + λ·ξ + η·E_s[log (1/K)·Σ_K exp((Q_r − λ·Q_c)/η)].

    Convex in (η > 0, λ ≥ 0); its minimiser gives the temperature η and the multiplier
    λ of the variational distribution :func:`variational_weights` that maximises
    E_q[Q_r] subject to KL(q ‖ π_old) ≤ ε and E_q[Q_c] ≤ ξ (Liu et al.,
    arXiv:2201.11927). The log-mean-exp is computed with ``logsumexp`` for stability.

    Args:
        eta: the temperature η (scalar tensor, > 0).
        lam: the cost multiplier λ (scalar tensor, ≥ 0).
        q_rewards: ``(K, batch)`` Q_r of K actions sampled per state from π_old.
        q_costs: ``(K, batch)`` Q_c of the same actions.
        kl_bound: ε, the E-step KL bound.
        threshold: ξ, the per-state Q_c bound (:func:`cost_threshold`).

    Example:
        >>> q = th.zeros(4, 3)  # all actions equal: the log-mean-exp term vanishes
        >>> estep_dual(th.tensor(2.0), th.tensor(0.5), q, q, 0.1, 1.0).item()
        0.7
    """
    n_samples = q_rewards.shape[0]
    combined = (q_rewards - lam * q_costs) / eta
    log_mean_exp = th.logsumexp(combined, dim=0) - math.log(n_samples)
    return eta * kl_bound + lam * threshold + eta * log_mean_exp.mean()


def variational_weights(
    q_rewards: th.Tensor, q_costs: th.Tensor, eta: float, lam: float
) -> th.Tensor:
    """q(a_k|s) ∝ exp((Q_r − λ·Q_c)/η) over the K samples of each state (a softmax).

    The samples come from π_old, so these weights times π_old are the non-parametric
    variational distribution q(a|s) ∝ π_old(a|s)·exp((Q_r − λ·Q_c)/η) of the E-step.

    Args:
        q_rewards: ``(K, batch)`` Q_r of the sampled actions.
        q_costs: ``(K, batch)`` Q_c of the same actions.
        eta: the temperature η (> 0).
        lam: the cost multiplier λ (≥ 0).

    Returns:
        ``(K, batch)`` weights, each column summing to 1.

    Example:
        >>> q_r, q_c = th.tensor([[1.0], [1.0]]), th.tensor([[0.0], [1.0]])
        >>> variational_weights(q_r, q_c, eta=1.0, lam=0.0)[:, 0].tolist()
        [0.5, 0.5]
        >>> variational_weights(q_r, q_c, eta=1.0, lam=5.0)[0, 0].item() > 0.99
        True
    """
    return th.softmax((q_rewards - lam * q_costs) / eta, dim=0)
