"""Measures on per-iteration training-loss curves (the paper's Figs 4-6): smoothing, the
iterations until a level is reached, and the fluctuation over the last epoch."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def smooth(losses: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average (the first ``window - 1`` points average what exists)."""
    x = np.asarray(losses, dtype=float)
    window = max(1, int(window))
    if len(x) == 0:
        return x
    csum = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, len(x) + 1)
    start = np.maximum(0, idx - window)
    return (csum[idx] - csum[start]) / (idx - start)


def iterations_to_reach(losses: Sequence[float], threshold: float, window: int) -> float:
    """First iteration (1-based) at which the smoothed loss is at or below ``threshold``.

    NaN when the run never gets there.
    """
    s = smooth(losses, window)
    hits = np.flatnonzero(s <= threshold)
    return float(hits[0] + 1) if len(hits) else math.nan


def common_threshold(runs: Sequence[Sequence[float]], window: int) -> float:
    """A loss level every run reaches: the highest smoothed loss at any run's last iteration."""
    ends = [smooth(r, window)[-1] for r in runs if len(r)]
    return float(max(ends)) if ends else math.nan


def last_epoch_sd(losses: Sequence[float], iterations_per_epoch: int) -> float:
    """sd of the training loss over the last epoch: the fluctuation a linear plot shows."""
    x = np.asarray(losses, dtype=float)[-int(iterations_per_epoch) :]
    return float(x.std(ddof=1)) if len(x) >= 2 else math.nan


def last_epoch_log_sd(losses: Sequence[float], iterations_per_epoch: int) -> float:
    """sd of the log training loss over the last epoch: fluctuation relative to the loss
    level (a loss five times lower with the same relative noise scores the same)."""
    x = np.asarray(losses, dtype=float)[-int(iterations_per_epoch) :]
    if len(x) < 2 or np.any(x <= 0):
        return math.nan
    return float(np.log(x).std(ddof=1))
