"""lib.report.tables and readings: the paper's numbers beside ours, one row per claim."""

from __future__ import annotations

import math

from lib import stats
from lib.report import claims, readings, tables, verdicts
from lib.report.formatting import CI, interval, mean_sd, num, p_value
from lib.report.results import Results


def test_accuracy_table_has_every_claim_with_our_number(smoke):
    table = tables.accuracy_table(smoke)
    accuracy = claims.accuracy_claims()
    assert len(table) == len(accuracy)
    for row, (_, arm, epochs, value) in zip(table.to_dict("records"), accuracy, strict=True):
        assert row["Paper"] == f"{num(value)} %"  # as the browser test finds it in the intro
        s = smoke.summary(arm, epochs)
        assert row["Ours, final epoch (mean ± sd)"] == mean_sd(s)
        # the margin: our CI's half-width widened by the paper's 10 runs, sqrt(1 + n/10)
        margin = s.half_width * math.sqrt(1 + s.n / 10)
        assert row["Ours − paper ± margin"] == f"{num(s.mean - value, sign=True)} ± {num(margin)}"
    assert list(table[CI])  # every row has an interval cell
    compact = tables.accuracy_table(smoke, compact=True)  # page one
    assert list(compact.columns) == [
        "Table", "Model", "Epochs", "Paper", "Ours, final epoch (mean ± sd)",
        "Ours − paper ± margin",
        "Verdict",
    ]  # fmt: skip
    assert compact.equals(table[compact.columns])


def test_primary_table_shows_the_family_interval_power_and_sensitivity(smoke):
    table = tables.primary_table(smoke)
    family = verdicts.primary_family(smoke)
    assert len(table) == len(family) == 5
    assert list(table["Bonferroni p (family of 5)"]) == [p_value(j.family_p) for j in family]
    assert list(table["simultaneous 95 % CI"]) == [
        interval(j.comparison.ci_low, j.comparison.ci_high, sign=True) for j in family
    ]
    assert "95 % CI" not in table.columns  # the family's interval only, the one judged
    assert list(table["Ours − paper, with its noise"]) == [
        interval(j.assessment.against.ci_low, j.assessment.against.ci_high, sign=True)
        for j in family
    ]
    for cell, j in zip(table["Verdict"], family, strict=True):
        assert j.verdict in cell and "(smoke proxy)" in cell
        assert ("seeds per arm would detect the claimed" in cell) == (
            j.verdict == stats.INCONCLUSIVE
        )
    assert all(s == "holds" or s.startswith("changes: ") for s in table["Sensitivity"])
    assert len(tables.primary_table(smoke, 2)) == 2  # LR decay at 10 and 20 epochs


def test_paper_table_pairs_baseline_and_arm(smoke):
    table = tables.paper_table(smoke, 2)
    assert len(table) == 4  # baseline and LR decay at 10 and 20 epochs
    assert list(table["Epochs"]) == ["10 (ours 2)", "10 (ours 2)", "20 (ours 4)", "20 (ours 4)"]
    assert "not comparable" in table["Verdict"][0]


def test_contrasts_use_the_same_vocabulary(smoke):
    rows = tables.contrast_table(
        smoke,
        [
            ("improved", "resnet34", "q"),
            ("resnet34_projection", "resnet34", "never run"),
            ("resnet34_lr_step", "resnet34", "identical"),
        ],
    )
    j = verdicts.judge(smoke, "improved")
    assert j.verdict in (stats.HIGHER, stats.LOWER, stats.NO_CLEAR_DIFFERENCE)
    verdict = rows["Verdict (exploratory)"]
    assert j.verdict in verdict[0] and stats.NO_DATA in verdict[1]
    assert stats.NOT_APPLICABLE in verdict[2] and rows["Sensitivity"][2] == "—"
    assert rows["Difference (points)"][0] == num(j.comparison.diff, sign=True)


def test_spread_table_one_row_per_arm(smoke):
    spread = tables.spread_table(smoke)
    assert len(spread) == 15 and list(spread["n"]).count(2) == 5


def test_readings_table_and_verdicts(smoke):
    table = readings.readings_table(smoke)
    assert len(table) == len(claims.READINGS)
    assert list(table["Moves it by (vs our default)"]).count("default") == 3
    cosine = dict(readings.reading_verdicts(smoke, "resnet34_lr_cosine"))
    assert cosine["Table 2, 20 (ours 4) ep"] is None  # not run: depends on the run length
    assert (
        readings.NOT_RUN in table.set_index("Arm").loc["<code>resnet34_lr_cosine</code>"].iloc[-1]
    )
    step = dict(readings.reading_verdicts(smoke, "resnet34_lr_step"))
    assert step["Table 2, 10 (ours 2) ep"].verdict == stats.NOT_APPLICABLE
    ambiguities = readings.ambiguities_table(smoke)
    assert len(ambiguities) == 14
    narrow = ambiguities.set_index("Ambiguity").filter(like="narrower body", axis=0)
    assert "keep Fig. 3" in narrow["Our choice"].iloc[0]  # the stem the runs built (issue 12)
    normalisation = ambiguities.set_index("Ambiguity").loc["Normalisation", "Our choice"]
    assert "in the records" in normalisation  # the fixture's constants


def test_progress_table_counts_seeds_of_every_paper_arm(smoke, nothing):
    table = tables.progress_table(smoke)
    assert len(table) == 5 and set(table["Seeds complete"]) == {"2 of 2"}
    assert set(table["Seeds"]) == {"0, 1"}
    core = smoke.runs.groupby("arm")["core_seconds"].mean() / 3600
    assert list(table["Core-hours per run (mean)"]) == [
        num(core[arm]) for arm in ("resnet34", "resnet34_lr", "resnet34_selu",
                                   "resnet34_inception", "improved")
    ]  # fmt: skip
    empty = tables.progress_table(nothing)  # no records: the paper arms, nothing done
    assert len(empty) == 5 and set(empty["Seeds complete"]) == {"0 of 0"}


def test_claims_table_one_column_per_protocol_with_records(smoke):
    paper = Results("paper", smoke.folder, smoke.frame.iloc[:0])  # no paper runs yet
    assert tables.protocol_column(paper) == "Ours: paper's protocol (0/150 runs)"
    table = tables.claims_table([paper, smoke])
    family = verdicts.primary_family(smoke)
    column = tables.protocol_column(smoke)
    assert list(table.columns) == ["Claim", "Paper (points)", "Verdict", column]
    assert len(table) == len(family) == 5
    for row, j, (number, arm, epochs, d) in zip(
        table.to_dict("records"), family, claims.improvement_claims(), strict=True
    ):
        assert row["Claim"] == f"<code>{arm}</code>, {epochs} epochs (Table {number})"
        assert row["Paper (points)"] == num(d, sign=True)
        assert j.verdict in row["Verdict"] and "(smoke proxy)" in row["Verdict"]
        c = j.comparison
        assert row[column].startswith(num(c.diff, sign=True))
        n = f"n {c.n_treatment} vs {c.n_baseline}"
        assert f"{n}, p {p_value(c.p)}" in row[column] or f"{n}, CI n/a" in row[column]
    alone = tables.claims_table([paper])
    assert list(alone.columns) == ["Claim", "Paper (points)", "Verdict"]
    assert set(alone["Verdict"]) == {"no records yet"}
