"""Flow architectures and feasible-action samplers, looked up by name through the plugins.

Both are registered with the ``register_policies`` hook, like SB3 policy classes; what a
name holds tells the kinds apart:

- a **flow architecture** is an ``nn.Module`` class built as ``cls(dim, condition_dim,
  **settings)`` with ``forward(z, y) -> (action, log_det)``, ``inverse(a, y) -> (z,
  log_det)``, a JSON-able ``config`` dict of its settings (``dim`` and ``condition_dim``
  included) and, optionally, ``actions(z, y)`` (the forward map without the
  log-determinant, used by the policies when present), e.g.
  :class:`~acrl_policies.flows.ConditionalRealNVP` (``"realnvp"``);
- a **sampler** is a function ``sampler(constraint, n, *, conditioning, condition,
  seed) -> (actions, conditions, info)``, e.g. ``"rejection"`` and ``"hmc"``.

A plugin adds its own::

    @hookimpl
    def register_policies(register):
        register("my-spline-flow", "my_package.flows:SplineFlow", doc="flow architecture: ...")
"""

from __future__ import annotations

from typing import Any

from torch import nn

from acrl_policies.errors import FlowError
from acrl_wrappers.errors import UnknownNameError
from acrl_wrappers.plugins import default_host

__all__ = ["make_flow", "make_sampler", "registered_class"]


def _lookup(name: str, what: str) -> Any:
    try:
        return default_host().registry("policy").get(name).load()
    except UnknownNameError as exc:
        raise FlowError(f"unknown {what} {name!r}: {exc}") from None


def registered_class(architecture: str) -> type[nn.Module]:
    """The flow architecture class registered as ``architecture``.

    Raises:
        FlowError: unknown name, or the name is not a flow architecture.

    Example:
        >>> registered_class("rqspline").__name__
        'ConditionalSplineFlow'
    """
    cls = _lookup(architecture, "flow architecture")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise FlowError(
            f"{architecture!r} is registered but is not a flow architecture (nn.Module)"
        )
    return cls


def make_flow(architecture: str, **settings: Any) -> nn.Module:
    """Build the flow architecture registered as ``architecture``.

    Raises:
        FlowError: unknown name, or the name is not a flow architecture.

    Example:
        >>> make_flow("realnvp", dim=2, condition_dim=0, n_layers=2, hidden=8).config["n_layers"]
        2
    """
    return registered_class(architecture)(**settings)


def make_sampler(name: str) -> Any:
    """The feasible-action sampler registered as ``name`` (``"rejection"``, ``"hmc"``, ...).

    Example:
        >>> make_sampler("rejection").__name__
        'sample_by_rejection'
    """
    sampler = _lookup(name, "sampler")
    if isinstance(sampler, type) or not callable(sampler):
        raise FlowError(f"{name!r} is registered but is not a sampler function")
    return sampler
