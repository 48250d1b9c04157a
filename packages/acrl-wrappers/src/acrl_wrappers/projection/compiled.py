"""Where the compiled kernels (numba, the ``fast`` extra) come from, or why they do not.

Batches of small rows cost numpy more in call overhead than in arithmetic; the modules
:mod:`~acrl_wrappers.projection.psd_kernels` and
:mod:`~acrl_wrappers.projection.sum_box_kernel` run the same formulas compiled, one loop
over the rows. They need numba (``pip install "acrl-wrappers[fast]"``); without it, or
with ``ACRL_NUMBA=0`` in the environment (read once per process), :func:`kernels`
returns ``None`` and callers keep their numpy path.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import os
from types import ModuleType

__all__ = ["kernels"]


@functools.cache
def kernels(name: str) -> ModuleType | None:
    """The kernel module ``acrl_wrappers.projection.<name>``, or ``None`` (numpy).

    Example:
        >>> module = kernels("sum_box_kernel")
        >>> module is None or callable(module.project_sum_box)
        True
    """
    if os.environ.get("ACRL_NUMBA", "") == "0" or importlib.util.find_spec("numba") is None:
        return None
    return importlib.import_module(f"acrl_wrappers.projection.{name}")
