"""Training a flow for a constraint, with either objective of the literature.

- ``method="flowpg"`` — maximum likelihood on feasible (action, condition) samples drawn
  by a sampler (``"rejection"`` or ``"hmc"``): ``-log p_base(f⁻¹(a, y)) - log|det|``
  (FlowPG, arXiv:2402.05149), plus a little reverse KL (weight 0.03, sigma annealed from
  1e-2 to 5e-4) that empties the infeasible corners the likelihood leaves.
- ``method="cvflow"`` — reverse KL from the flow's push-forward of the base to the target
  ``p(a | y) ∝ exp(-violation(a, y) / sigma)``: ``violation / sigma - log|det|`` on base
  samples (CV-Flow, arXiv:2502.10431), sigma annealed from 0.1 to 1.75e-3 (a wide target
  first, which the flow covers, then a sharp one), plus forward KL on feasible samples
  (weight 0.3) that keeps the mode-seeking reverse KL from collapsing onto part of the set.

Every sigma is in units of the constraint's violation scale (the median violation of an
infeasible uniform action, :func:`~acrl_policies.flows.violation_scale`, measured before
training: 0.61 on ``reacher-l2``, 11.7 on ``halfcheetah-o20``), so one default means the
same sharpness for every constraint, plugin ones included; ``violation_scale=1.0`` gives
the papers' raw units.

Both objectives are :class:`~acrl_policies.flows.objectives.FlowObjective`; the method
only picks its default weights and temperature (:data:`METHOD_DEFAULTS`), each of which a
setting overrides (``forward_kl_weight=0`` is the pure reverse KL of the CV-Flow paper).

Metrics (:func:`~acrl_policies.flows.evaluate_flow`: accuracy, recall, coverage, F1) are
evaluated after every epoch on fresh draws.

Budget: the papers train for 100–500 epochs at learning rate 1e-5 on a GPU; on a CPU the
defaults here use learning rate 1e-3 with cosine decay and a rational-quadratic spline
flow (``benchmarks/flows.py`` measures what that reaches and the ablations).
"""

from __future__ import annotations

import copy
import inspect
import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import numpy as np
import torch

from acrl_policies.errors import FlowAccuracyWarning, FlowError
from acrl_policies.flows.checkpoint import FlowCheckpoint
from acrl_policies.flows.conditions import ConditionDistribution, Conditioning
from acrl_policies.flows.metrics import evaluate_flow
from acrl_policies.flows.objectives import FlowObjective
from acrl_policies.flows.registry import make_flow, make_sampler, registered_class
from acrl_wrappers import Constraint, make_constraint
from acrl_wrappers.errors import SamplingError

__all__ = ["FlowTrainingConfig", "evaluate_flow", "train_flow"]

METHODS = ("flowpg", "cvflow")
METHOD_DEFAULTS: dict[str, dict[str, float]] = {
    "flowpg": {
        "forward_kl_weight": 1.0,
        "reverse_kl_weight": 0.03,
        "cv_sigma": 5e-4,
        "cv_sigma_start": 1e-2,
        "face_fraction": 0.3,
    },
    "cvflow": {
        "forward_kl_weight": 0.3,
        "reverse_kl_weight": 1.0,
        "cv_sigma": 1.75e-3,
        "cv_sigma_start": 0.1,
        "face_fraction": 0.0,
    },
}
"""Each method's objective where the settings leave it (``None``); measured in
``benchmarks/results/flows.md`` (:mod:`acrl_policies.flows.objectives` says why)."""
FLOW_SETTINGS = ("n_layers", "hidden", "scale_factor", "bins")
"""Settings passed to the flow architecture when it takes them."""


