"""Acceptance-rejection (ARM) for any stochastic SB3 policy, and the batched helpers ARAM shares.

ARAM's acting rule (arXiv:2503.12932; its released code's ``agent.py``): draw up to ``M``
proposals from the policy, execute the first feasible one, and project the last one if
none is. Here the ``M`` proposals come from **one** forward pass (the distribution's
parameters are computed once per observation, then ``M`` samples are drawn) and are
checked by **one** batched ``violation`` call; the reference draws and checks them one at
a time.

- :func:`first_feasible` — index of the first feasible proposal per observation;
- :func:`squashed_gaussian_proposals` — ``M`` samples of a tanh-Gaussian per row;
- :class:`AcceptanceRejection` — wraps a trained SAC / TQC / TD3 / DDPG / PPO / A2C model
  so that ``predict`` returns feasible actions (deployment of a model trained any way).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from gymnasium import spaces
from stable_baselines3.common.base_class import BaseAlgorithm
from stable_baselines3.common.distributions import (
    DiagGaussianDistribution,
    SquashedDiagGaussianDistribution,
)
from stable_baselines3.common.noise import NormalActionNoise
from stable_baselines3.common.policies import ActorCriticPolicy, BasePolicy

from acrl_policies.errors import AcceptanceRejectionError, MissingConstraintError
from acrl_wrappers import Constraint, find_constraint, make_constraint, make_projector
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.projection.base import Projector

__all__ = [
    "AcceptanceRejection",
    "check_max_proposals",
    "first_feasible",
    "project_rows",
    "squashed_gaussian_proposals",
    "standard_normal",
]


def check_max_proposals(max_proposals: int) -> int:
    """``max_proposals`` as an int ``>= 1``, or an :class:`AcceptanceRejectionError`.

    Example:
        >>> check_max_proposals(100)
        100
    """
    if isinstance(max_proposals, bool) or not isinstance(max_proposals, int | np.integer):
        raise AcceptanceRejectionError(
            f"max_proposals (M) must be an integer >= 1, got {max_proposals!r}"
        )
    if max_proposals < 1:
        raise AcceptanceRejectionError(
            f"max_proposals (M) must be >= 1, got {max_proposals}: use 1 for a single "
            "proposal (then projection) or the reference's 100"
        )
    return int(max_proposals)


def resolve_constraint(constraint: Any, env: Any, owner: str) -> Constraint:
    """``constraint`` if given (object, spec or name), else the one on ``env``'s acrl wrapper.

    Raises:
        MissingConstraintError: neither gives a constraint; says how to attach one.

    Example:
        >>> resolve_constraint({"name": "ball", "dim": 2, "bound": 0.05}, None, "ARAM").family
        'ball'
    """
    if constraint is not None:
        return make_constraint(constraint)
    if env is not None:
        try:
            return find_constraint(env)
        except ConstraintError:
            pass
    raise MissingConstraintError(
        f"{owner} needs the action constraint to accept or reject proposals, and the env has "
        "no acrl wrapper: make a registered task with gym.make('ACRL/...', enforce='project') "
        "or wrap yours with acrl.wrap(env, constraint, enforce='monitor'), or pass "
        f"{owner}(..., constraint='name' | spec dict)"
    )


def first_feasible(
    constraint: Constraint, proposals: np.ndarray, obs: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """The first feasible of each row's ``M`` proposals, from one batched ``violation`` call.

    Args:
        constraint: the constraint.
        proposals: ``(N, M, dim)`` actions in env units.
        obs: ``(N, k)`` raw observations (``None`` for a state-independent constraint).

    Returns:
        ``(index, violation)``: ``(N,)`` index of the first feasible proposal (−1 where
        none is) and the ``(N, M)`` violations.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("ball", dim=1, bound=1.0)
        >>> index, _ = first_feasible(c, np.array([[[2.0], [0.5]], [[3.0], [4.0]]]), None)
        >>> index.tolist()
        [1, -1]
    """
    n, m, dim = proposals.shape
    flat = np.ascontiguousarray(proposals, dtype=np.float64).reshape(n * m, dim)
    rows = None
    if constraint.obs_dim and obs is not None:
        rows = np.repeat(np.asarray(obs, dtype=np.float64).reshape(n, -1), m, axis=0)
    violation = constraint._violation(flat, rows).reshape(n, m)
    feasible = violation <= constraint.tol
    index = np.where(feasible.any(axis=1), feasible.argmax(axis=1), -1)
    return index, violation


def project_rows(
    projector: Projector,
    actions: np.ndarray,
    obs: np.ndarray | None,
    violation: np.ndarray,
    rows: np.ndarray,
) -> np.ndarray:
    """``actions`` with the given ``rows`` replaced by their projections (float64 copy).

    Example:
        >>> import acrl_wrappers as acrl
        >>> p = acrl.make_projector(acrl.make_constraint("ball", dim=1, bound=1.0))
        >>> project_rows(p, np.array([[2.0], [0.5]]), None, np.array([1.0, 0.0]), np.array([0]))
        array([[1. ],
               [0.5]])
    """
    out = np.array(actions, dtype=np.float64)
    k = projector.constraint.obs_dim
    for i in rows:
        row_obs = None if not k or obs is None else np.asarray(obs[i], dtype=np.float64)
        out[i], _ = projector.project_checked(out[i], row_obs, float(violation[i]))
    return out


def standard_normal(
    shape: tuple[int, ...], like: torch.Tensor, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``N(0, 1)`` noise of ``shape`` on ``like``'s device and dtype.

    Without a ``generator`` it is drawn there from torch's generator of that device. With
    one it is drawn on the generator's own device (a seeded CPU generator serves a CUDA
    model, and gives the same noise on every device) and then moved.

    Example:
        >>> gen = torch.Generator().manual_seed(0)
        >>> tuple(standard_normal((2, 3), torch.zeros(1, dtype=torch.float64), gen).shape)
        (2, 3)
    """
    if generator is None:
        return torch.randn(shape, dtype=like.dtype, device=like.device)
    noise = torch.randn(shape, generator=generator, dtype=like.dtype, device=generator.device)
    return noise.to(like.device)


