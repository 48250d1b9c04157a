"""A plugin that registers a name a built-in family (``power``) owns."""

from acrl_wrappers import BallConstraint, hookimpl


@hookimpl
def register_constraints(register):
    register("power", BallConstraint)
