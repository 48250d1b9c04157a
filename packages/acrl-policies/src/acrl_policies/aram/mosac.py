"""MOSAC's losses as ARAM computes them (Q-Pensieve backbone; ARAM, arXiv 2503.12932).

A mixin of :class:`~acrl_policies.aram.ARAM`: the critic loss on the batch's transformed
reward vectors, Q-Pensieve's actor loss (differentiating only each sample's best
(critic, preference) pair), the Q-snapshots, and the feasibility-aware entropy target.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from acrl_policies.arm import first_feasible

if TYPE_CHECKING:
    from acrl_policies.aram.policies import VectorCritic

__all__ = ["MOSACLosses"]


class MOSACLosses:
    """The learning half of ARAM: losses, snapshots and the entropy target (a mixin).

    Reads the attributes an :class:`~acrl_policies.aram.ARAM` model has (``actor``,
    ``critic``, ``critic_target``, ``reward_calibration``, ``_snapshots``, ...).
    """

    # provided by ARAM / SB3's SAC
    actor: Any
    critic: Any
    critic_target: Any
    policy: Any
    replay_buffer: Any
    reward_calibration: Any
    constraint: Any
    action_space: Any
    logger: Any
    gamma: float
    device: torch.device
    n_envs: int
    ent_coef_optimizer: Any
    log_ent_coef: Any
    ent_coef_tensor: Any
    policy_action_samples: int
    q_snapshots: int
    q_snapshot_every: int
    q_snapshot_start: int
    _snapshots: Any
    _learning_steps: int
    _rng: np.random.Generator

    def _reward_vectors(self, data: Any) -> torch.Tensor:
        """The batch's ``[r', penalty]``: the task reward of real transitions transformed."""
        assert self.reward_calibration is not None
        t = self.reward_calibration.transform
        real = 1.0 - data.self_loops
        task = data.reward_vectors[:, :1] * t.scale + t.offset * real
        return torch.cat([task * real, data.reward_vectors[:, 1:]], dim=1)

    def feasible_target_entropy(self, n_states: int = 256, n_actions: int = 100) -> float:
        """``-|A| + log p``: ``p`` the feasible share of uniform box actions at stored states.

        ``p`` pools ``n_actions`` uniform actions at each of up to ``n_states`` states of the
        replay buffer (raw observations, as the constraint reads them), floored at one
        feasible sample in the whole draw.
        """
        dim = self.action_space.shape[0]
        size = self.replay_buffer.size()
        if size == 0:
            return -float(dim)
        rows = self._rng.integers(0, size, min(n_states, size))
        env_of = self._rng.integers(0, self.n_envs, len(rows))
        obs = self.replay_buffer.observations[rows, env_of].reshape(len(rows), -1)
        scaled = self._rng.uniform(-1.0, 1.0, (len(rows) * n_actions, dim))
        proposals = self.policy.unscale_action(scaled).reshape(len(rows), n_actions, dim)
        _, violation = first_feasible(self.constraint, proposals, obs)
        share = max(float(np.mean(violation <= self.constraint.tol)), 1.0 / violation.size)
        self.logger.record("train/feasible_share", share)
        return -float(dim) + float(np.log(share))

    def _alpha(self) -> torch.Tensor:
        if self.ent_coef_optimizer is not None:
            return torch.exp(self.log_ent_coef.detach())
        return self.ent_coef_tensor

    def _critic_loss(self, data: Any, w: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor:
        """Scalarised twin TD loss ``sum_twins mean_batch sum_k w_k (Q_k - y_k)^2``.

        Target: ``a' ~ pi(.|s', w)``; per sample the target twin whose ``w . Q`` is
        smaller gives the whole vector; ``y = r + gamma (1 - d) (Q_sel(s', a', w) - alpha
        log pi(a'|s', w))``, the entropy bonus added to both components.

        Args:
            data: a :class:`~acrl_wrappers.sb3.DualReplayBufferSamples` batch.
            w: the critic's preference ``(2,)``.
            alpha: the entropy coefficient.

        Returns:
            The loss (a scalar tensor).
        """
        with torch.no_grad():
            next_actions, next_log_prob = self.actor.action_log_prob(data.next_observations, w)
            twins = torch.stack(self.critic_target(data.next_observations, next_actions, w))
            pick = (twins @ w).argmin(dim=0)  # (batch,): the pessimistic twin per sample
            q_next = twins[pick, torch.arange(twins.shape[1], device=twins.device)]
            q_next = q_next - alpha * next_log_prob.reshape(-1, 1)
            target = self._reward_vectors(data) + (1 - data.dones) * self.gamma * q_next
        current = self.critic(data.observations, data.actions, w)
        return sum(((q - target) ** 2 @ w).mean() for q in current)  # type: ignore[return-value]

    def _actor_loss(
        self, obs: torch.Tensor, prefs: torch.Tensor, alpha: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Q-Pensieve's policy loss ``mean(alpha log pi - max_{Q, w'} min_twin w . Q(s, a, w'))``.

        ``a ~ pi(.|s, w)`` with ``w = prefs[0]``; the maximum runs over the current critic
        and the Q-snapshots and over every ``w'`` in ``prefs``, per sampled action.

        Cost: the maximum's gradient is the gradient of its argmax, so every (critic, ``w'``)
        pair is evaluated without autograd to find each sample's best pair, and only that
        pair is evaluated again with autograd. The loss and its gradient are those of the
        full maximum; backward runs over ``batch`` rows instead of ``|W| x (1 + snapshots)
        x batch``, and :meth:`train` restricts it to the actor's parameters
        (:meth:`actor_parameters`), so no critic-weight gradient is computed.

        Args:
            obs: ``(batch, k)`` observations.
            prefs: ``(|W|, 2)`` preferences, the first the actor's.
            alpha: the entropy coefficient.

        Returns:
            ``(loss, log_prob)``, the log-probabilities for the entropy-coefficient update.
        """
        w = prefs[0]
        obs = obs.repeat(self.policy_action_samples, 1)
        actions, log_prob = self.actor.action_log_prob(obs, w)
        critics = [self.critic, *self._snapshots]
        critic_of, pref_of = self._best_critic_and_preference(critics, obs, actions.detach(), prefs)
        if len(critics) == 1:  # no snapshots yet: every row's best pair uses the critic
            twins = torch.stack(self.critic(obs, actions, prefs[pref_of]))
            best = (twins @ w).min(dim=0).values
        else:
            best = torch.empty_like(log_prob.reshape(-1))
            for k, critic in enumerate(critics):
                rows = torch.nonzero(critic_of == k).flatten()
                if len(rows):
                    twins = torch.stack(critic(obs[rows], actions[rows], prefs[pref_of[rows]]))
                    best = best.index_put((rows,), (twins @ w).min(dim=0).values)
        return (alpha * log_prob.reshape(-1) - best).mean(), log_prob

    def actor_parameters(self) -> list[torch.Tensor]:
        """The tensors the actor's optimizer steps (the only inputs of the actor backward)."""
        return [p for group in self.actor.optimizer.param_groups for p in group["params"]]

    def _best_critic_and_preference(
        self,
        critics: list[VectorCritic],
        obs: torch.Tensor,
        actions: torch.Tensor,
        prefs: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Per sample, the (critic, ``w'``) with the largest ``min_twin w . Q(s, a, w')``."""
        w = prefs[0]
        n, n_prefs = obs.shape[0], prefs.shape[0]
        with torch.no_grad():
            obs_w = obs.repeat(n_prefs, 1)
            actions_w = actions.repeat(n_prefs, 1)
            prefs_w = prefs.repeat_interleave(n, dim=0)
            values = [
                (torch.stack(critic(obs_w, actions_w, prefs_w)) @ w).min(dim=0).values
                for critic in critics
            ]
            best = torch.stack(values).reshape(len(critics) * n_prefs, n).argmax(dim=0)
        return best // n_prefs, best % n_prefs

    def _maybe_snapshot(self) -> None:
        """Keep a frozen copy of the critic every ``q_snapshot_every`` updates (Q-Pensieve)."""
        if not self.q_snapshots or self._learning_steps < self.q_snapshot_start:
            return
        if self._learning_steps % self.q_snapshot_every:
            return
        with torch.device(self.device):  # built where it lives, not built then moved
            snapshot = self.policy.make_critic(features_extractor=None)
        snapshot.load_state_dict(self.critic.state_dict())
        snapshot.set_training_mode(False)
        snapshot.requires_grad_(False)
        self._snapshots.append(snapshot)
