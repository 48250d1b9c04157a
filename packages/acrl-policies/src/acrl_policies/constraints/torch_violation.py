"""Constraint violations as batched torch functions with (sub)gradients, on the actions' device.

- :func:`torch_violation` — ``constraint.violation(actions, obs)`` in torch: the sum of the
  positive parts of every row, box included; equal to the numpy one to rounding.
- :func:`torch_rows` — the family's rows ``g_j(a, s)`` (box excluded), ``(N, m)``.
- :func:`has_torch_violation` — whether a constraint has them.
- :func:`register_torch_rows` — how a plugin family adds its own.

Every built-in family has rows here: box (with state bounds), ball, power, positive
power, linear, sum band, quadratic, simplex, capped simplex, PSD, slew rate and
intersections of these. A family's torch rows are used for a subclass only while the
subclass keeps the family's ``rows`` (a subclass that changes a parameter hook, such as
the weights or the matrix, is handled: see :mod:`acrl_policies.constraints.torch_params`).
A family with its own ``rows`` and no registered torch rows has none, and the methods that
need a gradient of the constraint say so (:class:`~acrl_policies.errors.NoTorchViolationError`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from acrl_policies.constraints.torch_params import as_obs_tensor, constant, parameter, weights
from acrl_policies.errors import NoTorchViolationError
from acrl_wrappers import Constraint
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
    SlewRateConstraint,
    SumBandConstraint,
)

__all__ = ["has_torch_violation", "register_torch_rows", "torch_rows", "torch_violation"]

RowsFunction = Callable[[Any, torch.Tensor, "torch.Tensor | None"], torch.Tensor]
"""``rows(constraint, actions (N, d), obs (N or 1, k) or None) -> (N, m)``."""

_ROWS: dict[type[Constraint], RowsFunction] = {}
_ROUNDING = 2.0**-52  # as acrl_wrappers.constraints.simplex


def register_torch_rows(family: type[Constraint], rows: RowsFunction) -> None:
    """Give ``family`` (and subclasses that keep its ``rows``) torch rows.

    Args:
        family: the constraint class.
        rows: ``rows(constraint, actions, obs)`` returning the ``(N, m)`` rows of
            ``family.rows`` in torch, ``actions`` ``(N, dim)`` and ``obs`` ``(N, k)``,
            ``(1, k)`` or ``None``, all on one device.

    Example:
        >>> import acrl_wrappers as acrl
        >>> class HalfPlane(acrl.Constraint):
        ...     family = "half-plane-doc"
        ...     def rows(self, actions, obs):
        ...         return actions[:, :1] - 0.5
        ...     def _params(self):
        ...         return {}
        >>> register_torch_rows(HalfPlane, lambda c, a, obs: a[:, :1] - 0.5)
        >>> torch_violation(HalfPlane(dim=2), torch.tensor([[0.75, 0.0]])).tolist()
        [0.25]
    """
    _ROWS[family] = rows


def _rows_function(constraint: Constraint) -> RowsFunction | None:
    cls = type(constraint)
    for base in cls.__mro__:
        fn = _ROWS.get(base)  # type: ignore[arg-type]
        if fn is not None:
            return fn if cls.rows is base.rows else None  # type: ignore[attr-defined]
    return None


def has_torch_violation(constraint: Constraint) -> bool:
    """Whether :func:`torch_violation` can evaluate ``constraint`` (members included).

    Example:
        >>> import acrl_wrappers as acrl
        >>> has_torch_violation(acrl.make_constraint("power", bound=20.0, weight_index="11:17"))
        True
    """
    if _rows_function(constraint) is None:
        return False
    if isinstance(constraint, IntersectionConstraint):
        return all(has_torch_violation(m) for m in constraint.members)
    if isinstance(constraint, SlewRateConstraint):
        return has_torch_violation(constraint.inner)
    return True


def torch_rows(constraint: Constraint, actions: torch.Tensor, obs: Any = None) -> torch.Tensor:
    """The rows ``g_j(a, s)`` of ``constraint`` (box excluded) for ``(N, dim)`` actions.

    Raises:
        NoTorchViolationError: the family has no torch rows (names the alternatives).

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("ball", bound=0.05, dim=2)
        >>> torch_rows(c, torch.tensor([[0.3, 0.0]], dtype=torch.float64)).tolist()
        [[0.04]]
    """
    fn = _rows_function(constraint)
    if fn is None:
        raise NoTorchViolationError(_missing(constraint))
    return fn(constraint, actions, as_obs_tensor(obs, actions) if constraint.obs_dim else None)


def torch_violation(constraint: Constraint, actions: torch.Tensor, obs: Any = None) -> torch.Tensor:
    """``constraint.violation(actions, obs)`` as a differentiable tensor on ``actions``' device.

    The sum of the positive parts of the box rows and of every family row; 0 inside the
    set, and its (sub)gradient points out of it.

    Args:
        constraint: an acrl constraint with torch rows (:func:`has_torch_violation`).
        actions: ``(N, dim)`` (or one ``(dim,)``) actions in the constraint's units.
        obs: ``(N, k)`` or ``(k,)`` observations (tensor or array), ``None`` when the
            constraint reads no state.

    Returns:
        ``(N,)`` violations (a 0-d tensor for one action), dtype and device of ``actions``.

    Raises:
        NoTorchViolationError: the family has no torch rows (names the alternatives).

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("power", bound=1.0, dim=2)
        >>> a = torch.tensor([[0.9, 0.6]], dtype=torch.float64, requires_grad=True)
        >>> v = torch_violation(c, a)
        >>> v.sum().backward()
        >>> round(v.item(), 6), a.grad.tolist()
        (0.5, [[1.0, 1.0]])
    """
    single = actions.ndim == 1
    a = actions.reshape(1, -1) if single else actions
    rows = torch_rows(constraint, a, obs)
    low, high = constant(constraint.low, a), constant(constraint.high, a)
    total = torch.relu(a - high).sum(dim=1) + torch.relu(low - a).sum(dim=1)
    if rows.shape[1]:
        total = total + torch.relu(rows).sum(dim=1)
    return total[0] if single else total


def _missing(constraint: Constraint) -> str:
    name = type(constraint).__name__
    return (
        f"{name} ({constraint.family!r}) has no torch violation: its rows are computed in "
        "numpy only. Register them with acrl_policies.constraints.register_torch_rows("
        f"{name}, rows), or use a method that needs no gradient of the constraint: DPre or "
        "DPro with penalty=0, FlowPG, ARAM, or violation_with_gradient "
        "(acrl_policies.flows.violation, finite differences)"
    )


# ---------------------------------------------------------------------------- families
def _no_rows(c: Constraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    return a.new_zeros((a.shape[0], 0))


def _box_rows(c: BoxConstraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    if not c.state_dependent:
        return _no_rows(c, a, obs)
    parts = []
    if c.lower is not None:
        parts.append(torch.maximum(constant(c.low, a), parameter(c.lower, obs, a)) - a)
    if c.upper is not None:
        parts.append(a - torch.minimum(constant(c.high, a), parameter(c.upper, obs, a)))
    return torch.cat([p.expand(a.shape[0], -1) for p in parts], dim=1)


def _ball_rows(c: BallConstraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    if type(c).squared_radius is not BallConstraint.squared_radius:
        r2 = constant(c.squared_radius(None if obs is None else obs.detach().cpu().numpy()), a)
    elif c.bound is not None:
        r2 = constant(c.bound, a).reshape(1)
    else:
        value = parameter(c.radius_param, obs, a)[:, 0]
        r2 = value if c._squared else value * value
    scaled = weights(c.weights, obs, a) * (a - parameter(c.center_param, obs, a))
    return ((scaled * scaled).sum(dim=1) - r2)[:, None]


def _power_rows(c: PowerConstraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    return (weights(c.weights, obs, a) * a).abs().sum(dim=1, keepdim=True) - c.bound


def _positive_power_rows(
    c: PositivePowerConstraint, a: torch.Tensor, obs: torch.Tensor | None
) -> torch.Tensor:
    return torch.relu(weights(c.weights, obs, a) * a).sum(dim=1, keepdim=True) - c.bound


def _linear_rows(c: LinearConstraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    b = parameter(c.b_param, obs, a)
    if c.A is not None:
        return a @ constant(c.A, a).T - b
    rows = [parameter(p, obs, a).expand(a.shape[0], -1) for p in c.row_params]
    return torch.einsum("nmd,nd->nm", torch.stack(rows, dim=1), a) - b


def _sum_band_rows(c: SumBandConstraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    total = a.sum(dim=1, keepdim=True) - c.target
    return torch.cat([total - c.width, -total - c.width], dim=1)


def _quadratic_rows(
    c: QuadraticConstraint, a: torch.Tensor, obs: torch.Tensor | None
) -> torch.Tensor:
    if type(c).matrix is QuadraticConstraint.matrix:
        q = constant(c.Q, a)
    else:  # a state-dependent subclass: its own matrix(obs), computed in numpy
        q = constant(c.matrix(None if obs is None else obs.detach().cpu().double().numpy()), a)
    if q.ndim == 3 and q.shape[0] == 1:
        q = q[0]
    form = torch.einsum("ij,jk,ik->i" if q.ndim == 2 else "ij,ijk,ik->i", a, q, a)
    return form[:, None] - c.bound


def _simplex_rows(
    c: CappedSimplexConstraint, a: torch.Tensor, obs: torch.Tensor | None
) -> torch.Tensor:
    high = constant(c.high, a).reshape(1, -1)
    hi = high if c.caps is None else torch.minimum(high, parameter(c.caps, obs, a))
    t = parameter(c.total, obs, a)[:, 0]
    floor_rows = torch.as_tensor(c._floor_rows, device=a.device, dtype=torch.long)
    parts = [constant(c._floor[c._floor_rows], a) - a.index_select(1, floor_rows)]
    if c.caps is not None:
        parts.append(a - hi)
    gap = a.sum(dim=1) - t
    slack = _ROUNDING * c.dim * (a.abs().sum(dim=1) + t.abs())
    parts.append(torch.stack([gap - slack, -gap - slack], dim=1))
    return torch.cat([p.expand(a.shape[0], -1) for p in parts], dim=1)


def psd_matrices(c: PSDConstraint, a: torch.Tensor) -> torch.Tensor:
    """The ``(N, n, n)`` matrices of ``(N, dim)`` PSD actions, as the layout stores them.

    Example:
        >>> import acrl_wrappers as acrl
        >>> c = acrl.make_constraint("psd", n=2)
        >>> psd_matrices(c, torch.tensor([[1.0, 2**0.5, 3.0]])).tolist()
        [[[1.0, 1.0], [1.0, 3.0]]]
    """
    n = c.n
    if c.shape.layout == "full":
        return a.reshape(a.shape[0], n, n)
    iu = c.shape._iu
    values = a / constant(c.shape._scale, a)
    m = a.new_zeros((a.shape[0], n, n))
    m[:, iu[0], iu[1]] = values
    m[:, iu[1], iu[0]] = values
    return m


def _psd_rows(c: PSDConstraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    m = psd_matrices(c, a)
    if c.shape.layout == "svec":
        return c.eps - torch.linalg.eigvalsh(m)
    eig = c.eps - torch.linalg.eigvalsh(0.5 * (m + m.transpose(1, 2)))
    i, j = c._iu
    gap = m[:, i, j] - m[:, j, i]
    return torch.cat([eig, gap, -gap], dim=1)


def _slew_rows(c: SlewRateConstraint, a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
    return torch_rows(c.inner, a, obs)


def _intersection_rows(
    c: IntersectionConstraint, a: torch.Tensor, obs: torch.Tensor | None
) -> torch.Tensor:
    return torch.cat([torch_rows(m, a, obs) for m in c.members], dim=1)


for _family, _fn in (
    (Constraint, _no_rows),
    (BoxConstraint, _box_rows),
    (BallConstraint, _ball_rows),
    (PowerConstraint, _power_rows),
    (PositivePowerConstraint, _positive_power_rows),
    (LinearConstraint, _linear_rows),
    (SumBandConstraint, _sum_band_rows),
    (QuadraticConstraint, _quadratic_rows),
    (CappedSimplexConstraint, _simplex_rows),
    (PSDConstraint, _psd_rows),
    (SlewRateConstraint, _slew_rows),
    (IntersectionConstraint, _intersection_rows),
):
    register_torch_rows(_family, _fn)  # type: ignore[arg-type]
