"""lib.report.tables and readings: the paper's numbers beside ours, one row per claim."""

from __future__ import annotations

from lib import stats
from lib.report import claims, readings, tables
from lib.report.formatting import CI, mean_sd, num


def test_headline_has_every_claim_with_our_number(smoke):
    headline = tables.headline(smoke)
    accuracy, improvement = claims.accuracy_claims(), claims.improvement_claims()
    assert len(headline) == len(accuracy) + len(improvement)
    for row, (_, arm, epochs, value) in zip(headline.to_dict("records"), accuracy, strict=False):
        assert row["Paper"] == f"{num(value)} %"
        assert row["Ours (mean ± sd)"] == mean_sd(smoke.summary(arm, epochs))
    assert list(headline[CI])  # every row has an interval cell


def test_paper_table_pairs_baseline_and_arm(smoke):
    table = tables.paper_table(smoke, 2)
    assert len(table) == 4  # baseline and LR decay at 10 and 20 epochs
    assert list(table["Epochs"]) == ["10 (ours 2)", "10 (ours 2)", "20 (ours 4)", "20 (ours 4)"]
    assert len(tables.improvement_table(smoke, 2)) == 2
    assert "not comparable" in table["Verdict"][0]


def test_verdict_counts_cover_every_improvement(smoke):
    counts = tables.verdict_counts(smoke)
    assert sum(counts.values()) == len(claims.improvement_claims())
    assert set(counts) <= {stats.REPRODUCED, stats.NOT_REPRODUCED, stats.INCONCLUSIVE}


def test_contrasts_say_which_side_of_zero(smoke):
    rows = tables.contrast_table(
        smoke, [("improved", "resnet34", "q"), ("resnet34_projection", "resnet34", "never run")]
    )
    c = smoke.compare("improved")
    expected = (
        "higher (CI above 0)"
        if c.ci_low > 0
        else "lower (CI below 0)"
        if c.ci_high < 0
        else "no clear difference (CI includes 0)"
    )
    assert list(rows["Effect"]) == [expected, stats.NO_DATA]
    assert rows["Difference (points)"][0] == num(c.diff, sign=True)


def test_spread_table_one_row_per_arm(smoke):
    spread = tables.spread_table(smoke)
    assert len(spread) == 15 and list(spread["n"]).count(2) == 5


def test_readings_table_and_verdicts(smoke):
    table = readings.readings_table(smoke)
    assert len(table) == len(claims.READINGS)
    assert list(table["Moves it by (vs our default)"]).count("default") == 3
    verdicts = dict(readings.reading_verdicts(smoke, "resnet34_lr_cosine"))
    assert verdicts["Table 2, 20 (ours 4) ep"] == "not run (depends on the run length)"
    ambiguities = readings.ambiguities_table(smoke)
    assert len(ambiguities) == 13
    normalisation = ambiguities.set_index("Ambiguity").loc["Normalisation", "Our choice"]
    assert "in the records" in normalisation  # the fixture's constants


def test_progress_table_counts_seeds_of_every_paper_arm(smoke, nothing):
    table = tables.progress_table(smoke)
    assert len(table) == 5 and set(table["Seeds complete"]) == {"2 of 2"}
    assert set(table["Seeds"]) == {"0, 1"}
    empty = tables.progress_table(nothing)  # no records: the paper arms, nothing done
    assert len(empty) == 5 and set(empty["Seeds complete"]) == {"0 of 0"}
