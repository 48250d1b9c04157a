"""NSFnet bandwidth allocation: set the sending rates of 9 flows sharing 8 backbone links.

The task comes from NFWPO (UAI 2021; ARAM's ``NSFnetV2+S``, arXiv:2503.12932); this is a new
pure-numpy fluid model, not the published packet simulator. Units: rates in Mbit/s,
one step is ``dt = 1`` s, every link has capacity ``C = 50`` Mbit/s and a buffer of
``B = 25`` Mbit (half a second at line rate).

Per step, with flow ``i`` crossing the links ``j`` whose set ``L_j`` contains it:

1. **Rates.** ``x_i = 25 (a_i + 1) in [0, 50]``; the flow sends ``s_i = min(x_i, D_i)``,
   where ``D_i`` is its offered traffic (it cannot send more than its users offer).
2. **Links.** Link ``j`` receives ``u_j = sum_{i in L_j} s_i + c_j`` (``c_j``: cross
   traffic of other networks, not controlled by the agent). Its queue becomes
   ``q_j <- max(q_j + (u_j - C) dt, 0)``; what exceeds the buffer is dropped
   (``drop_j = max(q_j - B, 0)``, ``q_j <- min(q_j, B)``), a fraction
   ``p_j = drop_j / (u_j dt)`` of the link's arrivals.
3. **Flows.** Flow ``i`` delivers ``g_i = s_i dt prod_{j: i in L_j} (1 - p_j)`` (queued
   traffic is delayed, not lost) and loses ``l_i = s_i dt - g_i``; its queueing delay is
   ``tau_i = sum_{j: i in L_j} q_j / C`` seconds.
4. **Reward** (in units of ``unit = 10`` Mbit):
   ``r = (sum_i g_i - loss_penalty sum_i l_i - sum_i s_i tau_i / delay_scale) / unit`` with
   ``loss_penalty = 2`` and ``delay_scale = 0.5`` s: half a second of queueing delay
   costs a flow as much as its throughput earns.
5. **Traffic evolves slowly** (mean-reverting, seeded from ``np_random``):
   ``D_i <- clip(D_i + 0.05 (mu_i - D_i) + 2 eps, 0, 50)`` with ``mu_i ~ U(10, 40)`` per
   episode, and ``c_j <- clip(c_j + 0.1 (nu_j - c_j) + 1.5 eps, 0, 2 cross_max)`` with
   ``nu_j ~ U(0, cross_max)``, ``cross_max = 10``.

The constraint (``nsfnet``) keeps the *allocated* rates within every link's capacity,
``sum_{i in L_j} x_i <= 50``, i.e. ``sum_{i in L_j} a_i <= 2 - |L_j|`` (NFWPO's original
scale; ARAM's released code maps to ``[0, 100]`` instead). Cross
traffic is what makes headroom matter: a feasible allocation that fills a link's budget
still builds a queue there when other traffic shares the link.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from acrl_resource.constraints import NSFNET_FLOWS, nsfnet_link_matrix
from acrl_wrappers.errors import ConstraintError, InvalidActionError

__all__ = ["LinkState", "NSFnetEnv", "fluid_step"]

FloatArray = NDArray[np.float64]
ObsArray = NDArray[np.float32]

MAX_RATE = 50.0  # Mbit/s per flow (x = 25 (a + 1))
DEMAND_MEAN_LOW, DEMAND_MEAN_HIGH = 10.0, 40.0  # mu_i ~ U(10, 40) Mbit/s
DEMAND_REVERSION, DEMAND_NOISE = 0.05, 2.0  # per step
CROSS_REVERSION, CROSS_NOISE = 0.1, 1.5  # per step


@dataclass(frozen=True)
class LinkState:
    """Result of one fluid step (:func:`fluid_step`): per-link and per-flow quantities.

    Attributes:
        queues: backlog per link after the step (Mbit).
        load: arrival rate per link ``u_j`` (Mbit/s).
        dropped: traffic dropped per link (Mbit).
        delivered: traffic delivered per flow ``g_i`` (Mbit).
        lost: traffic lost per flow ``l_i`` (Mbit).
        delay: queueing delay per flow ``tau_i`` (s).
    """

    queues: FloatArray
    load: FloatArray
    dropped: FloatArray
    delivered: FloatArray
    lost: FloatArray
    delay: FloatArray


def fluid_step(
    sent: FloatArray,
    cross: FloatArray,
    queues: FloatArray,
    links: FloatArray,
    capacity: float,
    buffer: float,
    dt: float = 1.0,
) -> LinkState:
    """One step of the fluid network: queues, tail drops, deliveries and delays.

    Args:
        sent: sending rate per flow ``s_i`` (Mbit/s).
        cross: cross-traffic rate per link ``c_j`` (Mbit/s).
        queues: backlog per link before the step (Mbit).
        links: ``(links, flows)`` 0/1 routing matrix.
        capacity: link capacity ``C`` (Mbit/s).
        buffer: link buffer ``B`` (Mbit).
        dt: step length (s).

    Returns:
        The :class:`LinkState` after the step.

    Example:
        >>> links = np.array([[1.0, 1.0]])  # two flows share one link
        >>> s = fluid_step(np.array([30.0, 30.0]), np.zeros(1), np.zeros(1), links, 50.0, 5.0)
        >>> s.queues.tolist(), s.dropped.tolist(), s.lost.round(3).tolist()
        ([5.0], [5.0], [2.5, 2.5])
    """
    load = links @ sent + cross
    arriving = load * dt
    backlog = np.maximum(queues + arriving - capacity * dt, 0.0)
    dropped = np.maximum(backlog - buffer, 0.0)
    backlog -= dropped
    drop_fraction = np.divide(dropped, arriving, out=np.zeros_like(dropped), where=arriving > 0)
    survive = np.prod(np.where(links.T > 0.0, 1.0 - drop_fraction, 1.0), axis=1)
    delivered = sent * dt * survive
    return LinkState(
        queues=backlog,
        load=load,
        dropped=dropped,
        delivered=delivered,
        lost=sent * dt - delivered,
        delay=links.T @ (backlog / capacity),
    )


class NSFnetEnv(gym.Env[ObsArray, ObsArray]):
    """Rate allocation for 9 flows over the NSFNET backbone (fluid model, see :mod:`.nsfnet`).

    Action ``a in [-1, 1]^9``, rates ``x = 25 (a + 1)`` Mbit/s. The registered task's
    constraint ``nsfnet`` is ``sum_{i in L_j} a_i <= 2 - |L_j|`` for the 8 links of
    ARAM's NSFnet task (arXiv:2503.12932; every link's allocated total at most its
    50 Mbit/s capacity).

    Observation (float32, 25 entries): offered traffic per flow / 50 (9); link
    utilisation ``u_j / C`` of the last step (8; cross traffic only after a reset); queue
    per link / ``B`` (8). ``info`` holds ``rates``, ``sent``, ``delivered``, ``lost``,
    ``delay``, ``queues``, ``load``, ``dropped``, ``throughput`` (Mbit/s delivered),
    ``loss_penalty`` and ``delay_penalty`` (the reward's terms before dividing by ``unit``).
    Episodes never terminate; the registered task truncates after 100 steps.

    Args:
        capacity: link capacity ``C`` (Mbit/s); the constraint assumes 50.
        buffer: link buffer ``B`` (Mbit).
        cross_max: mean cross traffic per link is drawn from ``U(0, cross_max)``; 0 turns
            cross traffic off.
        loss_penalty: reward weight of each lost Mbit.
        delay_scale: queueing delay (s) that costs a flow its whole throughput.
        unit: the reward's unit (Mbit).

    Raises:
        ConstraintError: non-positive capacity, buffer, ``delay_scale`` or ``unit``, or a
            negative ``cross_max`` or ``loss_penalty``.

    Example:
        >>> env = NSFnetEnv()
        >>> obs, info = env.reset(seed=0)
        >>> obs.shape
        (25,)
        >>> obs, reward, terminated, truncated, info = env.step(-np.ones(9))  # all rates 0
        >>> info["rates"].tolist() == [0.0] * 9, reward
        (True, 0.0)
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (Gymnasium's class attribute)

    def __init__(
        self,
        *,
        capacity: float = 50.0,
        buffer: float = 25.0,
        cross_max: float = 10.0,
        loss_penalty: float = 2.0,
        delay_scale: float = 0.5,
        unit: float = 10.0,
    ) -> None:
        for name, value, positive in [
            ("capacity", capacity, True),
            ("buffer", buffer, True),
            ("delay_scale", delay_scale, True),
            ("unit", unit, True),
            ("cross_max", cross_max, False),
            ("loss_penalty", loss_penalty, False),
        ]:
            if not math.isfinite(value) or value < 0.0 or (positive and value == 0.0):
                sign = "> 0" if positive else ">= 0"
                raise ConstraintError(f"`{name}` must be finite and {sign}, got {value!r}")
        self.capacity, self.buffer, self.cross_max = float(capacity), float(buffer), cross_max
        self.loss_penalty, self.delay_scale, self.unit = loss_penalty, delay_scale, unit
        self.links = nsfnet_link_matrix()
        n_links = self.links.shape[0]
        self.action_space = spaces.Box(-1.0, 1.0, shape=(NSFNET_FLOWS,), dtype=np.float32)
        max_load = (self.links.sum(axis=1) * MAX_RATE + 2.0 * cross_max) / self.capacity
        low = np.zeros(NSFNET_FLOWS + 2 * n_links, dtype=np.float32)
        high = np.concatenate([np.ones(NSFNET_FLOWS), max_load, np.ones(n_links)])
        self.observation_space = spaces.Box(low, high.astype(np.float32), dtype=np.float32)
        self._demand_mean = np.zeros(NSFNET_FLOWS)
        self._cross_mean = np.zeros(n_links)
        self._demand = np.zeros(NSFNET_FLOWS)
        self._cross = np.zeros(n_links)
        self._queues = np.zeros(n_links)
        self._load = np.zeros(n_links)

    def rates(self, action: Any) -> FloatArray:
        """Allocated rates ``x = 25 (a + 1)`` (Mbit/s) of an action (clipped to the box).

        Raises:
            InvalidActionError: not 9 finite numbers.
        """
        a = np.asarray(action, dtype=np.float64)
        if a.shape != (NSFNET_FLOWS,) or not np.isfinite(a).all():
            raise InvalidActionError(
                f"the action must be {NSFNET_FLOWS} finite numbers in [-1, 1], got {action!r}"
            )
        return MAX_RATE / 2.0 * (np.clip(a, -1.0, 1.0) + 1.0)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[ObsArray, dict[str, Any]]:
        """Draw the episode's mean demands and cross traffic; empty queues."""
        super().reset(seed=seed)
        rng = self.np_random
        self._demand_mean = rng.uniform(DEMAND_MEAN_LOW, DEMAND_MEAN_HIGH, size=NSFNET_FLOWS)
        self._cross_mean = rng.uniform(0.0, self.cross_max, size=len(self.links))
        self._demand = self._demand_mean.copy()
        self._cross = self._cross_mean.copy()
        self._queues = np.zeros(len(self.links))
        self._load = self._cross.copy()
        return self._observation(), {"demand": self._demand.copy(), "cross": self._cross.copy()}

    def step(self, action: Any) -> tuple[ObsArray, float, bool, bool, dict[str, Any]]:
        """Send at the allocated rates for one second; then the traffic moves on."""
        rates = self.rates(action)
        sent = np.minimum(rates, self._demand)
        state = fluid_step(sent, self._cross, self._queues, self.links, self.capacity, self.buffer)
        loss = self.loss_penalty * float(state.lost.sum())
        delay = float((sent * state.delay).sum()) / self.delay_scale
        throughput = float(state.delivered.sum())
        reward = (throughput - loss - delay) / self.unit
        info = {
            "rates": rates,
            "sent": sent,
            "delivered": state.delivered,
            "lost": state.lost,
            "delay": state.delay,
            "queues": state.queues,
            "load": state.load,
            "dropped": state.dropped,
            "throughput": throughput,
            "loss_penalty": loss,
            "delay_penalty": delay,
        }
        self._queues, self._load = state.queues, state.load
        self._evolve_traffic()
        return self._observation(), reward, False, False, info

    def _evolve_traffic(self) -> None:
        """Mean-reverting random walks of offered traffic and cross traffic."""
        rng = self.np_random
        self._demand = np.clip(
            self._demand
            + DEMAND_REVERSION * (self._demand_mean - self._demand)
            + DEMAND_NOISE * rng.standard_normal(NSFNET_FLOWS),
            0.0,
            MAX_RATE,
        )
        self._cross = np.clip(
            self._cross
            + CROSS_REVERSION * (self._cross_mean - self._cross)
            + CROSS_NOISE * rng.standard_normal(self._cross.shape[0]),
            0.0,
            2.0 * self.cross_max,
        )

    def _observation(self) -> ObsArray:
        return np.concatenate(
            [self._demand / MAX_RATE, self._load / self.capacity, self._queues / self.buffer]
        ).astype(np.float32)
