"""NFWPO's policy: SB3's ``TD3Policy`` (the actor is trained towards Frank-Wolfe targets)."""

from __future__ import annotations

from stable_baselines3.td3.policies import TD3Policy

__all__ = ["MlpPolicy"]

MlpPolicy = TD3Policy
