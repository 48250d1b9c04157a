"""acrl-wrappers: constraints on actions, projections and plugins for Gymnasium agents.

Build a constraint by name or spec, check and project actions, and extend everything
through plugins::

    >>> import numpy as np
    >>> import acrl_wrappers as acrl
    >>> c = acrl.make_constraint("power", bound=20.0, weight_index="11:17")
    >>> obs = np.zeros(17); obs[11:17] = 10.0
    >>> action = np.full(6, 0.5)
    >>> round(c.violation(action, obs), 3), bool(c.contains(action, obs))
    (10.0, False)
    >>> projected, info = acrl.make_projector(c).project(action, obs)
    >>> bool(c.contains(projected, obs)), info.method
    (True, 'closed-form')

Enforcement: :func:`wrap` and the wrappers in :mod:`acrl_wrappers.wrappers`
(:class:`ProjectAction`, :class:`RejectAction`, :class:`AutoMDP`, :class:`ConstraintMonitor`;
:class:`PreviousAction` and :class:`ObserveParameters` put what a constraint reads into the
observation); for vector envs :class:`VectorProjectAction`, :class:`VectorRejectAction`,
:class:`VectorConstraintMonitor` (SB3 ``VecEnv`` versions in :mod:`acrl_wrappers.sb3`);
SB3 glue (callbacks, replay buffers) in :mod:`acrl_wrappers.sb3`, imported on first use.
Constraints: :class:`Constraint` and the families in :mod:`acrl_wrappers.constraints`
(state-dependent parameters: :class:`StateParameter`).
Projection: :func:`make_projector` and :mod:`acrl_wrappers.projection`.
Plugins: :data:`hookimpl`, :func:`list_plugins`, :func:`list_constraints`
(hooks in :mod:`acrl_wrappers.hookspecs`). Errors: :mod:`acrl_wrappers.errors`.
Conformance kit for plugin authors: :mod:`acrl_wrappers.testing`.
"""

from importlib import metadata as _metadata

from acrl_wrappers.constraints import (
    DEFAULT_TOL,
    BallConstraint,
    BoxConstraint,
    CappedSimplexConstraint,
    Constraint,
    IntersectionConstraint,
    LinearConstraint,
    PositivePowerConstraint,
    PowerConstraint,
    PSDConstraint,
    QuadraticConstraint,
    SimplexConstraint,
    SlewRateConstraint,
    StateParameter,
    StateWeights,
    SumBandConstraint,
)
from acrl_wrappers.errors import (
    AcrlError,
    ConstraintError,
    ConstraintViolationError,
    DuplicateNameError,
    EmptyFeasibleSetError,
    InvalidActionError,
    InvalidObservationError,
    PluginError,
    PluginLoadWarning,
    ProjectionError,
    SamplingError,
    SpecError,
    StateParameterError,
    UnknownConstraintError,
    UnknownNameError,
    UnknownProjectorError,
)
from acrl_wrappers.factories import (
    list_constraints,
    list_projectors,
    make_constraint,
    make_projector,
)
from acrl_wrappers.hookspecs import hookimpl
from acrl_wrappers.plugins import list_plugins, load_plugins
from acrl_wrappers.projection import (
    ClosedFormProjector,
    NonlinearProjector,
    OSQPProjector,
    ProjectionInfo,
    Projector,
)
from acrl_wrappers.wrappers import (
    AutoMDP,
    ConstraintMonitor,
    ConstraintParameterSource,
    ObserveParameters,
    PreviousAction,
    ProjectAction,
    RejectAction,
    VectorConstraintMonitor,
    VectorProjectAction,
    VectorRejectAction,
    find_constraint,
    wrap,
)

try:
    __version__ = _metadata.version("acrl-wrappers")
except _metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0+unknown"

__all__ = [
    # constraints
    "DEFAULT_TOL",
    # errors
    "AcrlError",
    # enforcement wrappers
    "AutoMDP",
    "BallConstraint",
    "BoxConstraint",
    "CappedSimplexConstraint",
    # projection
    "ClosedFormProjector",
    "Constraint",
    "ConstraintError",
    "ConstraintMonitor",
    "ConstraintParameterSource",
    "ConstraintViolationError",
    "DuplicateNameError",
    "EmptyFeasibleSetError",
    "IntersectionConstraint",
    "InvalidActionError",
    "InvalidObservationError",
    "LinearConstraint",
    "NonlinearProjector",
    "OSQPProjector",
    "ObserveParameters",
    "PSDConstraint",
    "PluginError",
    "PluginLoadWarning",
    "PositivePowerConstraint",
    "PowerConstraint",
    "PreviousAction",
    "ProjectAction",
    "ProjectionError",
    "ProjectionInfo",
    "Projector",
    "QuadraticConstraint",
    "RejectAction",
    "SamplingError",
    "SimplexConstraint",
    "SlewRateConstraint",
    "SpecError",
    "StateParameter",
    "StateParameterError",
    "StateWeights",
    "SumBandConstraint",
    "UnknownConstraintError",
    "UnknownNameError",
    "UnknownProjectorError",
    "VectorConstraintMonitor",
    "VectorProjectAction",
    "VectorRejectAction",
    "find_constraint",
    # plugins
    "hookimpl",
    "list_constraints",
    "list_plugins",
    "list_projectors",
    "load_plugins",
    "make_constraint",
    "make_projector",
    "wrap",
]


def __getattr__(name: str) -> object:
    """Import :mod:`acrl_wrappers.sb3` (which needs stable-baselines3) only when used."""
    if name == "sb3":
        import importlib

        return importlib.import_module("acrl_wrappers.sb3")
    raise AttributeError(f"module 'acrl_wrappers' has no attribute {name!r}")
