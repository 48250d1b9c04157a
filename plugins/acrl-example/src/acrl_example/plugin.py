"""The plugin module named by the ``acrl`` entry point: hook implementations only.

Keep this module cheap to import: acrl imports it whenever plugins load.
"""

from __future__ import annotations

from functools import partial

from acrl_example.annulus import AnnulusConstraint, RadialProjector
from acrl_wrappers import hookimpl
from acrl_wrappers.hookspecs import RegisterConstraint, RegisterEnv, RegisterProjector


@hookimpl
def register_constraints(register: RegisterConstraint) -> None:
    """The family, and one named instance from the literature."""
    register("annulus", AnnulusConstraint, aliases=("ring",))
    register(
        "reacher-annulus",
        partial(AnnulusConstraint, lower=0.045, upper=0.05, dim=2),
        aliases=("R+L2LB",),
        doc="CV-Flow's non-convex Reacher constraint 0.045 <= a1^2 + a2^2 <= 0.05",
    )


@hookimpl
def register_projectors(register: RegisterProjector) -> None:
    """The exact projector for the family."""
    register(RadialProjector.name, RadialProjector)


@hookimpl
def register_envs(register: RegisterEnv) -> None:
    """A task: MuJoCo Reacher-v5 whose torques must keep 0.045 <= a1^2 + a2^2 <= 0.05."""
    register(
        "ACRL/ReacherAnnulus-v0",
        "gymnasium.envs.mujoco.reacher_v5:ReacherEnv",
        constraint="reacher-annulus",
        max_episode_steps=50,
        doc="Reacher-v5 with CV-Flow's non-convex annulus constraint (R+L2LB)",
    )
