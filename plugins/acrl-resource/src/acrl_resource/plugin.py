"""The plugin module named by the ``acrl`` entry point ``resource``: hook implementations only.

Kept cheap to import (acrl imports it whenever plugins load): the envs are registered
as ``"module:Class"`` strings and imported by the first ``gym.make``.
"""

from __future__ import annotations

from functools import partial

from acrl_resource.constraints import BSS_BAND_WIDTH, nsfnet_link_matrix
from acrl_wrappers import LinearConstraint, SumBandConstraint, hookimpl
from acrl_wrappers.hookspecs import RegisterConstraint, RegisterEnv

BSS3Z = {"zones": 3, "bikes": 90, "min_allocation": 10, "max_allocation": 40}
"""BSS3z: 3 zones, 90 bikes, allocations in [10, 40] (x = 15 a + 25), 40 docks per zone."""
BSS5Z = {"zones": 5, "bikes": 150, "min_allocation": 0, "max_allocation": 40}
"""BSS5z: 5 zones, 150 bikes, allocations in [0, 40] (x = 20 a + 20), 40 docks per zone."""
BSS_PERIODS = 24  # one-hour periods: an episode is a day
NSFNET_STEPS = 100  # one-second steps
ARAM_CODE = "arXiv:2503.12932 (released code: r / offset1 + offset2)"


@hookimpl
def register_constraints(register: RegisterConstraint) -> None:
    """The three named constraints of ARAM's resource tasks (arXiv:2503.12932)."""
    register(
        "bss3z",
        partial(SumBandConstraint, target=1.0, width=BSS_BAND_WIDTH, dim=3),
        aliases=("BSS3z+S+D40",),
        doc="ARAM BSS3z (arXiv:2503.12932, as coded): |sum a - 1| <= 0.1, a in [-1,1]^3",
    )
    register(
        "bss5z",
        partial(SumBandConstraint, target=2.5, width=BSS_BAND_WIDTH, dim=5),
        aliases=("BSS5z+S+D40",),
        doc="ARAM BSS5z (arXiv:2503.12932, as coded): |sum a - 2.5| <= 0.1, a in [-1,1]^5",
    )
    links = nsfnet_link_matrix()
    register(
        "nsfnet",
        partial(LinearConstraint, A=links.tolist(), b=(2.0 - links.sum(axis=1)).tolist()),
        aliases=("NSFnetV2+S",),
        doc="NSFnet (NFWPO, UAI 2021; ARAM, arXiv:2503.12932): 8 links, "
        "sum_{i in L_j} a_i <= 2 - |L_j|",
    )


@hookimpl
def register_envs(register: RegisterEnv) -> None:
    """The bike-sharing tasks (a day of hourly rebalancing) and the NSFnet task."""
    register(
        "ACRL/BSS3z-v0",
        "acrl_resource.bss:BikeSharingEnv",
        constraint="bss3z",
        max_episode_steps=BSS_PERIODS,
        kwargs={**BSS3Z, "periods": BSS_PERIODS},
        reward_transform={"scale": 1 / 20, "offset": 1.0, "source": ARAM_CODE},
        doc="bike sharing, 3 zones, 90 bikes: rebalance hourly for a day under |sum a - 1| <= 0.1",
    )
    register(
        "ACRL/BSS5z-v0",
        "acrl_resource.bss:BikeSharingEnv",
        constraint="bss5z",
        max_episode_steps=BSS_PERIODS,
        kwargs={**BSS5Z, "periods": BSS_PERIODS},
        reward_transform={"scale": 1 / 100, "offset": 2.0, "source": ARAM_CODE},
        doc="bike sharing, 5 zones, 150 bikes: rebalance hourly for a day, |sum a - 2.5| <= 0.1",
    )
    register(
        "ACRL/NSFnet-v0",
        "acrl_resource.nsfnet:NSFnetEnv",
        constraint="nsfnet",
        max_episode_steps=NSFNET_STEPS,
        reward_transform={"scale": 1 / 10, "offset": 0.0, "source": ARAM_CODE},
        doc="NSFNET backbone: rates of 9 flows, every shared link's total <= 50 Mbit/s",
    )
