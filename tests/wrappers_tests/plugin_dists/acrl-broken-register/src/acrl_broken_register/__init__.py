"""A plugin that registers garbage (and one valid name that must be rolled back)."""

from acrl_wrappers import PowerConstraint, hookimpl


@hookimpl
def register_constraints(register):
    register("broken-register-valid", PowerConstraint)
    register("not a name", 42)
