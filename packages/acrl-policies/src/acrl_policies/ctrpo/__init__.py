"""C-TRPO: constrained trust region policy optimization (``CTRPO``) and its divergence."""

from acrl_policies.ctrpo.ctrpo import CTRPO
from acrl_policies.ctrpo.divergence import (
    bregman_divergence,
    constrained_divergence,
    next_safe_mode,
    surrogate_cost_increase,
)
from acrl_policies.ctrpo.policies import MlpPolicy

__all__ = [
    "CTRPO",
    "MlpPolicy",
    "bregman_divergence",
    "constrained_divergence",
    "next_safe_mode",
    "surrogate_cost_increase",
]
