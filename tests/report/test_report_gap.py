from __future__ import annotations

import pytest

from lib.analysis import stats
from lib.report import gap
from lib.report.claims import BASELINE, LONG, SHORT


def test_gain_is_each_seeds_twentieth_minus_tenth_epoch(smoke):
    late, early = smoke.values(BASELINE, LONG), smoke.values(BASELINE, SHORT)
    assert gap.gain(smoke, BASELINE).mean == pytest.approx((late - early).mean())
    assert gap.gain(smoke, "resnet34_selu").n == 0  # a 10-epoch arm has no 20-epoch cell


def test_readings_table_judges_every_reading_against_the_papers_baseline(smoke):
    table = gap.readings_gap_table(smoke)
    assert len(table) == len(gap.GAP_READINGS)
    assert list(table.columns[1:3]) == ["10 epochs (paper 93.12 %)", "20 epochs (paper 94.21 %)"]
    c = gap.cell(smoke, BASELINE, SHORT)
    assert c["verdict"] == stats.accuracy_verdict(c["summary"], 93.12, 10)
    assert f"{c['gap']:+.2f} ± {c['margin']:.2f}: {c['verdict']}" in table.iloc[0, 1]
    assert table.iloc[1, 1] == "no runs yet" and "partial" in table.iloc[1, -1]


def test_saturation_finds_the_lowest_mean_test_loss(smoke):
    losses = smoke.epoch_losses
    mean = losses[losses.arm == BASELINE].groupby("epoch").test_loss.mean()
    found = gap.saturation(smoke, BASELINE)
    assert found["lowest_epoch"] == mean.idxmin() and found["last"] == pytest.approx(mean.iloc[-1])
    assert gap.saturation(smoke, "resnet34_augment") is None


def test_the_closest_reading_is_named_and_none_claims_to_reach_the_paper(smoke):
    text = gap.closest_sentence(smoke)
    assert text.startswith(f"The reading closest to the paper is `{BASELINE}`")
    assert "no reading reaches the paper's baseline at both lengths so far" in text


def test_the_upsampled_reading_costs_64_times_the_baseline(smoke):
    hours = smoke.arm_runs(BASELINE)["core_seconds"].median() / 3600
    assert f"{64 * hours:.0f} core-hours" in gap.upsampled_cost(smoke)


def test_overfitting_is_named_only_where_the_test_loss_rises_again(smoke):
    s = gap.saturation(smoke, BASELINE)
    text = gap.saturation_sentence(smoke, [BASELINE])
    assert ("the mark of overfitting" in text) == (s["last"] > s["lowest"])
