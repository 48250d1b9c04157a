"""Hook implementations of acrl-mujoco (entry point ``mujoco``): constraints and tasks."""

from __future__ import annotations

from acrl_mujoco.constraints import (
    NAMED_CONSTRAINTS,
    AngleMomentConstraint,
    SineWeightedBall,
    TipSpeedConstraint,
)
from acrl_mujoco.velocity import COST_LIMIT, VELOCITY_ACTION_DIMS, VELOCITY_THRESHOLDS
from acrl_wrappers import hookimpl
from acrl_wrappers.hookspecs import RegisterConstraint, RegisterEnv

V5 = "gymnasium.envs.mujoco"
# task id -> (env entry point, constraint, time limit)
CONSTRAINED_TASKS = {
    "ACRL/ReacherL2-v0": (f"{V5}.reacher_v5:ReacherEnv", "reacher-l2", 50),
    "ACRL/HalfCheetahO20-v0": ("acrl_mujoco.envs:HalfCheetahV5Env", "halfcheetah-o20", 1000),
    "ACRL/HopperM10-v0": (f"{V5}.hopper_v5:HopperEnv", "hopper-m10", 1000),
    "ACRL/HopperVelM10-v0": ("acrl_mujoco.envs:HopperVelEnv", "hopper-m10", 1000),
    "ACRL/Walker2dM10-v0": (f"{V5}.walker2d_v5:Walker2dEnv", "walker2d-m10", 1000),
    "ACRL/AntL2-v0": (f"{V5}.ant_v5:AntEnv", "ant-l2", 1000),
    "ACRL/ReacherO03-v0": (f"{V5}.reacher_v5:ReacherEnv", "reacher-o03", 50),
    "ACRL/ReacherO10-v0": (f"{V5}.reacher_v5:ReacherEnv", "reacher-o10", 50),
    "ACRL/ReacherO30-v0": (f"{V5}.reacher_v5:ReacherEnv", "reacher-o30", 50),
    "ACRL/ReacherM-v0": (f"{V5}.reacher_v5:ReacherEnv", "reacher-m", 50),
    "ACRL/ReacherT-v0": (f"{V5}.reacher_v5:ReacherEnv", "reacher-t", 50),
    "ACRL/HalfCheetahMA-v0": ("acrl_mujoco.envs:HalfCheetahV5Env", "halfcheetah-ma", 1000),
    "ACRL/HopperOS-v0": (f"{V5}.hopper_v5:HopperEnv", "hopper-os", 1000),
    "ACRL/Walker2dOS-v0": (f"{V5}.walker2d_v5:Walker2dEnv", "walker2d-os", 1000),
    "ACRL/HalfCheetahSlew-v0": (
        "acrl_mujoco.envs:make_half_cheetah_slew",
        "halfcheetah-slew02",
        1000,
    ),
}
"""The action-constrained tasks: MuJoCo v5 envs with the standard time limits.

HalfCheetah is Gymnasium's HalfCheetah-v5 compiled without MuJoCo's ``settotalmass``
deprecation warning (:class:`acrl_mujoco.envs.HalfCheetahV5Env`, the same model);
``ACRL/HalfCheetahSlew-v0`` appends the previous executed action to its observation
(:func:`acrl_mujoco.envs.make_half_cheetah_slew`)."""

ARAM_CODE = "arXiv:2503.12932 (released code: r / offset1 + offset2)"
ARAM_REWARD_TRANSFORMS = {
    "ACRL/ReacherL2-v0": {"scale": 1.0, "offset": 1.0, "source": ARAM_CODE},
    "ACRL/HalfCheetahO20-v0": {"scale": 1.0, "offset": 0.0, "source": ARAM_CODE},
    "ACRL/HopperM10-v0": {"scale": 1.0, "offset": 0.0, "source": ARAM_CODE},
    "ACRL/HopperVelM10-v0": {"scale": 1.0, "offset": 0.0, "source": ARAM_CODE},
    "ACRL/AntL2-v0": {"scale": 1.0, "offset": 0.0, "source": ARAM_CODE},
}
"""The task-reward transform of ARAM's augmented MDP on its paper's MuJoCo tasks (the
other tasks declare none: ARAM and ``AutoMDP`` then calibrate the offset themselves)."""


FLOW_CONDITIONS = {
    "ACRL/HalfCheetahO20-v0": "uniform:-20,20",
    "ACRL/HopperM10-v0": "uniform:-10,10",
    "ACRL/HopperVelM10-v0": "uniform:-10,10",
    "ACRL/Walker2dM10-v0": "uniform:-10,10",
}
"""Where the observation entries each task's constraint reads lie: the state bounds of the
papers' flow training (FlowPG, arXiv:2402.05149: HalfCheetah's joint velocities in
[-20, 20]; Hopper and Walker2d in [-10, 10], as in CV-Flow, arXiv:2502.10431). Flows
trained for the other state-dependent tasks measure theirs from random-action rollouts."""


@hookimpl
def register_constraints(register: RegisterConstraint) -> None:
    """The three extra families and every named benchmark constraint."""
    register("tip-speed", TipSpeedConstraint)
    register("angle-moment", AngleMomentConstraint)
    register("sine-ball", SineWeightedBall)
    for name, (factory, aliases, doc) in NAMED_CONSTRAINTS.items():
        register(name, factory, aliases=aliases, doc=doc)


@hookimpl
def register_envs(register: RegisterEnv) -> None:
    """The constrained tasks and the velocity-cost tasks."""
    for env_id, (entry_point, constraint, steps) in CONSTRAINED_TASKS.items():
        doc = NAMED_CONSTRAINTS[constraint][2]
        register(
            env_id,
            entry_point,
            constraint=constraint,
            max_episode_steps=steps,
            reward_transform=ARAM_REWARD_TRANSFORMS.get(env_id),
            condition_distribution=FLOW_CONDITIONS.get(env_id),
            doc=doc,
        )
    for task, (_, threshold, planar) in VELOCITY_THRESHOLDS.items():
        speed = "planar speed" if planar else "x-velocity"
        register(
            f"ACRL/Safe{task}Velocity-v1",
            "acrl_mujoco.velocity:make_velocity_env",
            max_episode_steps=1000,
            kwargs={"task": task},
            action_dim=VELOCITY_ACTION_DIMS[task],
            doc=f"{task}-v4, cost 1 when its {speed} exceeds {threshold} "
            f"(limit {COST_LIMIT:g}/episode)",
        )
