"""``ProjectAction``: execute the nearest feasible action."""

from __future__ import annotations

from typing import Any, SupportsFloat

import gymnasium as gym

from acrl_wrappers._arrays import float_scalar
from acrl_wrappers.factories import make_constraint
from acrl_wrappers.wrappers.base import (
    ConstraintLike,
    ConstraintWrapper,
)

__all__ = ["ProjectAction"]


class ProjectAction(ConstraintWrapper, gym.utils.RecordConstructorArgs):
    """Executes the Euclidean projection of every infeasible action onto the constraint.

    What reaches the simulator: the proposed action if it is feasible, else its nearest
    feasible action (closed form, OSQP or the general projector, whichever
    :func:`acrl_wrappers.make_projector` picks); if a projection fails, the constraint's
    safe action (``enforcement="fallback"``, ``info["constraint"]["error"]`` holds the
    status), and if that fails too the step raises :class:`~acrl_wrappers.ProjectionError`
    without executing anything.

    The agent learns from the task reward minus ``penalty`` times the projection
    distance (``info["reward_vector"] = [reward, -penalty * distance]``). With a stock
    SB3 SAC/TD3/DDPG this is the pre-projection baseline of the literature (SPre / DPre,
    Kasaura et al., arXiv:2304.08743): projection happens inside the env, so the replay
    buffer stores the action the policy proposed, not the executed one. ``penalty > 0`` shapes the
    reward instead of adding the published "+" variants' actor-loss penalty, which needs
    the algorithm's loss; it likewise teaches the policy to stay inside.

    Vector version: :class:`~acrl_wrappers.VectorProjectAction` (Gymnasium) and
    ``acrl_wrappers.sb3.VecProjectAction`` (SB3), one batched call for all sub-envs, which
    ``acrl.wrap(vector_env, ...)`` returns; or wrap each sub-env (``make_vec_env(...,
    wrapper_class=ProjectAction, wrapper_kwargs=...)``, ``Monitor`` inside the wrapper
    then reports the task return).

    Args:
        env: env with a 1-D ``Box`` action space.
        constraint: a :class:`~acrl_wrappers.Constraint`, spec dict or registered name.
        penalty: coefficient on the projection distance subtracted from the reward, ``>= 0``.
        projector: force a projector by name (default: the best available).

    Example:
        >>> import gymnasium as gym
        >>> box = {"name": "box", "dim": 1, "low": -1.0, "high": 1.0}
        >>> env = ProjectAction(gym.make("Pendulum-v1"), box)
        >>> _ = env.reset(seed=0)
        >>> _, reward, _, _, info = env.step([1.5])
        >>> found = info["constraint"]
        >>> found["enforcement"], round(found["distance"], 3), info["cost"]
        ('projected', 0.5, 1.0)

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(
        self,
        env: gym.Env[Any, Any],
        constraint: ConstraintLike,
        *,
        penalty: float = 0.0,
        projector: str | None = None,
    ) -> None:
        c = make_constraint(constraint)
        penalty = float_scalar(penalty, "penalty", minimum=0.0)
        gym.utils.RecordConstructorArgs.__init__(
            self, constraint=c.spec, penalty=penalty, projector=projector
        )
        gym.Wrapper.__init__(self, env)
        self._setup(c, projector)
        self.penalty = penalty  # reward -= penalty * projection distance

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Execute the action, projected first if it is infeasible."""
        a, violation = self._check(action)
        if violation <= self._constraint.tol:
            return self._accept(action, violation)
        x, info_c = self._project(a, violation)
        obs, reward, terminated, truncated, info = self._execute(x, info_c, 1.0)
        shaping = -self.penalty * info_c["distance"]
        info["reward_vector"] = [float(reward), shaping]
        return obs, float(reward) + shaping, terminated, truncated, info
