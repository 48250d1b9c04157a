"""Policy aliases of ``CVPO``: SAC's squashed Gaussian actor, twin reward and cost critics.

- :class:`CVPOPolicy` (``MlpPolicy``) — :class:`~acrl_policies.costs.CostSACPolicy` plus
  ``actor_old``, the frozen copy of the actor that CVPO samples from in the E-step and
  measures the M-step trust regions against.
"""

from __future__ import annotations

from typing import Any

from stable_baselines3.common.type_aliases import Schedule
from stable_baselines3.sac.policies import Actor

from acrl_policies.costs.policies import CostSACPolicy

__all__ = ["CVPOPolicy", "MlpPolicy"]


class CVPOPolicy(CostSACPolicy):
    """CVPO's networks: a tanh-squashed Gaussian actor, twin Q_r and twin Q_c, an old actor.

    The actor is SB3's SAC ``Actor``: an MLP giving the mean μ(s) and a state-conditioned
    log-std (clamped to [−20, 2]) of a Gaussian over u, and the action a = tanh(u). FSRL's
    Mujoco configs use a "bounded" actor instead (tanh on the mean only, a Gaussian
    sample clipped to the action box). Squashing keeps every sample inside the box, Q is
    learned and evaluated at the action actually executed, and nothing in the M-step
    changes: the tanh Jacobian does not depend on θ, so the weighted likelihood of a in
    θ equals that of u up to a constant, and KL divergences are invariant under the
    bijection, so the Gaussian KLs of u are the KLs of the squashed policies.

    ``actor_old`` (same architecture, no optimizer, evaluation mode) is saved with the
    policy and synced by ``CVPO`` after each update round. ``net_arch`` defaults to
    FSRL's (128, 128).

    Args:
        *args: as ``SACPolicy``.
        **kwargs: as ``SACPolicy``.

    Example:
        >>> import gymnasium as gym, torch as th
        >>> from stable_baselines3.common.utils import ConstantSchedule
        >>> env = gym.make("Pendulum-v1")
        >>> policy = CVPOPolicy(env.observation_space, env.action_space, ConstantSchedule(1e-3))
        >>> mean, log_std, _ = policy.actor_old.get_action_dist_params(th.zeros(5, 3))
        >>> mean.shape, policy.net_arch
        (torch.Size([5, 1]), [128, 128])

    Change logs:
        - v0.1.0 - Initially added.
    """

    actor_old: Actor

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("net_arch") is None:
            kwargs["net_arch"] = [128, 128]
        super().__init__(*args, **kwargs)

    def _build(self, lr_schedule: Schedule) -> None:
        super()._build(lr_schedule)
        self.actor_old = self.make_actor()
        self.sync_old_actor()
        self.actor_old.set_training_mode(False)
        self.actor_old.requires_grad_(False)

    def sync_old_actor(self) -> None:
        """Copy the actor's weights into ``actor_old``."""
        self.actor_old.load_state_dict(self.actor.state_dict())


MlpPolicy = CVPOPolicy
