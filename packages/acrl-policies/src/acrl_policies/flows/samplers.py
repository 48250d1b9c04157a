"""Feasible (action, condition) samples for FlowPG's maximum-likelihood training.

- :func:`rejection_sample` — batched: draw conditions from their distribution, then
  actions uniformly in the box for each until one is feasible (or, ``balanced=False``,
  both together keeping the feasible pairs). Exact and simple; its cost grows with
  ``1 / feasible fraction``.
- :class:`ReflectiveHMC` — Hamiltonian Monte Carlo over the joint (action, condition)
  space whose target is uniform on the feasible set (times the condition density):
  free flight inside, mirror reflection off the box walls, and reflection off the
  constraint boundary along the violation's gradient (finite differences of the
  constraint's own ``violation``), in the style of reflective HMC (Mohasel Afshar &
  Domke, 2015). FlowPG ran pyhmc on the same flat target (FlowPG, arXiv:2402.05149);
  this is written in numpy, batched over chains, and reports mixing diagnostics.

Reflection uses the boundary normal at the rejected point, a discretisation of the exact
billiard; check :class:`HMCDiagnostics` (split R-hat near 1, ESS) and, for a new
constraint, compare moments with :func:`rejection_sample` where that is affordable.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from acrl_policies.flows.conditions import ConditionDistribution, Conditioning
from acrl_wrappers import Constraint
from acrl_wrappers.errors import SamplingError

__all__ = [
    "HMCDiagnostics",
    "ReflectiveHMC",
    "effective_sample_size",
    "rejection_sample",
    "sample_by_hmc",
    "sample_by_rejection",
    "split_rhat",
]


def rejection_sample(
    constraint: Constraint,
    n: int,
    *,
    conditioning: Conditioning | None = None,
    condition: ConditionDistribution | None = None,
    rng: np.random.Generator | int | None = None,
    batch: int = 100_000,
    max_draws: int = 50_000_000,
    balanced: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` feasible (action, condition) pairs by batched rejection.

    With ``balanced`` (the default) each condition is drawn from its distribution first
    and actions are drawn for it until one is feasible: conditions follow their
    distribution exactly and actions are uniform on each condition's feasible set — what
    a flow must learn for every condition a policy meets. Without it, actions and
    conditions are drawn together and the feasible pairs kept (FlowPG's sampler), which
    over-represents conditions with large feasible sets.

    Args:
        constraint: the constraint.
        n: number of pairs.
        conditioning: the condition entries (default: those the constraint reads).
        condition: their distribution (default ``U[-10, 10]``).
        rng: a generator or seed.
        batch: candidates per vectorised ``violation`` call (joint sampling).
        max_draws: give up after this many candidates.
        balanced: draw conditions first (see above).

    Returns:
        ``(actions (n, dim), conditions (n, c))`` float64; ``c`` is 0 for a
        state-independent constraint.

    Raises:
        SamplingError: fewer than ``n`` feasible pairs in ``max_draws`` candidates.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("reacher-l2")
        >>> a, y = rejection_sample(c, 100, rng=0)
        >>> a.shape, y.shape, bool(c.contains(a).all())
        ((100, 2), (100, 0), True)
    """
    cond = conditioning or Conditioning(constraint)
    dist = condition or ConditionDistribution()
    gen = np.random.default_rng(rng)
    if balanced and cond.dim:
        return _balanced_rejection(constraint, n, cond, dist, gen, max_draws)
    actions, conditions, found, drawn = [], [], 0, 0
    while found < n:
        _check_budget(found, n, drawn, max_draws)
        a = gen.uniform(constraint.low, constraint.high, size=(batch, constraint.dim))
        y = dist.sample(batch, cond.dim, gen)
        keep = constraint._violation(a, cond.observations(y)) <= constraint.tol
        actions.append(a[keep])
        conditions.append(y[keep])
        found += int(keep.sum())
        drawn += batch
    return np.concatenate(actions)[:n], np.concatenate(conditions)[:n]


def _check_budget(found: int, n: int, drawn: int, max_draws: int) -> None:
    if drawn >= max_draws:
        raise SamplingError(
            f"rejection sampling found {found} of {n} feasible pairs in {drawn} candidates; "
            "the feasible set is tiny: use ReflectiveHMC instead"
        )


