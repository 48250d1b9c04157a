"""Constraint families: state-dependent feasible sets of actions.

- :class:`Constraint` — the interface (``violation``, ``contains``, ``sample``, ``spec``).
- :class:`BoxConstraint` (``box``) — the action box alone.
- :class:`BallConstraint` (``ball``) — weighted L2 ball ``sum (w (a - c))^2 <= bound``.
- :class:`PowerConstraint` (``power``) — weighted L1 budget ``sum |w a| <= bound``.
- :class:`PositivePowerConstraint` (``positive-power``) — ``sum max(w a, 0) <= bound``.
- :class:`LinearConstraint` (``linear``) — ``A a <= b``.
- :class:`QuadraticConstraint` (``quadratic``) — ``a^T Q a <= bound``.
- :class:`SumBandConstraint` (``sum-band``) — ``|sum a - target| <= width``.
- :class:`IntersectionConstraint` (``intersection``) — all members at once.
- :class:`StateWeights` — weights read from the observation by index.

Every family includes the action box and is registered by name through the same plugin
hook third parties use, so ``acrl.make_constraint("power", bound=20, weight_index="11:17")``
and ``acrl.make_constraint({"name": "power", ...})`` build them.
"""

from acrl_wrappers.constraints.ball import BallConstraint
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint, StateWeights
from acrl_wrappers.constraints.box import BoxConstraint
from acrl_wrappers.constraints.intersection import IntersectionConstraint
from acrl_wrappers.constraints.linear import LinearConstraint, SumBandConstraint
from acrl_wrappers.constraints.power import PositivePowerConstraint, PowerConstraint
from acrl_wrappers.constraints.quadratic import QuadraticConstraint

__all__ = [
    "DEFAULT_TOL",
    "BallConstraint",
    "BoxConstraint",
    "Constraint",
    "IntersectionConstraint",
    "LinearConstraint",
    "PositivePowerConstraint",
    "PowerConstraint",
    "QuadraticConstraint",
    "StateWeights",
    "SumBandConstraint",
]
