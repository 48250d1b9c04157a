"""Built-in plugin registering the core projectors."""

from __future__ import annotations

from acrl_wrappers.hookspecs import RegisterProjector, hookimpl
from acrl_wrappers.projection import ClosedFormProjector, NonlinearProjector, OSQPProjector


@hookimpl
def register_projectors(register: RegisterProjector) -> None:
    """Register closed-form (priority 100), OSQP (50) and nonlinear (0) projectors."""
    register(ClosedFormProjector.name, ClosedFormProjector)
    register(OSQPProjector.name, OSQPProjector)
    register(NonlinearProjector.name, NonlinearProjector)
