"""The Euclidean projection onto a constraint as a differentiable, batched torch layer.

:class:`DifferentiableProjection` picks, once, at construction:

- ``"closed-form"`` — exact projections written in torch (on the actions' device, with
  autograd through the active-set formula; :mod:`acrl_policies.constraints.closed_form`)
  for the box (with state bounds), round balls, the power and positive-power budgets
  (box containing 0), single linear rows, sum bands, simplices, capped simplices, slew
  limits, and intersections whose only constrained member is one of these;
- ``"qp"`` — the QP-representable rest (several linear rows, intersections of polyhedral
  members, budgets over a box without 0, plugin families with a QP form): OSQP forward,
  implicit differentiation of the KKT system backward
  (:class:`~acrl_policies.constraints.qp_layer.QPProjection`);

and refuses anything else (non-convex sets, quadratic and PSD sets, weighted balls,
plugin families without a QP form) with
:class:`~acrl_policies.errors.NoDifferentiablePathError` naming the alternatives, so no
method ever trains on a silent zero gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from acrl_policies.constraints.closed_form import (
    project_ball_box,
    project_budget_box,
    project_slab_box,
)
from acrl_policies.constraints.qp_layer import QPProjection
from acrl_policies.constraints.torch_params import as_obs_tensor, constant, parameter, weights
from acrl_policies.errors import NoDifferentiablePathError
from acrl_wrappers import Constraint, make_constraint
from acrl_wrappers.constraints import (
    BallConstraint,
    BoxConstraint,
    CappedSimplexConstraint,
    IntersectionConstraint,
    LinearConstraint,
    PositivePowerConstraint,
    PowerConstraint,
    SimplexConstraint,
    SlewRateConstraint,
    SumBandConstraint,
)

__all__ = ["DifferentiableProjection", "differentiable_path"]

TorchProjection = Callable[[torch.Tensor, "torch.Tensor | None"], torch.Tensor]


def _box(c: BoxConstraint) -> TorchProjection:
    def project(a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
        lo, hi = constant(c.low, a).reshape(1, -1), constant(c.high, a).reshape(1, -1)
        if c.lower is not None:
            lo = torch.maximum(lo, parameter(c.lower, obs, a))
        if c.upper is not None:
            hi = torch.minimum(hi, parameter(c.upper, obs, a))
        return torch.clamp(a, lo, hi)

    return project


def _ball(c: BallConstraint) -> TorchProjection:
    w2 = float(c.weights.scale[0]) ** 2

    def project(a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
        if c.bound is not None:
            r2 = constant([c.bound], a)
        else:
            value = parameter(c.radius_param, obs, a)[:, 0]
            r2 = value if c._squared else value * value
        center = parameter(c.center_param, obs, a)
        lo, hi = constant(c.low, a).reshape(1, -1), constant(c.high, a).reshape(1, -1)
        return project_ball_box(a, center, r2 / w2, lo, hi)

    return project


def _budget(c: PowerConstraint | PositivePowerConstraint) -> TorchProjection:
    positive_only = c.positive_only

    def project(a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
        w = weights(c.weights, obs, a)
        u = w.abs()
        if positive_only:  # braking costs nothing: those coordinates are only clipped
            u = torch.where((w * a.detach()) > 0, u, torch.zeros_like(u))
        lo, hi = constant(c.low, a).reshape(1, -1), constant(c.high, a).reshape(1, -1)
        return project_budget_box(a, u, c.bound, lo, hi)

    return project


def _slab(
    row: Callable[[torch.Tensor, torch.Tensor | None], tuple[Any, Any, Any, Any, Any]],
) -> TorchProjection:
    def project(a: torch.Tensor, obs: torch.Tensor | None) -> torch.Tensor:
        r, lower, upper, lo, hi = row(a, obs)
        return project_slab_box(a, r, lower, upper, lo, hi)

    return project


def _linear_row(c: LinearConstraint) -> TorchProjection:
    def row(a: torch.Tensor, obs: torch.Tensor | None) -> tuple[Any, ...]:
        r = constant(c.A, a) if c.A is not None else parameter(c.row_params[0], obs, a)
        upper = parameter(c.b_param, obs, a)[:, 0]
        lower = torch.full_like(upper, -float("inf"))
        return r, lower, upper, constant(c.low, a)[None], constant(c.high, a)[None]

    return _slab(row)


def _sum_band(c: SumBandConstraint) -> TorchProjection:
    def row(a: torch.Tensor, obs: torch.Tensor | None) -> tuple[Any, ...]:
        ones = torch.ones_like(a[:1])
        lower = constant([c.target - c.width], a)
        upper = constant([c.target + c.width], a)
        return ones, lower, upper, constant(c.low, a)[None], constant(c.high, a)[None]

    return _slab(row)


def _simplex(c: CappedSimplexConstraint) -> TorchProjection:
    def row(a: torch.Tensor, obs: torch.Tensor | None) -> tuple[Any, ...]:
        high = constant(c.high, a)[None]
        hi = high if c.caps is None else torch.minimum(high, parameter(c.caps, obs, a))
        total = parameter(c.total, obs, a)[:, 0]
        return torch.ones_like(a[:1]), total, total, constant(c._floor, a)[None], hi

    return _slab(row)


def _closed_form(c: Constraint) -> TorchProjection | None:
    """The torch closed form of ``c``'s family (exact built-in types only), or ``None``."""
    kind = type(c)
    if kind is BoxConstraint:
        return _box(c)  # type: ignore[arg-type]
    if kind is BallConstraint and c._round and c.weights.scale[0] != 0.0:  # type: ignore[attr-defined]
        return _ball(c)  # type: ignore[arg-type]
    if kind in (PowerConstraint, PositivePowerConstraint) and c._zero_in_box:  # type: ignore[attr-defined]
        return _budget(c)  # type: ignore[arg-type]
    if kind is LinearConstraint and c.n_rows == 1:  # type: ignore[attr-defined]
        return _linear_row(c)  # type: ignore[arg-type]
    if kind is SumBandConstraint:
        return _sum_band(c)  # type: ignore[arg-type]
    if kind in (CappedSimplexConstraint, SimplexConstraint):
        return _simplex(c)  # type: ignore[arg-type]
    if kind is SlewRateConstraint:
        return _closed_form(c.inner)  # type: ignore[attr-defined]
    if kind is IntersectionConstraint and c._closed_form_member is not None:  # type: ignore[attr-defined]
        return _closed_form(c._closed_form_member)  # type: ignore[attr-defined]
    return None


