"""Projectors: the Euclidean nearest feasible action.

- :class:`Projector` — the interface: ``project(action, obs) -> (action, ProjectionInfo)``.
- :class:`ProjectionInfo` — what a call did (moved?, distance, solves, status).
- :class:`ClosedFormProjector` (``closed-form``) — exact formulas; preferred.
- :class:`OSQPProjector` (``osqp``) — the QP form, set up once and updated in place.
- :class:`NonlinearProjector` (``nonlinear``) — SLSQP from several starts; any family.
- :mod:`~acrl_wrappers.projection.euclidean` — the exact projection formulas;
  :mod:`~acrl_wrappers.projection.sums` (simplices, one action),
  :mod:`~acrl_wrappers.projection.batched` (batches), :mod:`~acrl_wrappers.projection.spectral`
  and :mod:`~acrl_wrappers.projection.small_symmetric` (PSD matrices).
- :class:`QPForm` — a constraint as linear rows over action and auxiliary variables.

``acrl.make_projector(constraint)`` picks the highest-priority projector that supports
the constraint; plugins add projectors through the ``register_projectors`` hook.
"""

from acrl_wrappers.projection.base import ProjectionInfo, Projector
from acrl_wrappers.projection.closed_form import ClosedFormProjector
from acrl_wrappers.projection.nonlinear import NonlinearProjector
from acrl_wrappers.projection.osqp_projector import OSQPProjector
from acrl_wrappers.projection.qp import QPForm

__all__ = [
    "ClosedFormProjector",
    "NonlinearProjector",
    "OSQPProjector",
    "ProjectionInfo",
    "Projector",
    "QPForm",
]
