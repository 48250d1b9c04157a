"""Every algorithm keeps its tensors on the model's device, checked without a GPU.

SB3's ``device="auto"`` picks CUDA wherever there is one, so a tensor made without
``device=`` (torch's default device, the CPU) and mixed with the model's breaks training
on a GPU. A CPU-only run cannot see that: every tensor is on the CPU anyway. Here the
model lives on ``device="cpu"`` while :class:`OffDeviceCheck` is active, which

1. makes torch's default device ``"meta"`` (``with torch.device("meta")``), so a tensor
   created without an explicit device lands on a device the model is not on, exactly as
   it would land on the CPU beside a CUDA model; and
2. is a :class:`~torch.overrides.TorchFunctionMode` that raises :class:`OffDeviceError`
   on any torch call whose tensor arguments sit on different devices, and on any call
   that fails on such a tensor (``.cpu()``, ``.item()``, ``.to("cpu")`` of a meta
   tensor), naming the file and line that created it. (1) alone is not enough: torch
   lets a CPU tensor be indexed by a meta index tensor and silently returns garbage.

Models are built outside the check (SB3 builds its networks on the default device, then
moves them with ``.to(device)``, which a meta default would break); ``learn`` and
``predict`` run inside it. :func:`test_the_check_passes_stock_sb3` shows that stock SB3
(SAC, TD3, PPO, TRPO) learns and predicts cleanly under it, so a failure here is the acrl
code's. Building itself is checked the other way round: a model built with
``device="meta"`` must hold every parameter, buffer and tensor attribute on "meta", so a
module or tensor left behind on the CPU shows.

What no CPU-only run can tell apart from correct code: a tensor put on the CPU
*explicitly* (``torch.from_numpy``, ``device="cpu"``) and a CPU ``torch.Generator`` used
for a model's tensors. acrl_policies moves such tensors to the device of the tensors they
meet (``.to(x.device)``) and draws seeded noise on the generator's own device before moving
it (``acrl_policies.arm.standard_normal``); those lines were checked by reading.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from sb3_contrib import TRPO
from stable_baselines3 import PPO, SAC, TD3
from stable_baselines3.common.noise import NormalActionNoise
from torch.overrides import TorchFunctionMode

import acrl_wrappers as acrl
from acrl_policies import (
    ARAM,
    CTRPO,
    CVPO,
    NFWPO,
    AcceptanceRejection,
    CVFlowSAC,
    DOpt,
    DPre,
    DPro,
    FlowPG,
    PPOLagrangian,
    SACLagrangian,
    TRPOLagrangian,
)
from acrl_policies.errors import FlowError
from acrl_policies.flows import (
    ConditionalRealNVP,
    FlowCheckpoint,
    NumpyFlow,
    evaluate_flow,
    train_flow,
)

META = torch.device("meta")
_TORCH = str(Path(torch.__file__).parent)
_MECHANISM = {"_creation_site", "__torch_function__", "__exit__", "__enter__"}


class OffDeviceError(AssertionError):
    """A tensor made off the model's device met the model's tensors."""


def _tensors(value: Any) -> list[torch.Tensor]:
    """The tensors in ``value``, looking into tuples, lists and dicts."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, tuple | list):
        return [t for item in value for t in _tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in _tensors(item)]
    return []


def _creation_site() -> str:
    """The innermost frame outside torch and this check: where a meta tensor was made."""
    for frame in reversed(traceback.extract_stack()):
        if not frame.filename.startswith(_TORCH) and frame.name not in _MECHANISM:
            return f"{frame.filename}:{frame.lineno} ({frame.name}: {frame.line})"
    return "unknown"


