from __future__ import annotations

import dataclasses

import pytest

from lib.analysis import stats
from lib.report import gap
from lib.report.claims import BASELINE, LONG, SHORT
from lib.report.formatting import num


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


def test_a_reading_with_one_seed_shows_its_gap_without_a_margin(smoke):
    one = smoke.arm_runs(BASELINE).iloc[:1]
    single = dataclasses.replace(smoke, frame=smoke.frame[smoke.frame.index.isin(one.index)])
    assert "one seed, no margin" in gap.readings_gap_table(single).iloc[0, 1]


def test_a_reading_with_one_seed_borrows_the_spread_of_the_defaults_seeds(smoke):
    runs = smoke.frame
    first = runs[runs["arm"] == "resnet34_selu"].index[0]  # one run, relabelled a reading
    frame = runs.assign(arm=runs["arm"].where(runs.index != first, "resnet34_plainstem"))
    reading = dataclasses.replace(smoke, frame=frame)
    c = gap.cell(reading, "resnet34_plainstem", SHORT)
    default = reading.summary(BASELINE, SHORT)
    assert c["borrowed"] and c["summary"].n == 1 and default.n > 1
    assert c["margin"] == pytest.approx(stats.margin(default, 10, runs=1))
    row = gap.readings_gap_table(reading).set_index("Reading").filter(like="plainstem", axis=0)
    assert f"± {num(c['margin'])}: one seed, spread as" in row.iloc[0, 0]