@dataclass
class FlowTrainingConfig:
    """Settings of :func:`train_flow` (defaults sized for a CPU; papers' values in brackets).

    Attributes:
        method: ``"flowpg"`` (maximum likelihood on samples) or ``"cvflow"`` (reverse KL).
        epochs: evaluation points; the run is ``epochs * steps_per_epoch`` updates.
        steps_per_epoch: updates per epoch.
        batch_size: samples per update [256].
        learning_rate: initial Adam learning rate [1e-5], cosine-decayed to
            ``final_learning_rate``.
        final_learning_rate: learning rate at the end.
        grad_clip: gradient-norm clip [0.1].
        ema_decay: the flow evaluated and returned is an exponential moving average of
            the trained weights with this decay (0 for the raw weights); it smooths the
            step-to-step noise that moves the feasible set's boundary.
        architecture: registered flow architecture.
        n_layers: coupling layers [6].
        hidden: hidden width [256].
        scale_factor: RealNVP's log-scale bound [1].
        bins: spline bins per coordinate (``"rqspline"``).
        base: ``"uniform"`` (mollified) or ``"gaussian"``.
        base_sigma: fall-off of the mollified uniform [1e-4].
        base_sigma_start: FlowPG's fall-off at the start, annealed geometrically to
            ``base_sigma`` over the first half (default: equal, no annealing).
        cv_sigma: the reverse KL's temperature at the end, in units of
            ``violation_scale`` [CV-Flow: 1e-5 in raw units] (``None``: the method's
            default, 5e-4 for FlowPG, 1.75e-3 for CV-Flow).
        cv_sigma_start: its temperature at the start, annealed geometrically to
            ``cv_sigma`` over the first half (``None``: the method's default, 1e-2 for
            FlowPG, 0.1 for CV-Flow).
        forward_kl_weight: weight of the maximum-likelihood term on feasible samples
            (:mod:`~acrl_policies.flows.objectives`; ``None``: the method's default).
        reverse_kl_weight: weight of the reverse KL to ``exp(-violation / sigma)``.
        face_fraction: share of the reverse KL's base coordinates moved into the outer 1 %
            of the box, where a tanh actor's outputs crowd (``None``: the method's default,
            0.3 for FlowPG, whose deterministic actor saturates; 0 for CV-Flow).
        violation_scale: the unit of ``cv_sigma``: the reverse KL divides the violation by
            ``violation_scale * sigma`` (``None``: measured before training, the median
            violation of infeasible uniform actions under the training conditions,
            :func:`~acrl_policies.flows.violation_scale`; 1.0: ``cv_sigma`` in the
            constraint's own units, as in the papers).
        n_samples: FlowPG training samples [500,000].
        sampler: registered sampler for FlowPG's samples (``"rejection"``, ``"hmc"``).
        condition: condition distribution, ``"uniform:LOW,HIGH"``, ``"normal:STD"`` or a
            spec with per-entry values (FlowPG and CV-Flow, when they train their own
            flow, take the task's: :func:`~acrl_policies.flows.visited.task_condition`).
        eval_samples: draws per evaluation.
        margin: violation counted as valid by ``accuracy_margin`` [0.1].
        dtype: ``"float32"`` or ``"float64"`` [float64 in CV-Flow].
        seed: seed of sampling, initialisation and batches.
        target_accuracy: warn (:class:`~acrl_policies.errors.FlowAccuracyWarning`) if the
            final ``accuracy`` is below this.
    """

    method: str = "flowpg"
    epochs: int = 20
    steps_per_epoch: int = 500
    batch_size: int = 256
    learning_rate: float = 1e-3
    final_learning_rate: float = 1e-5
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    architecture: str = "rqspline"
    n_layers: int = 6
    hidden: int = 256
    scale_factor: float = 1.0
    bins: int = 8
    base: str = "uniform"
    base_sigma: float = 1e-4
    base_sigma_start: float = 1e-4
    cv_sigma: float | None = None
    cv_sigma_start: float | None = None
    forward_kl_weight: float | None = None
    reverse_kl_weight: float | None = None
    face_fraction: float | None = None
    violation_scale: float | None = None
    n_samples: int = 100_000
    sampler: str = "rejection"
    condition: str | dict[str, Any] = "uniform:-10,10"
    eval_samples: int = 10_000
    margin: float = 0.1
    dtype: str = "float32"
    seed: int = 0
    target_accuracy: float | None = None

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise FlowError(
                f"unknown flow training method {self.method!r}; use 'flowpg' or 'cvflow'"
            )
        for name in ("epochs", "steps_per_epoch", "batch_size", "n_samples", "eval_samples"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise FlowError(f"`{name}` must be a positive integer, got {value!r}")
        for name in (
            "learning_rate",
            "final_learning_rate",
            "grad_clip",
            "base_sigma",
            "base_sigma_start",
        ):
            if not getattr(self, name) > 0:
                raise FlowError(f"`{name}` must be positive, got {getattr(self, name)!r}")
        objective = self.objective()
        for name in ("cv_sigma", "cv_sigma_start"):
            if not objective[name] > 0:
                raise FlowError(f"`{name}` must be positive, got {objective[name]!r}")
        if not 0.0 <= objective["face_fraction"] <= 1.0:
            raise FlowError(
                f"`face_fraction` must lie in [0, 1], got {objective['face_fraction']!r}"
            )
        forward, reverse = objective["forward_kl_weight"], objective["reverse_kl_weight"]
        if not (forward >= 0 and reverse >= 0 and forward + reverse > 0):
            raise FlowError(
                "`forward_kl_weight` and `reverse_kl_weight` must be >= 0 and not both 0, "
                f"got {forward!r} and {reverse!r}"
            )
        if not 0.0 <= self.ema_decay < 1.0:
            raise FlowError(f"`ema_decay` must lie in [0, 1), got {self.ema_decay!r}")
        if self.violation_scale is not None and not self.violation_scale > 0:
            raise FlowError(
                f"`violation_scale` must be positive (or None to measure it), got "
                f"{self.violation_scale!r}"
            )
        if self.dtype not in ("float32", "float64"):
            raise FlowError(f"`dtype` must be 'float32' or 'float64', got {self.dtype!r}")
        if self.target_accuracy is not None and not 0.0 <= self.target_accuracy <= 1.0:
            raise FlowError(f"`target_accuracy` must lie in [0, 1], got {self.target_accuracy!r}")
        ConditionDistribution.parse(self.condition)

    def objective(self) -> dict[str, float]:
        """The KL weights and reverse-KL temperatures, the method's defaults where ``None``.

        Example:
            >>> FlowTrainingConfig(method="cvflow", cv_sigma=1e-5).objective()["cv_sigma"]
            1e-05
        """
        return {
            name: default if getattr(self, name) is None else float(getattr(self, name))
            for name, default in METHOD_DEFAULTS[self.method].items()
        }

    @classmethod
    def from_dict(cls, settings: dict[str, Any]) -> FlowTrainingConfig:
        """Build from a dict, naming unknown keys.

        Raises:
            FlowError: a key that is not a setting.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise FlowError(f"unknown flow training settings {unknown}; accepted: {sorted(known)}")
        return cls(**settings)


def _draw_samples(
    cfg: FlowTrainingConfig, c: Constraint, cond: Conditioning, dist: ConditionDistribution
) -> tuple[FlowTrainingConfig, tuple[np.ndarray, np.ndarray, dict[str, Any]], int]:
    """Feasible samples for the forward KL and the evaluation, and how many train.

    CV-Flow needs no samples to train: where its default forward-KL term cannot get them
    (a tiny feasible set), it trains on the reverse KL alone, with a warning.
    """
    sampler = make_sampler(cfg.sampler)
    n_train = cfg.n_samples if cfg.objective()["forward_kl_weight"] else 0
    try:
        drawn = sampler(
            c, n_train + cfg.eval_samples, conditioning=cond, condition=dist, seed=cfg.seed
        )
    except SamplingError as exc:
        if cfg.method != "cvflow" or cfg.forward_kl_weight is not None or not n_train:
            raise
        warnings.warn(
            f"{exc}. CV-Flow trains on its reverse KL alone (forward_kl_weight=0); pass "
            "sampler='hmc' to keep the forward term",
            stacklevel=3,
        )
        cfg = replace(cfg, forward_kl_weight=0.0)
        return _draw_samples(cfg, c, cond, dist)
    return cfg, drawn, n_train


def _device_of(module: torch.nn.Module) -> torch.device:
    return next(module.parameters()).device


def _learning_rate(cfg: FlowTrainingConfig, step: int, total: int) -> float:
    cosine = 0.5 * (1.0 + math.cos(math.pi * step / total))
    return cfg.final_learning_rate + (cfg.learning_rate - cfg.final_learning_rate) * cosine


def train_flow(
    constraint: Constraint | dict[str, Any] | str,
    config: FlowTrainingConfig | None = None,
    *,
    condition_indices: Sequence[int] | None = None,
    progress_bar: bool = False,
    on_epoch: Callable[[dict[str, float]], None] | None = None,
    device: torch.device | str | None = None,
    **settings: Any,
) -> FlowCheckpoint:
    """Train a flow mapping the base distribution onto the constraint's feasible set.

    Args:
        constraint: the constraint (name, spec or object).
        config: the settings (or give them as keyword arguments).
        condition_indices: observation entries to condition on (default: those the
            constraint reads).
        progress_bar: show a tqdm bar with the latest metrics.
        on_epoch: called with each epoch's metrics.
        device: where the flow is trained and returned (``None``: torch's default
            device). Random draws come from seeded CPU generators whatever the device.
        **settings: :class:`FlowTrainingConfig` fields, when ``config`` is not given.

    Returns:
        the trained :class:`FlowCheckpoint`; its ``metrics`` hold one row per epoch,
        after a row for epoch 0 (before training).

    Raises:
        FlowError: invalid settings; FlowNumericalError: training diverged (names the layer).

    Warns:
        FlowAccuracyWarning: the final accuracy is below ``target_accuracy``.

    Example:
        >>> ckpt = train_flow("reacher-l2", method="cvflow", epochs=2, steps_per_epoch=50,
        ...                   n_layers=2, hidden=32, eval_samples=2000)
        >>> len(ckpt.metrics), ckpt.metrics[-1]["accuracy"] > ckpt.metrics[0]["accuracy"]
        (3, True)
    """
    if config is not None and settings:
        raise FlowError("give either `config` or keyword settings, not both")
    cfg = config or FlowTrainingConfig.from_dict(settings)
    c = make_constraint(constraint)
    cond = Conditioning(c, condition_indices)
    dist = ConditionDistribution.parse(cfg.condition)
    dist.check(cond)
    flow = _build_flow(cfg, c, cond, dist, device)
    averaged = copy.deepcopy(flow).requires_grad_(False) if cfg.ema_decay else flow
    ckpt = FlowCheckpoint(
        averaged, c, cond.indices, dist, cfg.base, cfg.base_sigma, cfg.method, cfg.architecture
    )
    cfg, (actions, conditions, sampler_info), n_train = _draw_samples(cfg, c, cond, dist)
    objective = FlowObjective(
        cfg, c, cond, dist, actions[:n_train], conditions[:n_train], _device_of(flow)
    )
    test_a, test_y = actions[n_train:], conditions[n_train:]

    def evaluate() -> dict[str, float]:
        return evaluate_flow(
            ckpt,
            test_actions=test_a,
            test_conditions=test_y,
            n=cfg.eval_samples,
            margin=cfg.margin,
            seed=cfg.seed + 1,
        )

    ckpt.metrics.append({"epoch": 0, **evaluate(), "loss": float("nan"), "seconds": 0.0})
    optimizer = torch.optim.Adam(flow.parameters(), lr=cfg.learning_rate)
    total = cfg.epochs * cfg.steps_per_epoch
    bar = _progress(total, progress_bar, f"{cfg.method} flow")
    started = time.perf_counter()
    for epoch in range(cfg.epochs):
        mean_loss = _train_epoch(cfg, flow, averaged, objective, optimizer, epoch, bar)
        row = {
            "epoch": epoch + 1,
            **evaluate(),
            "loss": mean_loss,
            "seconds": time.perf_counter() - started,
        }
        ckpt.metrics.append(row)
        bar.set_postfix(accuracy=f"{row['accuracy']:.4f}", recall=f"{row['recall']:.3f}")
        if on_epoch is not None:
            on_epoch(row)
    bar.close()
    for key, value in sampler_info.items():
        ckpt.metrics[-1][key] = float(value)
    ckpt.metrics[-1]["violation_scale"] = objective.violation_scale
    _check_accuracy(ckpt, cfg)
    return ckpt


def _build_flow(
    cfg: FlowTrainingConfig,
    c: Constraint,
    cond: Conditioning,
    dist: ConditionDistribution,
    device: torch.device | str | None,
) -> torch.nn.Module:
    """The initial flow: built on the CPU (the same weights for every device), then moved."""
    target = torch.get_default_device() if device is None else torch.device(device)
    torch.manual_seed(cfg.seed)
    with torch.device("cpu"):
        flow = make_flow(
            cfg.architecture,
            dim=c.dim,
            condition_dim=cond.dim,
            condition_scale=dist.scale,
            **_architecture_settings(cfg),
        )
    return flow.to(device=target, dtype=getattr(torch, cfg.dtype))


def _architecture_settings(cfg: FlowTrainingConfig) -> dict[str, Any]:
    """The flow settings of ``cfg`` that its architecture takes.

    Raises:
        FlowError: a setting changed from its default that the architecture does not take
            (it would be silently ignored).
    """
    accepted = inspect.signature(registered_class(cfg.architecture)).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in accepted.values())
    settings, defaults = {}, FlowTrainingConfig()
    for name in FLOW_SETTINGS:
        if takes_any or name in accepted:
            settings[name] = getattr(cfg, name)
        elif getattr(cfg, name) != getattr(defaults, name):
            raise FlowError(
                f"the flow architecture {cfg.architecture!r} has no setting `{name}`; "
                f"leave it at its default or choose an architecture that takes it"
            )
    return settings


def _train_epoch(
    cfg: FlowTrainingConfig,
    flow: torch.nn.Module,
    averaged: torch.nn.Module,
    objective: FlowObjective,
    optimizer: torch.optim.Optimizer,
    epoch: int,
    bar: Any,
) -> float:
    """One epoch of updates (and of the weight average); returns the mean loss."""
    total = cfg.epochs * cfg.steps_per_epoch
    losses = []
    for step in range(epoch * cfg.steps_per_epoch, (epoch + 1) * cfg.steps_per_epoch):
        for group in optimizer.param_groups:
            group["lr"] = _learning_rate(cfg, step, total)
        loss = objective(flow, step, total)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(flow.parameters(), cfg.grad_clip)
        optimizer.step()
        if averaged is not flow:
            _average_into(averaged, flow, min(cfg.ema_decay, (1 + step) / (10 + step)))
        losses.append(loss.item())
        bar.update(1)
    return float(np.mean(losses))


def _average_into(averaged: torch.nn.Module, flow: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for target, source in zip(averaged.parameters(), flow.parameters(), strict=True):
            target.lerp_(source, 1.0 - decay)


def _check_accuracy(ckpt: FlowCheckpoint, cfg: FlowTrainingConfig) -> None:
    final = ckpt.metrics[-1]["accuracy"]
    if cfg.target_accuracy is not None and final < cfg.target_accuracy:
        warnings.warn(
            f"flow training ended at accuracy {final:.4f}, below the requested "
            f"{cfg.target_accuracy:.4f}; train longer (epochs, steps_per_epoch) or with a "
            "larger flow, or project the remaining infeasible actions (the policies do)",
            FlowAccuracyWarning,
            stacklevel=3,
        )


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def set_postfix(self, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, enabled: bool, description: str) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit="step")


def config_dict(cfg: FlowTrainingConfig) -> dict[str, Any]:
    """The settings as a plain dict (written next to checkpoints by the CLI)."""
    return asdict(cfg)
