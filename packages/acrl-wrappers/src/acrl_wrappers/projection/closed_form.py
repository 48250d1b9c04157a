"""The closed-form projector: exact formulas provided by the constraint family."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acrl_wrappers._arrays import FloatArray
from acrl_wrappers.errors import ProjectionError
from acrl_wrappers.projection.base import Projector

if TYPE_CHECKING:
    from acrl_wrappers.constraints.base import Constraint

__all__ = ["ClosedFormProjector"]


class ClosedFormProjector(Projector):
    """Projects with the family's exact formula (box, ball, power budgets, sum band, ...).

    Preferred whenever the constraint has one (:attr:`Constraint.has_closed_form`): no
    solver, a few microseconds per call.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("power", bound=1.0, dim=2)
        >>> action, info = ClosedFormProjector(c).project([0.9, 0.6])
        >>> action.round(6).tolist(), info.method
        ([0.65, 0.35], 'closed-form')
    """

    name = "closed-form"
    priority = 100

    @classmethod
    def supports(cls, constraint: Constraint) -> bool:
        """Constraints whose family answers every input in closed form."""
        return constraint.has_closed_form

    def _project(self, action: FloatArray, obs: FloatArray | None) -> FloatArray:
        x = self.constraint.project_closed_form(action, obs)
        if x is None:
            raise ProjectionError("no closed form for this input", status="unsupported")
        return x

    def _project_rows(self, actions: FloatArray, obs: FloatArray | None) -> FloatArray:
        """The family's batched closed form in one pass, if it has one, else row by row."""
        x = self.constraint.project_closed_form_batch(actions, obs)
        return super()._project_rows(actions, obs) if x is None else x

    def _status(self) -> str:
        return "closed-form"