def squashed_gaussian_proposals(
    mean: torch.Tensor, log_std: torch.Tensor, n: int, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` samples per row of ``tanh(N(mean, exp(log_std)))``: ``(N, dim)`` → ``(N, n, dim)``.

    Example:
        >>> out = squashed_gaussian_proposals(torch.zeros(3, 2), torch.zeros(3, 2), 5)
        >>> tuple(out.shape), bool(out.abs().max() < 1)
        ((3, 5, 2), True)
    """
    noise = standard_normal((mean.shape[0], n, mean.shape[1]), mean, generator)
    return torch.tanh(mean.unsqueeze(1) + log_std.exp().unsqueeze(1) * noise)


class AcceptanceRejection:
    """Makes any stochastic SB3 model act feasibly by acceptance-rejection, then projection.

    What reaches the simulator: for each observation, ``max_proposals`` (M) actions are drawn
    from the model's action distribution in one forward pass and checked with one batched
    ``violation`` call; the first feasible one is returned. If none is, the last proposal
    is projected onto the constraint (ARAM's acting rule, ARAM, arXiv:2503.12932). With
    ``deterministic=True`` the model's mode is returned, projected if infeasible (the
    evaluation protocol of ARAM's released code). The constraint is read from the model's env
    (an acrl wrapper) unless given.

    Supported policies: SAC and TQC (tanh-Gaussian actors), PPO and A2C (Gaussian,
    clipped to the box), TD3 and DDPG (the deterministic action plus Gaussian noise of
    the model's ``NormalActionNoise`` or ``noise_std``, clipped). gSDE is not supported.
    Observations are the env's raw observations (the constraint reads them).

    Counters since construction: :attr:`steps`, :attr:`proposals`, :attr:`accepted`,
    :attr:`projections`.

    Args:
        model: a trained SB3 algorithm (or its policy).
        constraint: the constraint (object, spec dict or registered name); ``None`` reads
            it from ``model``'s env.
        max_proposals: M, proposals per observation (``>= 1``; reference 100).
        noise_std: exploration noise (in ``[-1, 1]`` units) for deterministic actors when the
            model has no ``NormalActionNoise``.
        seed: seed of the proposal noise (``None``: torch's global generator).

    Raises:
        MissingConstraintError: no constraint given and none on the model's env.
        AcceptanceRejectionError: ``max_proposals < 1``, or a policy without a continuous
            action distribution.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> from stable_baselines3 import SAC
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/ReacherL2-v0", enforce="project")
        >>> model = SAC("MlpPolicy", env, policy_kwargs={"net_arch": [16]}, seed=0)
        >>> arm = AcceptanceRejection(model, max_proposals=100, seed=0)
        >>> obs, _ = env.reset(seed=0)
        >>> action, _ = arm.predict(obs)
        >>> bool(acrl.find_constraint(env).contains(action, obs)), arm.proposals
        (True, 14)

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        model: BaseAlgorithm | BasePolicy,
        constraint: Any = None,
        *,
        max_proposals: int = 100,
        noise_std: float = 0.1,
        seed: int | None = None,
    ) -> None:
        self.max_proposals = check_max_proposals(max_proposals)
        policy = model.policy if isinstance(model, BaseAlgorithm) else model
        if not isinstance(policy, BasePolicy) or not isinstance(policy.action_space, spaces.Box):
            raise AcceptanceRejectionError(
                f"AcceptanceRejection needs an SB3 model with a Box action space, got {model!r}"
            )
        actor = getattr(policy, "actor", None)
        if getattr(policy, "use_sde", False) or getattr(actor, "use_sde", False):
            raise AcceptanceRejectionError(
                "gSDE policies draw correlated noise; train with use_sde=False to use "
                "AcceptanceRejection"
            )
        env = model.get_env() if isinstance(model, BaseAlgorithm) else None
        self.model = model
        self.policy = policy
        self.constraint = resolve_constraint(constraint, env, "AcceptanceRejection")
        if self.constraint.dim != policy.action_space.shape[0]:
            raise AcceptanceRejectionError(
                f"the constraint acts on {self.constraint.dim} action dims, the model on "
                f"{policy.action_space.shape[0]}"
            )
        noise = getattr(model, "action_noise", None)
        sigma = noise._sigma if isinstance(noise, NormalActionNoise) else float(noise_std)
        self.noise_std = torch.as_tensor(sigma, dtype=torch.float32, device=policy.device)
        # a CPU generator: its noise is moved to the model's device (see `standard_normal`)
        self.generator = None if seed is None else torch.Generator().manual_seed(seed)
        self.projector: Projector = make_projector(self.constraint)
        self.steps = self.proposals = self.accepted = self.projections = 0

    @property
    def acceptance_rate(self) -> float:
        """Share of observations answered by an accepted proposal (not a projection)."""
        return self.accepted / self.steps if self.steps else float("nan")

    def propose(self, observation: np.ndarray, n: int) -> np.ndarray:
        """``n`` proposals per observation from one forward pass: ``(N, n, dim)``, env units.

        Example:
            >>> import gymnasium as gym
            >>> from stable_baselines3 import PPO
            >>> env = gym.make("Pendulum-v1")
            >>> arm = AcceptanceRejection(PPO("MlpPolicy", env), {"name": "box", "dim": 1})
            >>> arm.propose(np.zeros((2, 3), dtype=np.float32), 7).shape
            (2, 7, 1)
        """
        policy = self.policy
        policy.set_training_mode(False)
        obs_t, _ = policy.obs_to_tensor(observation)
        space = policy.action_space
        with torch.no_grad():
            if isinstance(policy, ActorCriticPolicy):  # PPO, A2C
                dist = policy.get_distribution(obs_t)
                if not isinstance(dist, DiagGaussianDistribution):
                    raise AcceptanceRejectionError(
                        "AcceptanceRejection needs a Gaussian action distribution, got "
                        f"{type(dist).__name__}"
                    )
                gaussian = dist.distribution
                mean, std = gaussian.mean.unsqueeze(1), gaussian.stddev.unsqueeze(1)
                noise = standard_normal((mean.shape[0], n, mean.shape[2]), mean, self.generator)
                samples = mean + std * noise
                if policy.squash_output:
                    return policy.unscale_action(torch.tanh(samples).cpu().numpy())
                return np.clip(samples.cpu().numpy(), space.low, space.high)
            actor = getattr(policy, "actor", None)
            if actor is None:
                raise AcceptanceRejectionError(
                    f"{type(policy).__name__} has no actor or action distribution to sample from"
                )
            if isinstance(getattr(actor, "action_dist", None), SquashedDiagGaussianDistribution):
                mean, log_std, _ = actor.get_action_dist_params(obs_t)  # SAC, TQC
                scaled = squashed_gaussian_proposals(mean, log_std, n, self.generator)
            else:  # TD3, DDPG: deterministic action plus Gaussian noise
                mu = actor(obs_t).unsqueeze(1)
                noise = standard_normal((mu.shape[0], n, mu.shape[2]), mu, self.generator)
                scaled = torch.clamp(mu + self.noise_std.to(mu.device) * noise, -1.0, 1.0)
        return policy.unscale_action(scaled.cpu().numpy())

    def predict(
        self,
        observation: np.ndarray,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        """Feasible actions for one ``(k,)`` or ``N`` ``(N, k)`` observations (SB3's signature).

        Example:
            >>> import gymnasium as gym
            >>> from stable_baselines3 import TD3
            >>> model = TD3("MlpPolicy", gym.make("Pendulum-v1"), seed=0)
            >>> box = {"name": "box", "dim": 1, "low": -0.1, "high": 0.1}
            >>> arm = AcceptanceRejection(model, box, seed=0)
            >>> action, _ = arm.predict(np.zeros(3, dtype=np.float32))
            >>> bool(abs(action[0]) <= 0.1)
            True
        """
        obs = np.asarray(observation)
        single = obs.ndim == len(self.policy.observation_space.shape)
        batch = obs.reshape(1, -1) if single else obs.reshape(obs.shape[0], -1)
        if deterministic:
            mode, _ = self.policy.predict(batch, deterministic=True)
            proposals = np.asarray(mode, dtype=np.float64)[:, None, :]
        else:
            proposals = self.propose(batch, self.max_proposals)
        actions = self.select(proposals, batch)
        out = actions.astype(self.policy.action_space.dtype)
        return (out[0] if single else out), state

    def select(self, proposals: np.ndarray, obs: np.ndarray) -> np.ndarray:
        """The first feasible of each row's proposals, else the projection of the last one."""
        index, violation = first_feasible(self.constraint, proposals, obs)
        n, m, _ = proposals.shape
        rows = np.arange(n)
        chosen = proposals[rows, np.where(index >= 0, index, m - 1)]
        missing = np.flatnonzero(index < 0)
        out = project_rows(self.projector, chosen, obs, violation[:, -1], missing)
        self.steps += n
        self.proposals += int(np.where(index >= 0, index + 1, m).sum())
        self.accepted += n - missing.size
        self.projections += missing.size
        return out
