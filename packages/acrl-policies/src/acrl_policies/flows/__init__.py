"""Normalizing flows that map a simple base distribution onto a constraint's feasible set.

- :class:`ConditionalSplineFlow` — the default flow (spline couplings, box onto box);
- :class:`ConditionalRealNVP` — FlowPG's and CV-Flow's flow (affine couplings);
- :class:`MollifiedUniform`, :class:`StandardNormal` — base distributions;
- :func:`rejection_sample`, :class:`ReflectiveHMC` — feasible (action, condition) samples;
- :func:`train_flow` — FlowPG's maximum likelihood or CV-Flow's reverse KL;
- :class:`FlowCheckpoint` — a trained flow with the constraint it serves;
- :class:`NumpyFlow` — a frozen numpy copy for fast batch-1 inference.

Example:
    >>> import numpy as np
    >>> ckpt = train_flow("reacher-l2", method="cvflow", epochs=1, steps_per_epoch=20,
    ...                   n_layers=2, hidden=16, eval_samples=500)
    >>> ckpt.actions(np.zeros((1, 2))).shape
    (1, 2)
"""

from __future__ import annotations

from acrl_policies.flows.bases import BaseDistribution, MollifiedUniform, StandardNormal, make_base
from acrl_policies.flows.checkpoint import FLOW_FORMAT, FlowCheckpoint
from acrl_policies.flows.conditions import ConditionDistribution, Conditioning
from acrl_policies.flows.metrics import balanced_feasible_samples, evaluate_flow
from acrl_policies.flows.numpy_flow import NumpyFlow
from acrl_policies.flows.real_nvp import AffineCoupling, ConditionalRealNVP
from acrl_policies.flows.registry import make_flow, make_sampler
from acrl_policies.flows.samplers import (
    HMCDiagnostics,
    ReflectiveHMC,
    effective_sample_size,
    rejection_sample,
    split_rhat,
)
from acrl_policies.flows.spline import (
    ConditionalSplineFlow,
    SplineCoupling,
    rational_quadratic_spline,
)
from acrl_policies.flows.training import FlowTrainingConfig, train_flow
from acrl_policies.flows.violation import violation_scale, violation_with_gradient
from acrl_policies.flows.visited import task_condition, visited_conditions

__all__ = [
    "FLOW_FORMAT",
    "AffineCoupling",
    "BaseDistribution",
    "ConditionDistribution",
    "ConditionalRealNVP",
    "ConditionalSplineFlow",
    "Conditioning",
    "FlowCheckpoint",
    "FlowTrainingConfig",
    "HMCDiagnostics",
    "MollifiedUniform",
    "NumpyFlow",
    "ReflectiveHMC",
    "SplineCoupling",
    "StandardNormal",
    "balanced_feasible_samples",
    "effective_sample_size",
    "evaluate_flow",
    "make_base",
    "make_flow",
    "make_sampler",
    "rational_quadratic_spline",
    "rejection_sample",
    "split_rhat",
    "task_condition",
    "train_flow",
    "violation_scale",
    "violation_with_gradient",
    "visited_conditions",
]
