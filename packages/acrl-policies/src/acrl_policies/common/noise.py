"""The Gaussian exploration noise the TD3-based methods default to (FlowPG, DPre, NFWPO)."""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.noise import ActionNoise, NormalActionNoise

__all__ = ["default_action_noise"]


def default_action_noise(
    action_noise: ActionNoise | None, action_space: Any, sigma: float
) -> ActionNoise | None:
    """``action_noise`` if given, else Gaussian noise of std ``sigma`` (``None`` for 0).

    Example:
        >>> from gymnasium import spaces
        >>> noise = default_action_noise(None, spaces.Box(-1, 1, (2,)), 0.1)
        >>> noise
        NormalActionNoise(mu=[0. 0.], sigma=[0.1 0.1])
        >>> default_action_noise(noise, spaces.Box(-1, 1, (2,)), 0.5) is noise
        True
    """
    if action_noise is not None or not sigma > 0 or action_space is None:
        return action_noise
    n = action_space.shape[0]
    return NormalActionNoise(np.zeros(n), np.full(n, sigma))
