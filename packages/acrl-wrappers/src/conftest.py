"""Doctest collection of the sources: the compiled kernels need numba (the ``fast`` extra)."""

import importlib.util

collect_ignore = (
    []
    if importlib.util.find_spec("numba")
    else [
        "acrl_wrappers/projection/psd_kernels.py",
        "acrl_wrappers/projection/sum_box_kernel.py",
    ]
)
