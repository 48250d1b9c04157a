"""ARAM: acceptance-rejection acting on an augmented MDP, learned by multi-objective SAC."""

from acrl_policies.aram.aram import ARAM
from acrl_policies.aram.buffers import AugmentedReplayBuffer
from acrl_policies.aram.policies import ARAMPolicy, MlpPolicy

__all__ = ["ARAM", "ARAMPolicy", "AugmentedReplayBuffer", "MlpPolicy"]
