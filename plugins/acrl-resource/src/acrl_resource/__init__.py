"""acrl-resource: resource-allocation tasks for action-constrained RL.

- ``ACRL/BSS3z-v0``, ``ACRL/BSS5z-v0``: bike-sharing rebalancing
  (:class:`~acrl_resource.bss.BikeSharingEnv`) under the constraints ``bss3z`` /
  ``bss5z`` (``|sum a - target| <= 0.1``), with an exact integer allocation step
  (:func:`~acrl_resource.allocation.integer_allocation`).
- ``ACRL/NSFnet-v0``: rate allocation for 9 flows on the NSFNET backbone
  (:class:`~acrl_resource.nsfnet.NSFnetEnv`) under ``nsfnet`` (8 shared-link budgets).

:mod:`acrl_resource.plugin` registers them through the ``acrl`` entry point ``resource``;
load it with ``acrl_wrappers.load_plugins()`` and make a task with
``gym.make("ACRL/BSS3z-v0", enforce="project")``.
"""

from acrl_resource.allocation import integer_allocation
from acrl_resource.bss import BikeSharingEnv, DemandModel, dock_returns, nearest_zones
from acrl_resource.constraints import (
    NSFNET_LINKS,
    bss_band_target,
    bss_constraint,
    nsfnet_constraint,
    nsfnet_link_matrix,
)
from acrl_resource.nsfnet import LinkState, NSFnetEnv, fluid_step

__all__ = [
    "NSFNET_LINKS",
    "BikeSharingEnv",
    "DemandModel",
    "LinkState",
    "NSFnetEnv",
    "bss_band_target",
    "bss_constraint",
    "dock_returns",
    "fluid_step",
    "integer_allocation",
    "nearest_zones",
    "nsfnet_constraint",
    "nsfnet_link_matrix",
]
