"""CV-Flow: SAC acting in the latent space of a flow trained from the constraint violation."""

from acrl_policies.cvflow.cvflow import CVFlowSAC
from acrl_policies.cvflow.policies import CVFlowSACPolicy, MlpPolicy

__all__ = ["CVFlowSAC", "CVFlowSACPolicy", "MlpPolicy"]
