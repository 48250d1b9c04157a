"""acrl-mujoco: the constrained MuJoCo benchmark tasks as an acrl plugin.

- :mod:`acrl_mujoco.constraints` — the named constraints (``reacher-l2``,
  ``halfcheetah-o20``, ``hopper-m10``, ... the Kasaura set) and the three families they
  need beyond acrl's core (:class:`TipSpeedConstraint`, :class:`AngleMomentConstraint`,
  :class:`SineWeightedBall`).
- :mod:`acrl_mujoco.envs` — :class:`HopperVelEnv` (ARAM's HopperVel reward),
  ``make_half_cheetah_slew`` (HalfCheetah-v5 observing its previous action, for
  ``ACRL/HalfCheetahSlew-v0``) and
  Gymnasium's HalfCheetah v4/v5 compiled without MuJoCo's ``settotalmass`` warning.
- :mod:`acrl_mujoco.velocity` — :class:`VelocityCost` and the ``Safe*Velocity-v1`` tasks.
- :mod:`acrl_mujoco.plugin` — the hook implementations (entry point ``mujoco``).

Task ids (``ACRL/ReacherL2-v0``, ...) are registered when acrl loads plugins::

    import gymnasium as gym
    import acrl_wrappers as acrl

    acrl.load_plugins()
    env = gym.make("ACRL/HalfCheetahO20-v0", enforce="automdp")
"""

from acrl_mujoco.constraints import AngleMomentConstraint, SineWeightedBall, TipSpeedConstraint
from acrl_mujoco.envs import HopperVelEnv
from acrl_mujoco.velocity import VELOCITY_THRESHOLDS, VelocityCost

__all__ = [
    "VELOCITY_THRESHOLDS",
    "AngleMomentConstraint",
    "HopperVelEnv",
    "SineWeightedBall",
    "TipSpeedConstraint",
    "VelocityCost",
]
