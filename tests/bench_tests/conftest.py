"""Shared settings for acrl-bench tests."""

from __future__ import annotations

import torch

torch.set_num_threads(1)  # the tests' tiny networks train faster on one thread
