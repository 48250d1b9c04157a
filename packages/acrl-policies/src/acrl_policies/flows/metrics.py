"""How good a flow is for a constraint: accuracy, recall, coverage.

- ``accuracy`` — fraction of flow outputs (base samples pushed through the flow) that are
  feasible (violation ≤ the constraint's ``tol``); ``accuracy_margin`` — within
  ``margin`` (FlowPG's evaluation counts violations up to 0.1 as valid);
- ``recall`` — the papers' measure: fraction of held-out feasible samples that the
  inverse flow maps into the base's support (FlowPG, arXiv:2402.05149; CV-Flow,
  arXiv:2502.10431);
- ``coverage`` — fraction of the feasible set, each condition weighted alike, where the
  flow's density is at least ``coverage_threshold`` (10 %) of the uniform density on that
  condition's feasible set. ``recall`` cannot see a flow that reaches a region only
  through a sliver of the base (a flow mapping the base box onto the whole action box has
  recall 1 by construction); ``coverage`` can;
- ``f1`` — harmonic mean of ``accuracy`` and ``recall``.

The conditions come from the flow's condition distribution, or from given condition rows
(``conditions=``, e.g. the states a task visits): then accuracy is measured on those rows
and recall and coverage on feasible actions drawn at those rows.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from acrl_policies.flows.checkpoint import FlowCheckpoint
from acrl_wrappers import Constraint

__all__ = ["balanced_feasible_samples", "evaluate_flow"]


def _as_tensor(y: np.ndarray, ckpt: FlowCheckpoint, device: torch.device) -> torch.Tensor | None:
    return torch.as_tensor(y, dtype=ckpt.dtype, device=device) if ckpt.conditioning.dim else None


def balanced_feasible_samples(
    constraint: Constraint,
    conditions: np.ndarray,
    observations: np.ndarray | None,
    per_condition: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uniform feasible actions at each condition row, and each row's feasible volume.

    Args:
        constraint: the constraint.
        conditions: ``(m, c)`` condition rows.
        observations: ``(m, k)`` observations holding them (``None``: state-independent).
        per_condition: uniform box draws per row.
        rng: the generator.

    Returns:
        ``(actions (N, n), row (N,), log_volume (m,))``: the feasible draws, the row each
        belongs to, and ``log`` of each row's feasible volume (box volume times the
        feasible share; ``-inf`` where no draw was feasible).

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("reacher-l2")
        >>> a, row, log_vol = balanced_feasible_samples(c, np.zeros((1, 0)), None, 20000,
        ...                                             np.random.default_rng(0))
        >>> bool(abs(np.exp(log_vol[0]) - np.pi * 0.05) < 0.02)  # the disc's area
        True
    """
    m = conditions.shape[0]
    draws = rng.uniform(constraint.low, constraint.high, size=(m * per_condition, constraint.dim))
    obs = None if observations is None else np.repeat(observations, per_condition, axis=0)
    feasible = constraint._violation(draws, obs) <= constraint.tol
    share = feasible.reshape(m, per_condition).mean(axis=1)
    log_box = float(np.sum(np.log(constraint.high - constraint.low)))
    with np.errstate(divide="ignore"):
        log_volume = np.log(share) + log_box
    rows = np.repeat(np.arange(m), per_condition)[feasible]
    return draws[feasible], rows, log_volume


def _accuracy(ckpt: FlowCheckpoint, y: np.ndarray, margin: float, seed: int) -> tuple[float, float]:
    gen = torch.Generator().manual_seed(seed)  # on the CPU: the same draws on every device
    device = next(ckpt.flow.parameters()).device
    with torch.no_grad():
        z = ckpt.base_distribution.sample(y.shape[0], gen, ckpt.dtype, device)
        a, _ = ckpt.flow(z, _as_tensor(y, ckpt, device))
    v = ckpt.constraint._violation(a.cpu().double().numpy(), ckpt.conditioning.observations(y))
    return float(np.mean(v <= ckpt.constraint.tol)), float(np.mean(v <= margin))


