"""The ``policies`` plugin: registers acrl-policies' algorithms and commands with acrl.

Classes are given as ``"module:Class"`` strings, so loading plugins imports no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from acrl_wrappers import hookimpl

if TYPE_CHECKING:
    import click

    from acrl_wrappers.hookspecs import RegisterAlgorithm, RegisterPolicy

# Flows (FlowPG, CV-Flow) -------------------------------------------------------------
FLOW_ALGORITHMS: dict[str, tuple[str, str]] = {
    "flowpg": ("acrl_policies.flowpg:FlowPG", "FlowPG: DDPG/TD3 acting through a frozen flow"),
    "cvflow_sac": (
        "acrl_policies.cvflow:CVFlowSAC",
        "CV-Flow: SAC acting in the latent space of a flow trained from the violation",
    ),
}
FLOW_PARTS: dict[str, tuple[str, str]] = {
    "realnvp": (
        "acrl_policies.flows.real_nvp:ConditionalRealNVP",
        "flow architecture: conditional RealNVP (affine couplings, alternating halves)",
    ),
    "rqspline": (
        "acrl_policies.flows.spline:ConditionalSplineFlow",
        "flow architecture: conditional rational-quadratic spline flow, box onto box",
    ),
    "rejection": (
        "acrl_policies.flows.samplers:sample_by_rejection",
        "sampler: feasible (action, condition) pairs by batched rejection",
    ),
    "hmc": (
        "acrl_policies.flows.samplers:sample_by_hmc",
        "sampler: feasible (action, condition) pairs by reflective HMC",
    ),
}

# Safe RL with costs (C-TRPO, CVPO, Lagrangian baselines) -------------------------------
COST_ALGORITHMS: dict[str, tuple[str, str]] = {
    "ctrpo": ("acrl_policies.ctrpo:CTRPO", "C-TRPO: TRPO with a cost-aware trust region (CMDP)"),
    "trpo_lagrangian": (
        "acrl_policies.lagrangian:TRPOLagrangian",
        "TRPO-Lagrangian: TRPO on the Lagrangian, multiplier by Adam (CMDP)",
    ),
    "ppo_lagrangian": (
        "acrl_policies.lagrangian:PPOLagrangian",
        "PPO-Lagrangian: PPO on the Lagrangian, multiplier by Adam (CMDP)",
    ),
    "cvpo": (
        "acrl_policies.cvpo:CVPO",
        "CVPO: off-policy EM with a cost-constrained E-step and KL-bounded M-step (CMDP)",
    ),
    "sac_lagrangian": (
        "acrl_policies.lagrangian:SACLagrangian",
        "SAC-Lagrangian: SAC with a cost critic, multiplier by Adam (CMDP)",
    ),
}

# Acceptance-rejection (ARAM) -----------------------------------------------------------
ARM_ALGORITHMS: dict[str, tuple[str, str]] = {
    "aram": (
        "acrl_policies.aram:ARAM",
        "ARAM: SAC on the augmented MDP, acting by acceptance-rejection (MOSAC)",
    ),
}


# Projection baselines (Kasaura et al.) and NFWPO -----------------------------------------
BASELINE_ALGORITHMS: dict[str, tuple[str, str]] = {
    "dpre": (
        "acrl_policies.projection_td3:DPre",
        "DPre: TD3, proposals projected before the env, proposals stored (penalty=1: DPre+)",
    ),
    "dpro": (
        "acrl_policies.projection_td3:DPro",
        "DPro: TD3 with projected exploration, executed actions stored (penalty=1: DPro+)",
    ),
    "dopt": (
        "acrl_policies.projection_td3:DOpt",
        "DOpt: TD3 with a differentiable projection (OptLayer) as the actor's last layer",
    ),
    "nfwpo": (
        "acrl_policies.nfwpo:NFWPO",
        "NFWPO: TD3 whose actor regresses onto Frank-Wolfe steps in the feasible set",
    ),
}


@hookimpl
def register_algorithms(register: RegisterAlgorithm) -> None:
    """Register every algorithm of this package under its ``acrl train --algo`` name."""
    for name, (target, doc) in {
        **FLOW_ALGORITHMS,
        **COST_ALGORITHMS,
        **ARM_ALGORITHMS,
        **BASELINE_ALGORITHMS,
    }.items():
        register(name, target, doc=doc)


@hookimpl
def register_policies(register: RegisterPolicy) -> None:
    """Register the flow architectures and samplers (see :mod:`acrl_policies.flows.registry`)."""
    for name, (target, doc) in FLOW_PARTS.items():
        register(name, target, doc=doc)


@hookimpl
def register_commands(cli: click.Group) -> None:
    """Add this package's commands to ``acrl``: ``acrl flow train``."""
    from acrl_policies.commands import flow

    cli.add_command(flow)
