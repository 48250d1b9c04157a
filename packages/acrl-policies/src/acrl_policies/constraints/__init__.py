"""Constraints in torch: violations, a differentiable projection and the linear oracle.

- :func:`torch_violation` / :func:`has_torch_violation` / :func:`register_torch_rows` —
  every built-in family's violation as a batched torch function with (sub)gradients
  (:mod:`~acrl_policies.constraints.torch_violation`);
- :class:`DifferentiableProjection` — the Euclidean projection as a torch layer: closed
  forms in torch, QP-representable sets by OSQP and implicit differentiation
  (:mod:`~acrl_policies.constraints.projection`, :mod:`~acrl_policies.constraints.qp_layer`);
- :class:`LinearMaximizationOracle` — ``argmax_{x in C(s)} g . x`` (Frank-Wolfe / NFWPO),
  closed forms in torch, a batched HiGHS linear program otherwise
  (:mod:`~acrl_policies.constraints.lmo`).

Example:
    >>> import torch, acrl_wrappers as acrl
    >>> c = acrl.make_constraint("reacher-l2")
    >>> a = torch.tensor([[0.3, 0.0]], dtype=torch.float64)
    >>> round(torch_violation(c, a).item(), 6), DifferentiableProjection(c).method
    (0.04, 'closed-form')
"""

from acrl_policies.constraints.lmo import LinearMaximizationOracle
from acrl_policies.constraints.projection import DifferentiableProjection, differentiable_path
from acrl_policies.constraints.torch_violation import (
    has_torch_violation,
    register_torch_rows,
    torch_rows,
    torch_violation,
)

__all__ = [
    "DifferentiableProjection",
    "LinearMaximizationOracle",
    "differentiable_path",
    "has_torch_violation",
    "register_torch_rows",
    "torch_rows",
    "torch_violation",
]