def _reach(
    ckpt: FlowCheckpoint, actions: np.ndarray, y: np.ndarray
) -> tuple[torch.Tensor, torch.Tensor]:
    """Whether each action's preimage lies in the base's support, and its log-density."""
    device = next(ckpt.flow.parameters()).device
    base = ckpt.base_distribution
    with torch.no_grad():
        z, log_det = ckpt.flow.inverse(
            torch.as_tensor(actions, dtype=ckpt.dtype, device=device), _as_tensor(y, ckpt, device)
        )
        inside = base.support(z)
        log_density = base.normalized_log_prob(z) + log_det
    return inside.cpu(), log_density.double().cpu()


def _coverage(
    ckpt: FlowCheckpoint, y: np.ndarray, per_condition: int, threshold: float, seed: int
) -> tuple[float, float]:
    """Condition-balanced recall and coverage at condition rows ``y``."""
    rng = np.random.default_rng(seed)
    cond = ckpt.conditioning
    a, rows, log_volume = balanced_feasible_samples(
        ckpt.constraint, y, cond.observations(y), per_condition, rng
    )
    if a.shape[0] == 0:
        return float("nan"), float("nan")
    inside, log_density = _reach(ckpt, a, y[rows])
    ratio_ok = (log_density.numpy() + log_volume[rows]) >= math.log(threshold)
    covered = inside.numpy() & ratio_ok
    counts = np.bincount(rows, minlength=y.shape[0])
    weights = 1.0 / (counts[rows] * np.count_nonzero(counts))  # each condition alike
    return float(np.sum(weights * inside.numpy())), float(np.sum(weights * covered))


def evaluate_flow(
    ckpt: FlowCheckpoint,
    *,
    test_actions: np.ndarray | None = None,
    test_conditions: np.ndarray | None = None,
    conditions: np.ndarray | None = None,
    n: int = 10_000,
    margin: float = 0.1,
    coverage_threshold: float = 0.1,
    seed: int = 0,
) -> dict[str, float]:
    """Accuracy, margin accuracy, recall, coverage and F1 of a flow (see the module doc).

    Args:
        ckpt: the flow.
        test_actions: held-out feasible actions for the papers' ``recall`` (with
            ``test_conditions``); without them, ``recall`` is measured like ``coverage``.
        test_conditions: their condition rows.
        conditions: condition rows to evaluate on (e.g. visited states) instead of draws
            from the flow's condition distribution.
        n: base samples for ``accuracy`` (and about as many feasible draws for coverage).
        margin: violation counted as valid by ``accuracy_margin``.
        coverage_threshold: density ratio (flow over uniform-on-the-feasible-set) above
            which a feasible action counts as covered.
        seed: seed of every draw.

    Example:
        >>> import acrl_wrappers as acrl
        >>> from acrl_policies.flows import ConditionalRealNVP
        >>> c = acrl.make_constraint("reacher-l2")
        >>> ckpt = FlowCheckpoint(ConditionalRealNVP(2, n_layers=2, hidden=8), c, [])
        >>> m = evaluate_flow(ckpt, n=2000)
        >>> 0.0 < m["accuracy"] < 0.1, m["recall"], m["coverage"]  # the identity
        (True, 1.0, 0.0)
    """
    rng = np.random.default_rng(seed)
    cond = ckpt.conditioning
    if conditions is None:
        y = ckpt.condition.sample(n, cond.dim, rng)
    else:
        y = np.asarray(conditions, dtype=np.float64)[rng.integers(0, len(conditions), n)]
    accuracy, accuracy_margin = _accuracy(ckpt, y, margin, seed)
    n_rows = 1 if cond.dim == 0 else min(200, n)
    per_condition = max(1, (4 * n) // n_rows)
    recall, coverage = _coverage(ckpt, y[:n_rows], per_condition, coverage_threshold, seed + 1)
    if test_actions is not None and test_conditions is not None and conditions is None:
        inside, _ = _reach(ckpt, test_actions, test_conditions)
        recall = float(inside.double().mean())
    f1 = 2 * accuracy * recall / (accuracy + recall) if accuracy + recall > 0 else 0.0
    return {
        "accuracy": accuracy,
        "accuracy_margin": accuracy_margin,
        "recall": recall,
        "coverage": coverage,
        "f1": f1,
    }
