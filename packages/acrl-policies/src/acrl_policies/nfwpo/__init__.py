"""NFWPO: TD3 whose actor regresses onto Frank-Wolfe steps inside the feasible set."""

from acrl_policies.nfwpo.nfwpo import NFWPO, frank_wolfe_targets
from acrl_policies.nfwpo.policies import MlpPolicy

__all__ = ["NFWPO", "MlpPolicy", "frank_wolfe_targets"]
