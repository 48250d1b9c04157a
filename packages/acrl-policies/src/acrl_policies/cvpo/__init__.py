"""CVPO: constrained variational policy optimization (``CVPO``) and its E- and M-step maths."""

from acrl_policies.cvpo.cvpo import CVPO
from acrl_policies.cvpo.estep import cost_threshold, estep_dual, variational_weights
from acrl_policies.cvpo.mstep import decoupled_gaussian_kl, weighted_log_likelihood
from acrl_policies.cvpo.policies import CVPOPolicy, MlpPolicy

__all__ = [
    "CVPO",
    "CVPOPolicy",
    "MlpPolicy",
    "cost_threshold",
    "decoupled_gaussian_kl",
    "estep_dual",
    "variational_weights",
    "weighted_log_likelihood",
]
