"""A plugin with a misspelled hook name."""

from acrl_wrappers import PowerConstraint, hookimpl


@hookimpl
def register_constraint(register):
    register("broken-hook", PowerConstraint)