def differentiable_path(constraint: Constraint) -> str | None:
    """How :class:`DifferentiableProjection` would differentiate ``constraint``, or ``None``.

    Returns:
        ``"closed-form"``, ``"qp"`` or ``None`` (no differentiable projection).

    Example:
        >>> import acrl_wrappers as acrl
        >>> differentiable_path(acrl.make_constraint("halfcheetah-o20"))
        'closed-form'
        >>> differentiable_path(acrl.make_constraint("linear", A=[[1, 1], [1, -1]], b=[1, 0]))
        'qp'
    """
    if _closed_form(constraint) is not None:
        return "closed-form"
    if constraint.convex and constraint.qp_form() is not None:
        return "qp"
    return None


class DifferentiableProjection(torch.nn.Module):
    """The Euclidean projection onto a constraint as a batched, differentiable torch layer.

    OptLayer's final actor layer (Pham et al., ICRA 2018; Kasaura et al., arXiv:2304.08743,
    ``nn/opt_layer``, which uses cvxpylayers): ``x = argmin_{y in C(s)} ||y - a||``, in the
    constraint's (the env's) action units. Its gradient is the exact derivative of the
    projection on its active set: the projection onto the tangent space of the active
    rows and box faces. Closed-form families run entirely in torch, on the actions'
    device; QP-representable ones solve on the CPU (OSQP) and differentiate in torch.

    Args:
        constraint: a constraint, a registered name or a spec.

    Raises:
        NoDifferentiablePathError: the constraint has no closed form in torch and no QP
            form (or is not convex); the message names the alternatives.

    Example:
        >>> import acrl_wrappers as acrl
        >>> layer = DifferentiableProjection("reacher-l2")
        >>> a = torch.tensor([[0.3, 0.4]], dtype=torch.float64, requires_grad=True)
        >>> x = layer(a)
        >>> x.sum().backward()
        >>> layer.method, x.detach().round(decimals=4).tolist(), a.grad.round(decimals=4).tolist()
        ('closed-form', [[0.1342, 0.1789]], [[0.0716, -0.0537]])

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(self, constraint: Constraint | str | dict[str, Any]) -> None:
        super().__init__()
        self.constraint = make_constraint(constraint)
        path = differentiable_path(self.constraint)
        if path is None:
            raise NoDifferentiablePathError(_refusal(self.constraint))
        self.method = path
        self._closed = _closed_form(self.constraint)
        self._qp = QPProjection(self.constraint) if path == "qp" else None

    def forward(self, actions: torch.Tensor, obs: Any = None) -> torch.Tensor:  # type: ignore[override]
        """Project ``(N, dim)`` (or one ``(dim,)``) actions, observations ``(N, k)`` or ``(k,)``."""
        single = actions.ndim == 1
        a = actions.reshape(1, -1) if single else actions
        reads = self.constraint.obs_dim > 0
        if self._closed is not None:
            out = self._closed(a, as_obs_tensor(obs, a) if reads else None)
        else:
            assert self._qp is not None
            out = self._qp(a, _numpy_obs(obs) if reads else None)
        return out[0] if single else out

    project = forward

    def extra_repr(self) -> str:
        """The family and the method, in the module's repr."""
        return f"{self.constraint.family!r}, method={self.method!r}"


def _numpy_obs(obs: Any) -> np.ndarray | None:
    if obs is None:
        return None
    if isinstance(obs, torch.Tensor):
        obs = obs.detach().cpu().double().numpy()
    out = np.asarray(obs, dtype=np.float64)
    return out.reshape(1, -1) if out.ndim == 1 else out


def _refusal(c: Constraint) -> str:
    why = "it is not convex" if not c.convex else "it has no closed form in torch and no QP form"
    return (
        f"no differentiable projection onto {type(c).__name__} ({c.family!r}): {why}. "
        "Use a method that projects without differentiating: DPre or DPro (acrl_policies), "
        "FlowPG, ARAM, or SAC/TD3 with enforce='project'; or give the family a QP form "
        "(Constraint.qp_form) so the OSQP layer can differentiate it"
    )
