"""Built-in plugin registering the core constraint families."""

from __future__ import annotations

from acrl_wrappers.constraints import (
    BallConstraint,
    BoxConstraint,
    CappedSimplexConstraint,
    IntersectionConstraint,
    LinearConstraint,
    PositivePowerConstraint,
    PowerConstraint,
    PSDConstraint,
    QuadraticConstraint,
    SimplexConstraint,
    SlewRateConstraint,
    SumBandConstraint,
)
from acrl_wrappers.hookspecs import RegisterConstraint, hookimpl


@hookimpl
def register_constraints(register: RegisterConstraint) -> None:
    """Register the core families under their spec names."""
    register("box", BoxConstraint, aliases=("none",))
    register("ball", BallConstraint, aliases=("l2", "l2-ball"))
    register("power", PowerConstraint, aliases=("weighted-l1", "orthoplex"))
    register("positive-power", PositivePowerConstraint, aliases=("max-power",))
    register("linear", LinearConstraint)
    register("quadratic", QuadraticConstraint)
    register("sum-band", SumBandConstraint)
    register("intersection", IntersectionConstraint, aliases=("all-of",))
    register("slew-rate", SlewRateConstraint, aliases=("rate-limit",))
    register("simplex", SimplexConstraint)
    register("capped-simplex", CappedSimplexConstraint)
    register("psd", PSDConstraint, aliases=("psd-cone",))
