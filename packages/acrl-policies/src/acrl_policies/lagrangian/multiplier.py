"""``LagrangeMultiplier``: the naive Lagrangian's multiplier, updated by Adam on J_c − b."""

from __future__ import annotations

import math

from acrl_policies.errors import InvalidCostLimitError

__all__ = ["LagrangeMultiplier"]


class LagrangeMultiplier:
    """λ ≥ 0, raised while the episode cost exceeds the limit and lowered below it.

    Each update takes one Adam step (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) on the loss
    −λ·(J_c − b), then clips λ at 0: the naive Lagrange update of the TRPO-Lag and PPO-Lag
    baselines the C-TRPO paper compares against, with OmniSafe's settings (initial value
    0.001, Adam learning rate 0.035; github.com/PKU-Alignment/omnisafe). Plain Python
    floats, so it pickles with the algorithm.

    Args:
        initial_value: λ at the start (≥ 0).
        learning_rate: Adam's step size (> 0).

    Example:
        >>> lam = LagrangeMultiplier(initial_value=0.001, learning_rate=0.035)
        >>> round(lam.update(episode_cost=40.0, cost_limit=25.0), 4)  # over the limit: up
        0.036
        >>> lam.update(episode_cost=0.0, cost_limit=25.0) < 0.036
        True

    Change logs:
        - v0.1.0 - Initially added.
    """

    def __init__(self, initial_value: float = 0.001, learning_rate: float = 0.035) -> None:
        if not (math.isfinite(initial_value) and initial_value >= 0):
            raise InvalidCostLimitError(
                "the initial Lagrange multiplier must be a finite number >= 0, "
                f"got {initial_value!r}"
            )
        if not (math.isfinite(learning_rate) and learning_rate > 0):
            raise InvalidCostLimitError(
                f"the Lagrange multiplier's learning rate must be > 0, got {learning_rate!r}"
            )
        self.value = float(initial_value)
        self.learning_rate = float(learning_rate)
        self._m = 0.0
        self._v = 0.0
        self._t = 0

    def update(self, episode_cost: float, cost_limit: float) -> float:
        """One Adam step on −λ·(J_c − b), clipped at 0; returns the new λ.

        Args:
            episode_cost: J_c, the mean episode cost.
            cost_limit: b.
        """
        grad = -(episode_cost - cost_limit)
        self._t += 1
        self._m = 0.9 * self._m + 0.1 * grad
        self._v = 0.999 * self._v + 0.001 * grad * grad
        m_hat = self._m / (1 - 0.9**self._t)
        v_hat = self._v / (1 - 0.999**self._t)
        self.value = max(0.0, self.value - self.learning_rate * m_hat / (math.sqrt(v_hat) + 1e-8))
        return self.value
