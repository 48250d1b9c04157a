"""What FlowPG and CVFlowSAC share: getting a flow, and the projection safety net.

:class:`FlowAlgorithm` is a mixin for SB3 off-policy algorithms whose policy holds a
:class:`~acrl_policies.common.flow_head.FlowHead`:

- **the flow**: ``flow=`` a checkpoint path or a :class:`FlowCheckpoint`, checked against
  the env's constraint; or ``None`` to train one first for the constraint found on the
  env (``flow_kwargs`` are :class:`FlowTrainingConfig` settings), on the conditions the
  task declares or, failing that, measured from random-action rollouts. Its configuration goes
  into ``policy_kwargs["flow_config"]`` and its weights into the policy, so ``save`` /
  ``load`` carry both.
- **the safety net**: every action sent to the env, in training and in :meth:`predict`,
  is clipped to the action box and, if still infeasible, projected onto the constraint
  (FlowPG's released code, github.com/rlr-smu/flow-pg, projects when the violation
  exceeds 0.1 and otherwise executes the slightly infeasible action; here nothing
  infeasible is executed, so any violation above the constraint's ``tol`` is projected).
  Counts are logged as ``constraint/policy_projection_rate``.
- **metrics**: if the env carries an acrl wrapper, ``learn`` adds
  :class:`~acrl_wrappers.sb3.ConstraintMetricsCallback`.

A subclass lists ``FlowAlgorithm`` before its SB3 base (``class FlowPG(FlowAlgorithm,
TD3)``), calls :meth:`_init_flow_options` before the base's ``__init__``, and says where
the flow lives (:attr:`flow_head`, :meth:`_load_flow_weights`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from gymnasium import spaces
from stable_baselines3.common.vec_env import VecNormalize

from acrl_policies.common.callbacks import with_constraint_metrics
from acrl_policies.common.safety_net import SafetyNetCounts
from acrl_policies.errors import FlowError
from acrl_policies.flows.checkpoint import FlowCheckpoint
from acrl_policies.flows.conditions import Conditioning
from acrl_policies.flows.training import FlowTrainingConfig, train_flow
from acrl_policies.flows.visited import task_condition
from acrl_wrappers import Constraint, find_constraint, make_projector
from acrl_wrappers.errors import ConstraintError
from acrl_wrappers.projection.base import Projector

__all__ = ["FlowAlgorithm"]

FlowSource = str | os.PathLike[str] | FlowCheckpoint | None


class FlowAlgorithm:
    """Mixin for an SB3 off-policy algorithm acting through a frozen flow (see module doc)."""

    flow_method = "flowpg"
    """Objective used when the algorithm trains its own flow."""

    # attributes provided by the SB3 algorithm
    env: Any
    policy: Any
    policy_kwargs: dict[str, Any]
    observation_space: spaces.Space
    action_space: spaces.Space
    logger: Any
    seed: int | None
    verbose: int
    _vec_normalize_env: Any

    def _init_flow_options(self, flow: FlowSource, flow_kwargs: dict[str, Any] | None) -> None:
        self.flow_source = flow
        self.flow_kwargs = dict(flow_kwargs or {})
        self.constraint: Constraint | None = None
        self._projector: Projector | None = None
        self.safety_net = SafetyNetCounts()

    # ------------------------------------------------------------------ the flow
    def _resolve_flow(self) -> dict[str, Any]:
        """The flow checkpoint for this env, loaded or trained; returns its state dict."""
        env_constraint = self._env_constraint()
        obs_size = _obs_size(self.observation_space)
        if isinstance(self.flow_source, FlowCheckpoint):
            ckpt = self.flow_source
        elif self.flow_source is not None:
            ckpt = FlowCheckpoint.load(self.flow_source)
        elif env_constraint is None:
            raise FlowError(
                f"{type(self).__name__} needs a flow: pass flow='path/to.flow' (acrl flow train "
                "--constraint NAME), or wrap the env with its constraint so one can be "
                "trained first: acrl.wrap(env, constraint, enforce='project')"
            )
        else:
            ckpt = self._train_flow(env_constraint)
        if env_constraint is not None:
            ckpt.check_compatible(env_constraint, obs_size=obs_size)
        elif obs_size is not None:
            ckpt.conditioning.check_observation_size(obs_size)
        self.policy_kwargs = {**self.policy_kwargs, "flow_config": ckpt.config()}
        return ckpt.flow.state_dict()

    def _train_flow(self, constraint: Constraint) -> FlowCheckpoint:
        """Train a flow for the env's constraint, on the task's conditions.

        Conditions come from ``flow_kwargs["condition"]``, else from the task
        (:func:`~acrl_policies.flows.visited.task_condition`: declared, or measured over
        random-action steps); ``flow_kwargs["condition_steps"]`` sets how many.
        """
        settings = {"method": self.flow_method, **self.flow_kwargs}
        steps = settings.pop("condition_steps", 2_000)
        cond = Conditioning(constraint)
        if "condition" not in settings and cond.dim:
            dist, source = task_condition(self.env, cond, steps=steps, seed=self.seed or 0)
            settings["condition"] = dist.to_dict()
            if self.verbose:
                print(f"Training a flow on conditions {dist} ({source})")
        return train_flow(constraint, FlowTrainingConfig.from_dict(settings))

    def _env_constraint(self) -> Constraint | None:
        if self.env is None:
            return None
        try:
            return find_constraint(self.env)
        except ConstraintError:
            return None

    def _check_no_obs_normalization(self) -> None:
        if isinstance(self._vec_normalize_env, VecNormalize) and self._vec_normalize_env.norm_obs:
            raise FlowError(
                "the flow is conditioned on raw observation entries; VecNormalize(norm_obs=True) "
                "would feed it normalised ones: use norm_obs=False"
            )

    def _setup_flow_model(self, setup: Any) -> None:
        """Run the SB3 ``_setup_model`` (``setup``) with the flow resolved around it."""
        weights = None if "flow_config" in self.policy_kwargs else self._resolve_flow()
        setup()
        self._check_no_obs_normalization()
        if weights is not None:
            self._load_flow_weights(weights)
        self.constraint = self.flow_head.constraint
        self._projector = None

    def _load_flow_weights(self, weights: dict[str, Any]) -> None:
        raise NotImplementedError

    @property
    def flow_head(self) -> Any:
        """The policy's :class:`~acrl_policies.common.flow_head.FlowHead`."""
        raise NotImplementedError

    # ------------------------------------------------------------------ safety net
    @property
    def projector(self) -> Projector:
        """The projector of the flow's constraint (built on first use)."""
        if self._projector is None:
            assert self.constraint is not None
            self._projector = make_projector(self.constraint)
        return self._projector

    def _enforce(self, actions: np.ndarray, obs: np.ndarray | None) -> np.ndarray:
        """Clip ``(N, n)`` env-unit actions to the box and project the infeasible rows."""
        assert self.constraint is not None and isinstance(self.action_space, spaces.Box)
        out = np.clip(
            np.asarray(actions, dtype=np.float64), self.action_space.low, self.action_space.high
        )
        o = (
            None
            if self.constraint.obs_dim == 0 or obs is None
            else np.asarray(obs, dtype=np.float64)
        )
        violation = self.constraint._violation(out, o)
        bad = np.flatnonzero(violation > self.constraint.tol)
        for i in bad:
            row_obs = None if o is None else o[i]
            out[i], _ = self.projector.project_checked(out[i], row_obs, float(violation[i]))
        self.safety_net.add(proposals=out.shape[0], infeasible=bad.size, projections=bad.size)
        return out.astype(actions.dtype if isinstance(actions, np.ndarray) else np.float32)

    def predict(
        self,
        observation: Any,
        state: Any = None,
        episode_start: Any = None,
        deterministic: bool = False,
    ) -> tuple[np.ndarray, Any]:
        """SB3's ``predict``, then the safety net: the returned actions are feasible."""
        actions, state = super().predict(observation, state, episode_start, deterministic)  # type: ignore[misc]
        obs = np.asarray(observation, dtype=np.float64)
        single = actions.ndim == 1
        batch_actions = actions.reshape(1, -1) if single else actions
        batch_obs = obs.reshape(batch_actions.shape[0], -1)
        safe = self._enforce(batch_actions, batch_obs)
        return (safe[0] if single else safe), state

    # ------------------------------------------------------------------ logging
    def _record_flow_metrics(self) -> None:
        counts = self.safety_net
        if counts.proposals:
            self.logger.record("constraint/policy_projection_rate", 1.0 - counts.valid_rate)
            self.logger.record("constraint/policy_projections", counts.projections)

    def dump_logs(self, *args: Any) -> None:
        """SB3's log dump, plus ``constraint/policy_projection_rate``."""
        self._record_flow_metrics()
        super().dump_logs(*args)  # type: ignore[misc]

    def learn(self, total_timesteps: int, callback: Any = None, **kwargs: Any) -> Any:
        """SB3's ``learn``, with constraint metrics logged when the env has an acrl wrapper."""
        callback = with_constraint_metrics(self.env, callback)
        return super().learn(total_timesteps, callback, **kwargs)  # type: ignore[misc]

    def _setup_model(self) -> None:
        """SB3's model setup, with the flow resolved around it (see :meth:`_setup_flow_model`)."""
        self._setup_flow_model(super()._setup_model)  # type: ignore[misc]

    def _excluded_save_params(self) -> list[str]:
        return [*super()._excluded_save_params(), "flow_source", "_projector", "constraint"]  # type: ignore[misc]


def _obs_size(space: spaces.Space | None) -> int | None:
    if isinstance(space, spaces.Box) and len(space.shape) == 1:
        return int(space.shape[0])
    return None
