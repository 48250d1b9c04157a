"""Shared settings and fixtures for acrl-policies tests."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)  # the tests' tiny networks train faster on one thread


class ProgressBars:
    """``(n, total)`` of every SB3 progress bar, recorded just before the bar closes."""

    def __init__(self) -> None:
        self.closed: list[tuple[float, float]] = []

    def assert_completed(self, out: str, steps: int) -> None:
        """One bar ran, counted every env step up to ``steps``, and rendered ``steps/steps``."""
        assert self.closed == [(steps, steps)], f"bars (n, total) when closed: {self.closed}"
        assert f"{steps}/{steps}" in out and "100%" in out, f"rendered: {out!r}"


@pytest.fixture
def progress_bars(monkeypatch) -> ProgressBars:
    """Records how far the bar of ``learn(progress_bar=True)`` got, and towards what total."""
    from stable_baselines3.common import callbacks

    bars = ProgressBars()
    original = callbacks.ProgressBarCallback._on_training_end

    def record(self: callbacks.ProgressBarCallback) -> None:
        bars.closed.append((self.pbar.n, self.pbar.total))
        original(self)

    monkeypatch.setattr(callbacks.ProgressBarCallback, "_on_training_end", record)
    return bars
