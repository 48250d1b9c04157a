"""State-dependent constraint parameters evaluated in torch, on the actions' device.

- :func:`as_obs_tensor` — observations as a ``(N, k)`` tensor on the actions' device.
- :func:`constant` — a numpy constant as a tensor like another one.
- :func:`parameter` — a :class:`~acrl_wrappers.StateParameter`, ``offset + scale * obs[index]``.
- :func:`weights` — a :class:`~acrl_wrappers.StateWeights`, ``weights * obs[weight_index]``.

Both parameter kinds are computed in torch when they are the plain acrl classes; a
subclass that changes how the value is computed (a plugin's ``sin(obs)`` weights, say) is
evaluated by its own numpy method on the detached observation and moved to the device,
so the result is always the family's own value (observations carry no gradient here).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from acrl_wrappers.constraints.state import StateParameter, StateWeights

__all__ = ["as_obs_tensor", "constant", "parameter", "weights"]


def constant(values: Any, like: torch.Tensor) -> torch.Tensor:
    """``values`` (a number or numpy array) as a tensor of ``like``'s dtype and device.

    Example:
        >>> constant(np.array([1.0, 2.0]), torch.zeros(1, dtype=torch.float64)).tolist()
        [1.0, 2.0]
    """
    return torch.tensor(np.asarray(values, dtype=np.float64), dtype=like.dtype, device=like.device)


def as_obs_tensor(obs: Any, like: torch.Tensor) -> torch.Tensor | None:
    """``obs`` as a 2-D tensor of ``like``'s dtype on ``like``'s device (``None`` stays ``None``).

    A single ``(k,)`` observation becomes ``(1, k)`` and broadcasts over a batch.

    Example:
        >>> as_obs_tensor([0.0, 1.0], torch.zeros(3, 2)).shape
        torch.Size([1, 2])
    """
    if obs is None:
        return None
    if isinstance(obs, torch.Tensor):
        out = obs.to(device=like.device, dtype=like.dtype)
    else:
        out = torch.as_tensor(
            np.asarray(obs, dtype=np.float64), dtype=like.dtype, device=like.device
        )
    return out.reshape(1, -1) if out.ndim == 1 else out


def _numpy_obs(obs: torch.Tensor | None) -> np.ndarray | None:
    return None if obs is None else obs.detach().cpu().double().numpy()


def parameter(p: StateParameter, obs: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """``p``'s value for ``(N, k)`` observations: ``(N, size)``, or ``(1, size)`` when constant.

    Example:
        >>> p = StateParameter({"index": 1, "offset": 0.5}, name="radius", scalar=True)
        >>> parameter(p, torch.tensor([[0.0, 2.0]]), torch.zeros(1)).tolist()
        [[2.5]]
    """
    if type(p) is not StateParameter:
        return constant(p.batch(_numpy_obs(obs)), like)
    if p.index is None or obs is None:
        return constant(p.offset, like).reshape(1, -1)
    picked = obs[:, p.index]
    if not p._unit_scale:
        picked = picked * constant(p.scale, like)
    return picked if p._zero_offset else picked + constant(p.offset, like)


def weights(w: StateWeights, obs: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """``w``'s per-action weights for ``(N, k)`` observations, ``(N or 1, dim)``.

    Example:
        >>> w = StateWeights(2, weights=[1.0, -2.0], weight_index="1:3")
        >>> weights(w, torch.tensor([[9.0, 1.5, 0.5]]), torch.zeros(1)).tolist()
        [[1.5, -1.0]]
    """
    if type(w) is not StateWeights:
        return constant(w(_numpy_obs(obs)), like)
    if w.index is None or obs is None:
        return constant(w.scale, like).reshape(1, -1)
    picked = obs[:, w.index]
    return picked if w._unit_scale else picked * constant(w.scale, like)
