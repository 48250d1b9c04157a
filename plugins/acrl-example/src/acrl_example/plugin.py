"""The plugin module named by the ``acrl`` entry point: hook implementations only.

Keep this module cheap to import: acrl imports it whenever plugins load.
"""

from __future__ import annotations

from functools import partial

from acrl_example.annulus import AnnulusConstraint, RadialProjector
from acrl_wrappers import hookimpl
from acrl_wrappers.hookspecs import RegisterConstraint, RegisterProjector


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
