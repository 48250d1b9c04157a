"""NFWPO: TD3 whose actor regresses onto Frank-Wolfe steps inside the feasible set.

Lin et al., "Escaping from Zero Gradient: Revisiting Action-Constrained RL via Frank-Wolfe
Policy Optimization", UAI 2021 (code github.com/upupsheep/NFWPO_Final_Code), and Kasaura
et al.'s TD3 version (``ddpg/nfwpo.py``). The critic is TD3's. The actor is not pushed
along ``dQ/da`` (zero across the projection wherever it is flat) but regressed onto a
target inside the set: a Frank-Wolfe step from the projected action towards the feasible
point that maximises the critic's linearisation,

    target(s) = (1 - eta) proj(actor(s)) + eta argmax_{x in C(s)} grad_a Q(s, proj(actor(s))) . x

with loss ``MSE(actor(s), target(s))``. ``eta`` is 0.05 on Reacher and 0.01 elsewhere
(the reference's ``lr``); actor and critic learning rates 1e-3. Exploration adds noise,
projects, and stores the executed action (as the reference), and ``predict`` projects.
The argmax is :class:`~acrl_policies.constraints.LinearMaximizationOracle`: closed form in
torch where one exists, one batched HiGHS LP otherwise (the reference: Gurobi per sample).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F

from acrl_policies.constraints import DifferentiableProjection, LinearMaximizationOracle
from acrl_policies.constraints.projection import differentiable_path
from acrl_policies.errors import PolicyError
from acrl_policies.projection_td3.projection_td3 import ProjectionTD3

__all__ = ["NFWPO", "frank_wolfe_targets"]


def frank_wolfe_targets(projected: torch.Tensor, vertex: torch.Tensor, eta: float) -> torch.Tensor:
    """``(1 - eta) * projected + eta * vertex``: a Frank-Wolfe step, feasible for a convex set.

    Example:
        >>> frank_wolfe_targets(torch.tensor([[0.0, 0.0]]), torch.tensor([[1.0, -1.0]]), 0.05)
        tensor([[ 0.0500, -0.0500]])
    """
    return (1.0 - eta) * projected + eta * vertex


class NFWPO(ProjectionTD3):
    """TD3 whose actor regresses onto Frank-Wolfe steps in the feasible set (see module doc).

    Args:
        policy: ``"MlpPolicy"`` or a ``TD3Policy`` subclass.
        env: the env; its acrl wrapper (or task) supplies the constraint.
        eta: the Frank-Wolfe step (0.05 for Reacher, 0.01 otherwise, as the reference).
        constraint: the constraint (object, name or spec) when the env carries none.
        learning_rate: actor and critic learning rate (1e-3, as the reference).
        **kwargs: :class:`~acrl_policies.ProjectionTD3` and SB3 ``TD3`` arguments.

    Raises:
        NoDifferentiablePathError: the set has no linear-maximisation oracle (not convex,
            no closed form, no QP form); names the alternatives.

    Example:
        >>> import gymnasium as gym, acrl_wrappers as acrl
        >>> acrl.load_plugins()
        >>> env = gym.make("ACRL/ReacherL2-v0", enforce="monitor")
        >>> model = NFWPO("MlpPolicy", env, eta=0.05, learning_starts=50,
        ...               policy_kwargs={"net_arch": [32, 32]}, seed=0).learn(100)
        >>> model.oracle.method, model.oracle.solves > 0
        ('closed-form', True)

    Change logs:
        - v0.1.0 - Initially added.
    """

    default_projection = "pro"

    def __init__(
        self,
        policy: Any,
        env: Any,
        eta: float = 0.01,
        constraint: Any = None,
        learning_rate: float = 1e-3,
        _init_setup_model: bool = True,
        **kwargs: Any,
    ) -> None:
        if not 0.0 < eta <= 1.0:
            raise PolicyError(f"`eta` must be in (0, 1], got {eta!r}")
        if kwargs.get("projection", "pro") != "pro" or kwargs.get("penalty", 0.0):
            raise PolicyError("NFWPO explores by projection and has no penalty term")
        kwargs.pop("projection", None)
        self.eta = float(eta)
        super().__init__(
            policy,
            env,
            projection="pro",
            constraint=constraint,
            learning_rate=learning_rate,
            _init_setup_model=False,
            **kwargs,
        )
        if _init_setup_model:
            self._setup_model()

    def _setup_model(self) -> None:
        super()._setup_model()
        self.oracle = LinearMaximizationOracle(self.constraint)  # refuses a set without one
        closed = differentiable_path(self.constraint) == "closed-form"
        self._torch_projection = DifferentiableProjection(self.constraint) if closed else None

    def _project(self, env_units: torch.Tensor, obs: torch.Tensor) -> torch.Tensor:
        """Exact projections of a batch (in torch for closed forms, else the numpy projector)."""
        if self._torch_projection is not None:
            return self._torch_projection(env_units, obs.double())
        o = obs.detach().cpu().double().numpy() if self.constraint.obs_dim else None
        x, _ = self.projector.project_batch(env_units.cpu().numpy(), o)
        return torch.as_tensor(x, device=env_units.device)

    def _actor_loss(self, obs: torch.Tensor) -> torch.Tensor:
        """MSE between the actor's output and its Frank-Wolfe target (all in scaled units)."""
        outputs = self.actor(obs)
        with torch.no_grad():
            projected = self._project(self._env_units(outputs), obs)
        scaled = self._scaled(projected).to(outputs.dtype).requires_grad_(True)
        q = self.critic.q1_forward(obs, scaled).sum()
        (grad,) = torch.autograd.grad(q, scaled)
        # dQ/d(env units) = dQ/d(scaled) / half-range: the oracle works in the env's units
        vertex = self.oracle(grad.double() / self._half, obs.double())
        target = self._scaled(frank_wolfe_targets(projected, vertex, self.eta))
        return F.mse_loss(outputs, target.to(outputs.dtype))

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "oracle", "_torch_projection"]