def _balanced_rejection(
    constraint: Constraint,
    n: int,
    cond: Conditioning,
    dist: ConditionDistribution,
    gen: np.random.Generator,
    max_draws: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Conditions from ``dist``, then actions for each until one is feasible."""
    y = dist.sample(n, cond.dim, gen)
    a = np.empty((n, constraint.dim))
    pending, drawn = np.arange(n), 0
    while pending.size:
        _check_budget(n - pending.size, n, drawn, max_draws)
        cand = gen.uniform(constraint.low, constraint.high, size=(pending.size, constraint.dim))
        ok = constraint._violation(cand, cond.observations(y[pending])) <= constraint.tol
        a[pending[ok]] = cand[ok]
        pending = pending[~ok]
        drawn += cand.shape[0]
    return a, y


@dataclass(frozen=True)
class HMCDiagnostics:
    """How well a :class:`ReflectiveHMC` run mixed.

    Attributes:
        acceptance_rate: fraction of trajectories accepted by the Metropolis step (1.0
            for a uniform condition distribution, whose energy is constant).
        boundary_reflection_rate: fraction of leapfrog steps that hit the constraint
            boundary and reflected.
        wall_reflection_rate: fraction of leapfrog steps that reflected off a box wall.
        max_rhat: largest split R-hat over coordinates (near 1.0: the chains agree;
            above 1.05: run longer).
        min_ess: smallest effective sample size over coordinates (all chains together).
        feasible_fraction: fraction of returned samples that are feasible (1.0).
    """

    acceptance_rate: float
    boundary_reflection_rate: float
    wall_reflection_rate: float
    max_rhat: float
    min_ess: float
    feasible_fraction: float


def split_rhat(chains: np.ndarray) -> np.ndarray:
    """Split R-hat per coordinate of ``(n_chains, n_steps, d)`` draws (Gelman et al.).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(4, 500, 2))
        >>> bool((abs(split_rhat(x) - 1.0) < 0.02).all())
        True
    """
    half = chains.shape[1] // 2
    parts = np.concatenate([chains[:, :half], chains[:, half : 2 * half]], axis=0)
    n = parts.shape[1]
    means = parts.mean(axis=1)
    within = parts.var(axis=1, ddof=1).mean(axis=0)
    between = n * means.var(axis=0, ddof=1)
    var_hat = (n - 1) / n * within + between / n
    return np.sqrt(var_hat / np.maximum(within, 1e-300))


def effective_sample_size(chains: np.ndarray) -> np.ndarray:
    """Effective sample size per coordinate of ``(n_chains, n_steps, d)`` draws.

    Autocorrelations are summed in pairs until a pair turns negative (Geyer's initial
    positive sequence).

    Example:
        >>> x = np.random.default_rng(0).normal(size=(4, 500, 1))
        >>> bool(1500 < effective_sample_size(x)[0] <= 2600)
        True
    """
    m, n, d = chains.shape
    centred = chains - chains.mean(axis=1, keepdims=True)
    spectrum = np.fft.rfft(centred, n=2 * n, axis=1)
    acov = np.fft.irfft(spectrum * np.conj(spectrum), axis=1)[:, :n] / n
    rho = acov.mean(axis=0) / np.maximum(acov.mean(axis=0)[0], 1e-300)  # (n, d)
    ess = np.empty(d)
    for j in range(d):
        total = 0.0
        for t in range(0, n - 1, 2):
            pair = rho[t, j] + rho[t + 1, j]
            if pair < 0:
                break
            total += pair
        tau = max(2.0 * total - 1.0, 1e-12)
        ess[j] = m * n / tau
    return ess


class ReflectiveHMC:
    """Reflective HMC over feasible (action, condition) pairs, batched over chains.

    Coordinates are rescaled so the action box and the condition's scale are both
    ``[-1, 1]``-sized; the momentum is standard normal in those units.

    Args:
        constraint: the constraint.
        conditioning: the condition entries (default: those the constraint reads).
        condition: their distribution (default ``U[-10, 10]``).
        step_size: leapfrog step in rescaled units.
        n_leapfrog: leapfrog steps per trajectory.
        n_chains: chains run side by side (one ``violation`` call per step for all).
        seed: seed of the chains.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("hopper-m10")
        >>> hmc = ReflectiveHMC(c, n_chains=16, seed=0)
        >>> a, y, diag = hmc.sample(400, burn_in=50)
        >>> a.shape, y.shape, diag.feasible_fraction
        ((400, 3), (400, 3), 1.0)
    """

    def __init__(
        self,
        constraint: Constraint,
        *,
        conditioning: Conditioning | None = None,
        condition: ConditionDistribution | None = None,
        step_size: float = 0.2,
        n_leapfrog: int = 10,
        n_chains: int = 64,
        seed: int | None = None,
    ) -> None:
        self.constraint = constraint
        self.cond = conditioning or Conditioning(constraint)
        self.dist = condition or ConditionDistribution()
        self.step_size = float(step_size)
        self.n_leapfrog = int(n_leapfrog)
        self.n_chains = int(n_chains)
        self.rng = np.random.default_rng(seed)
        c = self.cond.dim
        self.centre = np.concatenate([(constraint.high + constraint.low) / 2, np.zeros(c)])
        half = np.concatenate([(constraint.high - constraint.low) / 2, np.full(c, self.dist.scale)])
        self.half_width = np.maximum(half, 1e-12)
        if self.dist.kind == "uniform":
            lo_y, hi_y = np.full(c, self.dist.low), np.full(c, self.dist.high)
        else:
            lo_y, hi_y = np.full(c, -np.inf), np.full(c, np.inf)
        self.lower = (np.concatenate([constraint.low, lo_y]) - self.centre) / self.half_width
        self.upper = (np.concatenate([constraint.high, hi_y]) - self.centre) / self.half_width

    # -------------------------------------------------------------- the target
    def _split(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x = u * self.half_width + self.centre
        return x[:, : self.constraint.dim], x[:, self.constraint.dim :]

    def _violation(self, u: np.ndarray) -> np.ndarray:
        a, y = self._split(u)
        return self.constraint._violation(a, self.cond.observations(y))

    def _potential(self, u: np.ndarray) -> np.ndarray:
        if self.dist.kind == "uniform":
            return np.zeros(u.shape[0])
        y = u[:, self.constraint.dim :] * self.half_width[self.constraint.dim :]
        return 0.5 * (y**2).sum(axis=1) / self.dist.std**2

    def _potential_grad(self, u: np.ndarray) -> np.ndarray:
        grad = np.zeros_like(u)
        if self.dist.kind == "normal":
            scale = self.half_width[self.constraint.dim :]
            grad[:, self.constraint.dim :] = (
                u[:, self.constraint.dim :] * scale**2 / self.dist.std**2
            )
        return grad

    def _boundary_normal(self, u: np.ndarray, h: float = 1e-6) -> np.ndarray:
        d = u.shape[1]
        offsets = np.concatenate([np.eye(d), -np.eye(d)]) * h
        probes = (u[None] + offsets[:, None]).reshape(-1, d)
        values = self._violation(probes).reshape(2 * d, -1)
        grad = ((values[:d] - values[d:]) / (2 * h)).T
        norm = np.linalg.norm(grad, axis=1, keepdims=True)
        return np.where(norm > 0, grad / np.maximum(norm, 1e-300), 0.0)

    def _reflect(
        self, inside: np.ndarray, outside: np.ndarray, p: np.ndarray, iterations: int = 30
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bounce off the constraint boundary between ``inside`` and ``outside`` points.

        Bisection finds where the straight move crosses the boundary; the momentum is
        mirrored about the boundary normal there and the rest of the move continues from
        the crossing point. If the continued move leaves the set again (a corner), the
        chain stops at the crossing point for this step.
        """
        lo, hi = np.zeros(len(inside)), np.ones(len(inside))
        move = outside - inside
        for _ in range(iterations):
            mid = (lo + hi) / 2
            out = self._violation(inside + mid[:, None] * move) > self.constraint.tol
            hi = np.where(out, mid, hi)
            lo = np.where(out, lo, mid)
        crossing = inside + lo[:, None] * move
        normal = self._boundary_normal(inside + hi[:, None] * move)
        p = p - 2.0 * (p * normal).sum(axis=1, keepdims=True) * normal
        rest = np.linalg.norm(move, axis=1, keepdims=True) * (1.0 - lo[:, None])
        speed = np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-300)
        landed = crossing + rest * p / speed
        landed = np.clip(landed, self.lower, self.upper)
        bad = self._violation(landed) > self.constraint.tol
        return np.where(bad[:, None], crossing, landed), p

    # -------------------------------------------------------------- the chain
    def _start(self) -> np.ndarray:
        a, y = rejection_sample(
            self.constraint,
            self.n_chains,
            conditioning=self.cond,
            condition=self.dist,
            rng=self.rng,
            batch=max(10_000, 10 * self.n_chains),
        )
        return (np.concatenate([a, y], axis=1) - self.centre) / self.half_width

    def _trajectory(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, int]:
        eps = self.step_size
        p = self.rng.normal(size=u.shape)
        energy0 = self._potential(u) + 0.5 * (p**2).sum(axis=1)
        x = u.copy()
        bounces = walls = 0
        p -= 0.5 * eps * self._potential_grad(x)
        for step in range(self.n_leapfrog):
            new = x + eps * p
            above, below = new > self.upper, new < self.lower
            new = np.where(above, 2 * self.upper - new, new)
            new = np.where(below, 2 * self.lower - new, new)
            p = np.where(above | below, -p, p)
            walls += int((above | below).any(axis=1).sum())
            outside = self._violation(new) > self.constraint.tol
            if outside.any():
                new[outside], p[outside] = self._reflect(x[outside], new[outside], p[outside])
                bounces += int(outside.sum())
            x = new
            last = step == self.n_leapfrog - 1
            p -= (0.5 if last else 1.0) * eps * self._potential_grad(x)
        energy1 = self._potential(x) + 0.5 * (p**2).sum(axis=1)
        accept = np.log(self.rng.uniform(size=u.shape[0])) < energy0 - energy1
        return np.where(accept[:, None], x, u), accept, bounces, walls

    def sample(
        self, n: int, *, burn_in: int = 200, thin: int = 1
    ) -> tuple[np.ndarray, np.ndarray, HMCDiagnostics]:
        """``n`` feasible (action, condition) pairs and the run's diagnostics.

        Args:
            n: number of pairs returned (taken round-robin from the chains).
            burn_in: trajectories discarded at the start of each chain.
            thin: keep every ``thin``-th trajectory.

        Returns:
            ``(actions (n, dim), conditions (n, c), diagnostics)``.
        """
        u = self._start()
        kept: list[np.ndarray] = []
        per_chain = -(-n // self.n_chains)
        accepted = bounces = walls = steps = 0
        for i in range(burn_in + per_chain * thin):
            u, accept, b, w = self._trajectory(u)
            accepted += int(accept.sum())
            bounces += b
            walls += w
            steps += self.n_leapfrog * self.n_chains
            if i >= burn_in and (i - burn_in) % thin == 0:
                kept.append(u.copy())
        chains = np.stack(kept, axis=1)  # (chains, steps, d)
        flat = chains.transpose(1, 0, 2).reshape(-1, chains.shape[2])[:n]
        a, y = self._split(flat)
        feasible = float(np.mean(self._violation(flat) <= self.constraint.tol))
        many = chains.shape[1] >= 4
        diagnostics = HMCDiagnostics(
            acceptance_rate=accepted / ((burn_in + per_chain * thin) * self.n_chains),
            boundary_reflection_rate=bounces / steps,
            wall_reflection_rate=walls / steps,
            max_rhat=float(split_rhat(chains).max()) if many else float("nan"),
            min_ess=float(effective_sample_size(chains).min()) if many else float("nan"),
            feasible_fraction=feasible,
        )
        return a, y, diagnostics


def sample_by_rejection(
    constraint: Constraint,
    n: int,
    *,
    conditioning: Conditioning,
    condition: ConditionDistribution,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The ``"rejection"`` sampler: :func:`rejection_sample` in the sampler interface."""
    a, y = rejection_sample(constraint, n, conditioning=conditioning, condition=condition, rng=seed)
    return a, y, {}


def sample_by_hmc(
    constraint: Constraint,
    n: int,
    *,
    conditioning: Conditioning,
    condition: ConditionDistribution,
    seed: int | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """The ``"hmc"`` sampler: :class:`ReflectiveHMC` with its diagnostics as ``info``."""
    hmc = ReflectiveHMC(constraint, conditioning=conditioning, condition=condition, seed=seed)
    a, y, diagnostics = hmc.sample(n)
    return a, y, {f"hmc_{k}": v for k, v in asdict(diagnostics).items()}
