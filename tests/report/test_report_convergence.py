"""lib.report.convergence: Figs 4-6 measured on the per-iteration losses."""

from __future__ import annotations

import numpy as np
import pytest

from lib import stats
from lib.report import claims, convergence


def test_loss_runs_cut_at_the_horizon(smoke):
    per_epoch = convergence.iterations_per_epoch(smoke)
    assert per_epoch == 16  # 2,000 images / batch 128, rounded up
    runs = convergence.loss_runs(smoke, "resnet34", 2)
    assert len(runs) == 2 and all(len(r) == 2 * per_epoch for r in runs)
    assert convergence.loss_runs(smoke, "resnet34_selu", 4) == []  # ran 2 epochs only


def test_measures_and_their_welch_comparisons(smoke):
    conv = convergence.convergence(smoke, "resnet34_lr", "resnet34", 4)
    assert list(conv["table"]["Measure"]) == [claims.REACH, claims.MEAN_LOSS, claims.LAST_EPOCH_SD]
    assert conv["window"] == convergence.smoothing_window(16) == 3
    runs = convergence.loss_runs(smoke, "resnet34_lr", 4) + convergence.loss_runs(
        smoke, "resnet34", 4
    )
    assert conv["threshold"] == stats.common_threshold(runs, 3)
    mean_loss, verdict = conv["comparisons"][claims.MEAN_LOSS]
    a = [np.mean(r) for r in convergence.loss_runs(smoke, "resnet34_lr", 4)]
    b = [np.mean(r) for r in convergence.loss_runs(smoke, "resnet34", 4)]
    assert mean_loss.diff == pytest.approx(np.mean(a) - np.mean(b))
    assert verdict == stats.direction_verdict(mean_loss, -1)


def test_convergence_claims_table(smoke):
    table = convergence.convergence_claims(smoke)
    assert list(table["Claim"]) == [c.claim for c in claims.CONVERGENCE_CLAIMS]
    assert "4 epochs" in table["Measured as"][0] and "2 epochs" in table["Measured as"][2]