class OffDeviceCheck(TorchFunctionMode):
    """Flags tensors created without ``device=`` once they meet the model's (see module doc)."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None):
        kwargs = kwargs or {}
        tensors = _tensors((args, kwargs))
        devices = {t.device.type for t in tensors}
        name = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
        if len(devices) > 1:
            raise OffDeviceError(
                f"{name} mixes devices {sorted(devices)}: {self._origins(tensors)}"
            )
        try:
            out = func(*args, **kwargs)
        except OffDeviceError:
            raise
        except Exception as exc:
            if META.type in devices:
                raise OffDeviceError(f"{name} failed on {self._origins(tensors)}: {exc}") from exc
            raise
        for t in _tensors(out):  # remember where each meta tensor came from
            if t.is_meta and not hasattr(t, "_created_at"):
                sources = [getattr(s, "_created_at", None) for s in tensors]
                t._created_at = next((s for s in sources if s), None) or _creation_site()
        return out

    @staticmethod
    def _origins(tensors: list[torch.Tensor]) -> str:
        sites = {getattr(t, "_created_at", "?") for t in tensors if t.is_meta}
        return "a tensor created without device= at " + "; ".join(sorted(sites))


@contextmanager
def off_device_check() -> Iterator[None]:
    """Default device ``meta`` and :class:`OffDeviceCheck`, both undone on exit."""
    with torch.device(META), OffDeviceCheck():
        yield
    assert torch.get_default_device() != META


@pytest.fixture(scope="module", autouse=True)
def _plugins() -> None:
    acrl.load_plugins()


def net(size: int = 16) -> dict[str, Any]:
    return {"net_arch": [size]}  # a fresh dict each time: SB3 edits policy_kwargs in place


def exercise(model: Any, env: gym.Env, steps: int) -> None:
    """``learn`` and ``predict`` (one and a batch of observations, both modes) in the check."""
    obs, _ = env.reset(seed=1)
    with off_device_check():
        model.learn(steps)
        for deterministic in (False, True):
            action, _ = model.predict(obs, deterministic=deterministic)
            assert np.all(np.isfinite(action))
            batch, _ = model.predict(np.stack([obs, obs]), deterministic=deterministic)
            assert batch.shape == (2, *env.action_space.shape)


# -------------------------------------------------------------------- the mechanism
def test_the_check_catches_tensors_made_without_a_device():
    model_tensor = torch.ones(3, device="cpu")
    with off_device_check():
        with pytest.raises(OffDeviceError, match=r"test_devices\.py:\d+"):
            _ = model_tensor + torch.zeros(3)
        with pytest.raises(OffDeviceError, match="mixes devices"):
            _ = model_tensor[torch.arange(3)]  # torch itself would return garbage here
        with pytest.raises(OffDeviceError, match="failed on"):
            torch.rand(2).to(model_tensor.device)
        _ = model_tensor + torch.zeros(3, device=model_tensor.device)  # explicit: fine
    assert torch.zeros(1).device == model_tensor.device  # the default is restored


STOCK: dict[str, Callable[[gym.Env], Any]] = {
    "SAC": lambda env: SAC(
        "MlpPolicy",
        env,
        learning_starts=64,
        batch_size=32,
        train_freq=16,
        gradient_steps=2,
        ent_coef="auto",
        policy_kwargs=net(),
        device="cpu",
        seed=0,
    ),
    "TD3": lambda env: TD3(
        "MlpPolicy",
        env,
        learning_starts=64,
        batch_size=32,
        train_freq=16,
        gradient_steps=2,
        policy_kwargs=net(),
        device="cpu",
        seed=0,
    ),
    "PPO": lambda env: PPO(
        "MlpPolicy",
        env,
        n_steps=64,
        batch_size=32,
        n_epochs=2,
        policy_kwargs=net(),
        device="cpu",
        seed=0,
    ),
    "TRPO": lambda env: TRPO(
        "MlpPolicy", env, n_steps=64, batch_size=32, policy_kwargs=net(), device="cpu", seed=0
    ),
}


@pytest.mark.parametrize("name", sorted(STOCK))
def test_the_check_passes_stock_sb3(name):
    env = gym.make("Pendulum-v1")
    exercise(STOCK[name](env), env, 128)


# -------------------------------------------------------------------- the algorithms
@pytest.fixture(scope="module")
def flows() -> dict[str, FlowCheckpoint]:
    """Tiny flows for reacher-l2, one per training method (accuracy is beside the point)."""
    settings = dict(
        epochs=1,
        steps_per_epoch=20,
        n_layers=2,
        hidden=16,
        n_samples=500,
        eval_samples=200,
        ema_decay=0.0,
    )
    return {m: train_flow("reacher-l2", method=m, **settings) for m in ("flowpg", "cvflow")}


OFF_POLICY = {"learning_starts": 48, "batch_size": 16, "train_freq": 16, "gradient_steps": 2}
ON_POLICY = {"n_steps": 64, "batch_size": 32}
SNAPSHOTS = {"q_snapshots": 1, "q_snapshot_every": 1, "q_snapshot_start": 1}  # from update 1


def reacher(enforce: str = "project") -> gym.Env:
    return gym.make("ACRL/ReacherL2-v0", enforce=enforce)


def safe_hopper() -> gym.Env:
    return gym.make("ACRL/SafeHopperVelocity-v1")


def pendulum_with_cost() -> gym.Env:
    # random actions leave the box [-1, 1] half the time: J_c > 20 keeps C-TRPO in recovery
    return acrl.wrap(gym.make("Pendulum-v1"), {"name": "box", "dim": 1}, enforce="monitor")


# name: (class, env, learn steps, settings); "flow" names the flow fixture's training method
ALGORITHMS: dict[str, tuple[type, Callable[[], gym.Env], int, dict[str, Any]]] = {
    "ARAM": (
        ARAM,
        lambda: reacher("automdp"),
        96,
        {**OFF_POLICY, **SNAPSHOTS, "max_proposals": 8, "ent_coef": "auto"},
    ),
    "ARAM-SOSAC": (ARAM, reacher, 96, {**OFF_POLICY, "max_proposals": 8, "preference": (0.7, 0.3)}),
    "FlowPG": (FlowPG, reacher, 96, {**OFF_POLICY, "flow": "flowpg"}),
    "CVFlowSAC": (CVFlowSAC, reacher, 96, {**OFF_POLICY, "flow": "cvflow"}),
    "CTRPO": (CTRPO, safe_hopper, 128, ON_POLICY),
    "CTRPO-recovery": (CTRPO, pendulum_with_cost, 128, ON_POLICY),
    "TRPOLagrangian": (TRPOLagrangian, safe_hopper, 128, ON_POLICY),
    "PPOLagrangian": (PPOLagrangian, safe_hopper, 128, {**ON_POLICY, "n_epochs": 2}),
    "CVPO": (CVPO, safe_hopper, 96, OFF_POLICY),
    "SACLagrangian": (SACLagrangian, safe_hopper, 96, {**OFF_POLICY, "ent_coef": "auto"}),
    "DPre+": (DPre, lambda: reacher("monitor"), 96, {**OFF_POLICY, "penalty": 1.0}),
    "DPro": (DPro, reacher, 96, OFF_POLICY),
    "DOpt+": (DOpt, reacher, 96, {**OFF_POLICY, "penalty": 1.0}),
    "NFWPO": (NFWPO, lambda: reacher("monitor"), 96, {**OFF_POLICY, "eta": 0.05}),
}


def build(name: str, flows: dict[str, FlowCheckpoint], device: str) -> tuple[Any, gym.Env]:
    cls, make_env, _, settings = ALGORITHMS[name]
    settings = dict(settings)
    if "flow" in settings:
        settings["flow"] = flows[settings["flow"]]
    env = make_env()
    return cls("MlpPolicy", env, **settings, policy_kwargs=net(), device=device, seed=0), env


@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_learn_and_predict_keep_tensors_on_the_model_device(name, flows):
    model, env = build(name, flows, "cpu")
    exercise(model, env, ALGORITHMS[name][2])


def off_device_tensors(owner: Any, device: torch.device) -> list[str]:
    """Names of the parameters, buffers and tensor attributes of ``owner`` not on ``device``."""
    named = dict(vars(owner))
    policy = getattr(owner, "policy", None)
    if isinstance(policy, torch.nn.Module):
        named.update({f"policy.{k}": v for k, v in policy.state_dict().items()})
    return [k for k, v in named.items() if isinstance(v, torch.Tensor) and v.device != device]


@pytest.mark.filterwarnings("ignore:.*meta parameter")  # loading flow weights into meta: no-op
@pytest.mark.parametrize("name", sorted(ALGORITHMS))
def test_building_puts_every_tensor_on_the_model_device(name, flows):
    # built for the meta device, so a module or tensor left on the CPU shows
    model, _ = build(name, flows, "meta")
    assert model.device == META
    assert off_device_tensors(model, META) == []


ARM_MODELS: dict[str, Callable[[gym.Env], Any]] = {
    "SAC": lambda env: SAC("MlpPolicy", env, policy_kwargs=net(), device="cpu", seed=0),
    "TD3": lambda env: TD3("MlpPolicy", env, policy_kwargs=net(), device="cpu", seed=0),
    "TD3-noise": lambda env: TD3(
        "MlpPolicy",
        env,
        policy_kwargs=net(),
        device="cpu",
        seed=0,
        action_noise=NormalActionNoise(np.zeros(2), np.full(2, 0.3)),
    ),
    "PPO": lambda env: PPO("MlpPolicy", env, policy_kwargs=net(), device="cpu", seed=0),
}


@pytest.mark.parametrize("seed", [None, 0])
@pytest.mark.parametrize("name", sorted(ARM_MODELS))
def test_acceptance_rejection_keeps_tensors_on_the_model_device(name, seed):
    env = reacher()
    model = ARM_MODELS[name](env)
    obs, _ = env.reset(seed=0)
    with off_device_check():
        arm = AcceptanceRejection(model, max_proposals=16, seed=seed)
        for deterministic in (False, True):
            action, _ = arm.predict(obs, deterministic=deterministic)
            assert acrl.find_constraint(env).contains(action, obs)
        assert arm.predict(np.stack([obs, obs]))[0].shape == (2, 2)


def test_acceptance_rejection_puts_its_tensors_on_the_model_device():
    model = ARM_MODELS["TD3-noise"](reacher())
    model.policy.to(META)
    assert off_device_tensors(AcceptanceRejection(model, seed=0), META) == []


# -------------------------------------------------------------------- the flows
@pytest.mark.parametrize("method", ["flowpg", "cvflow"])
def test_flow_training_and_inference_keep_tensors_on_the_flow_device(method):
    settings = dict(
        epochs=1, steps_per_epoch=5, n_layers=2, hidden=8, n_samples=200, eval_samples=100
    )
    with off_device_check():
        ckpt = train_flow("hopper-m10", method=method, device="cpu", **settings)
    assert next(ckpt.flow.parameters()).device == torch.device("cpu")
    rng = np.random.default_rng(0)
    z, obs = rng.uniform(-1, 1, (4, 3)), rng.normal(size=(4, 11))
    a, y = rng.uniform(-1, 1, (50, 3)), rng.normal(size=(50, 3))
    realnvp = ConditionalRealNVP(3, 3, n_layers=2, hidden=8)
    with off_device_check():
        assert ckpt.actions(z, obs).shape == (4, 3)
        assert 0.0 <= evaluate_flow(ckpt, test_actions=a, test_conditions=y, n=50)["recall"] <= 1
        assert NumpyFlow(realnvp)(z, obs[:, ckpt.condition_indices]).shape == (4, 3)
    with pytest.raises(FlowError, match="RealNVP flows only"):
        NumpyFlow(ckpt.flow)  # the default spline flow has no numpy copy
