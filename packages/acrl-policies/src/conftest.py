"""pytest settings for the doctests of acrl-policies (not part of the installed package)."""

from __future__ import annotations

import torch

torch.set_num_threads(1)  # the doctests' tiny networks train faster on one thread
