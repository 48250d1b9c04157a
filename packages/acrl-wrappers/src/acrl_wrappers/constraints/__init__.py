"""Constraint families: state-dependent feasible sets of actions.

- :class:`Constraint` — the interface (``violation``, ``contains``, ``sample``, ``spec``).
- :class:`BoxConstraint` (``box``) — the action box, optionally with bounds ``low(s)``,
  ``high(s)`` read from the state (``lower`` / ``upper``).
- :class:`BallConstraint` (``ball``) — weighted L2 ball ``sum (w (a - c(s)))^2 <= r(s)^2``.
- :class:`PowerConstraint` (``power``) — weighted L1 budget ``sum |w a| <= bound``.
- :class:`PositivePowerConstraint` (``positive-power``) — ``sum max(w a, 0) <= bound``.
- :class:`LinearConstraint` (``linear``) — ``A a <= b``.
- :class:`QuadraticConstraint` (``quadratic``) — ``a^T Q a <= bound``.
- :class:`SumBandConstraint` (``sum-band``) — ``|sum a - target| <= width``.
- :class:`IntersectionConstraint` (``intersection``) — all members at once.
- :class:`SlewRateConstraint` (``slew-rate``) — ``|a - a_prev| <= delta`` (per component or L2).
- :class:`SimplexConstraint` (``simplex``) — ``a >= 0, sum a = total``.
- :class:`CappedSimplexConstraint` (``capped-simplex``) — ``0 <= a_i <= u_i, sum a = total``.
- :class:`PSDConstraint` (``psd``) — a flattened symmetric matrix with ``lambda_min >= eps``.
- :class:`StateParameter` — a parameter read from the observation (index, scale, offset).
- :class:`StateWeights` — weights read from the observation by index.
- :mod:`~acrl_wrappers.constraints.helpers` — public helpers for writing families.

Every family includes the action box and is registered by name through the same plugin
hook third parties use, so ``acrl.make_constraint("power", bound=20, weight_index="11:17")``
and ``acrl.make_constraint({"name": "power", ...})`` build them.
"""

from acrl_wrappers.constraints.ball import BallConstraint
from acrl_wrappers.constraints.base import DEFAULT_TOL, Constraint, constraint_from_spec
from acrl_wrappers.constraints.box import BoxConstraint
from acrl_wrappers.constraints.helpers import (
    float_scalar,
    float_vector,
    index_list,
    infer_dim,
    log_unit_ball_volume,
    uniform_in_ball,
)
from acrl_wrappers.constraints.intersection import IntersectionConstraint
from acrl_wrappers.constraints.linear import LinearConstraint, SumBandConstraint
from acrl_wrappers.constraints.power import PositivePowerConstraint, PowerConstraint
from acrl_wrappers.constraints.psd import PSDConstraint
from acrl_wrappers.constraints.quadratic import QuadraticConstraint
from acrl_wrappers.constraints.simplex import CappedSimplexConstraint, SimplexConstraint
from acrl_wrappers.constraints.slew import SlewRateConstraint
from acrl_wrappers.constraints.state import StateParameter, StateWeights

__all__ = [
    "DEFAULT_TOL",
    "BallConstraint",
    "BoxConstraint",
    "CappedSimplexConstraint",
    "Constraint",
    "IntersectionConstraint",
    "LinearConstraint",
    "PSDConstraint",
    "PositivePowerConstraint",
    "PowerConstraint",
    "QuadraticConstraint",
    "SimplexConstraint",
    "SlewRateConstraint",
    "StateParameter",
    "StateWeights",
    "SumBandConstraint",
    "constraint_from_spec",
    "float_scalar",
    "float_vector",
    "index_list",
    "infer_dim",
    "log_unit_ball_volume",
    "uniform_in_ball",
]
