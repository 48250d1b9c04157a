"""The projection baselines: DPre, DPro and DOpt (OptLayer), one TD3 configured three ways."""

from acrl_policies.projection_td3.policies import MlpPolicy, OptLayerActor, OptLayerPolicy
from acrl_policies.projection_td3.projection_td3 import DOpt, DPre, DPro, ProjectionTD3

__all__ = ["DOpt", "DPre", "DPro", "MlpPolicy", "OptLayerActor", "OptLayerPolicy", "ProjectionTD3"]
