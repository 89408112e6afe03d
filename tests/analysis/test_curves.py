"""lib.analysis.curves: smoothing, iterations to a level and last-epoch fluctuation, on known
curves."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lib.analysis import curves


def test_convergence_measures():
    losses = [2.0, 1.0, 0.5, 0.25, 0.25, 0.25]
    assert curves.smooth(losses, 2).tolist() == [2.0, 1.5, 0.75, 0.375, 0.25, 0.25]
    assert curves.iterations_to_reach(losses, 0.75, 2) == 3
    assert math.isnan(curves.iterations_to_reach(losses, 0.1, 2))
    runs = [losses, [3.0, 2.0, 1.0, 0.5, 0.4, 0.3]]
    level = curves.common_threshold(runs, 2)
    assert level == pytest.approx(0.35)
    assert all(not math.isnan(curves.iterations_to_reach(r, level, 2)) for r in runs)
    assert curves.last_epoch_log_sd(losses, 3) == pytest.approx(0.0)
    # the same relative noise at a loss ten times lower scores the same
    high, low = [1.0, 2.0, 1.0, 2.0], [0.1, 0.2, 0.1, 0.2]
    assert curves.last_epoch_log_sd(high, 4) == pytest.approx(curves.last_epoch_log_sd(low, 4))
    assert curves.last_epoch_log_sd(high, 4) == pytest.approx(np.log(2) / math.sqrt(3))
    assert math.isnan(curves.last_epoch_log_sd([0.0, 1.0], 2))
    # the raw sd is what a linear plot shows: ten times lower at the lower level
    assert curves.last_epoch_sd(high, 4) == pytest.approx(10 * curves.last_epoch_sd(low, 4))
    assert curves.last_epoch_sd([9.0, *high], 4) == pytest.approx(np.std(high, ddof=1))
    assert math.isnan(curves.last_epoch_sd([1.0], 2))
