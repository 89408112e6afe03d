"""lib.report.tables: the paper's numbers beside ours, one row per claim."""

from __future__ import annotations

import dataclasses
import math

from lib.analysis import stats
from lib.core.arms import ARMS
from lib.report import claims, tables, verdicts
from lib.report.formatting import CI, code, interval, mean_sd, num, p_value


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
    main, table = tables.primary_table(smoke), tables.primary_table(smoke, detail=True)
    family = verdicts.primary_family(smoke)
    assert len(main) == len(table) == len(family) == 5
    assert list(main.columns) == [
        *tables.PRIMARY_MAIN[:4], "Ours, final epoch (simultaneous 95 % CI)", "Verdict"
    ]  # fmt: skip
    for cell, j in zip(main["Ours, final epoch (simultaneous 95 % CI)"], family, strict=True):
        c = j.comparison
        ci = interval(c.ci_low, c.ci_high, sign=True)  # the family's interval, the one judged
        n = f"n {c.n_treatment} vs {c.n_baseline}"
        p = f"Welch p {p_value(c.p)}"
        assert cell == f"{num(c.diff, sign=True)}<br><small>{ci}, {n}, {p}</small>"
    assert list(table["Bonferroni p (family of 5)"]) == [p_value(j.family_p) for j in family]
    assert "95 % CI" not in table.columns and "Verdict" not in table.columns
    table["Verdict"] = main["Verdict"]
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
    # improved - resnet34 is the paper's Table 5 claim: its primary verdict, the only one
    primary = verdicts.primary_judgement(smoke, "improved", 10).verdict
    verdict = rows["Verdict (exploratory)"]
    assert f"{primary} (smoke proxy)" in verdict[0] and "Table 5 claim" in verdict[0]
    assert rows["Sensitivity"][0] == "—"
    assert stats.NO_DATA in verdict[1]
    assert stats.NOT_APPLICABLE in verdict[2] and rows["Sensitivity"][2] == "—"
    # ... with the interval that verdict reads: the family's simultaneous one
    c = verdicts.primary_judgement(smoke, "improved", 10).comparison
    difference = rows["Difference (points, 95 % CI)"][0]
    assert difference.startswith(
        f"{num(c.diff, sign=True)} {interval(c.ci_low, c.ci_high, sign=True)}<br><small>"
        "simultaneous 95 % CI</small>"
    )
    assert c.ci_high - c.ci_low > verdicts.judge(smoke, "improved").comparison.ci_high - (
        verdicts.judge(smoke, "improved").comparison.ci_low
    )
    assert f"n {c.n_treatment} vs {c.n_baseline}, Welch p {p_value(c.p)}" in difference


def test_spread_table_one_row_per_arm_with_runs(smoke):
    spread = tables.spread_table(smoke)
    with_runs = [arm for arm in ARMS if smoke.summary(arm).n]
    assert list(spread["Arm"]) == [code(arm) for arm in with_runs]
    assert list(spread["n"]) == [2] * 5


def test_a_contrast_with_a_one_seed_arm_is_an_estimate_without_verdict(smoke):
    seed_0 = smoke.frame[(smoke.frame.arm != "resnet34_selu") | (smoke.frame.seed == 0)]
    row = tables.contrast_row(
        dataclasses.replace(smoke, frame=seed_0), "resnet34_selu", "resnet34_lr", "q"
    )
    diff = smoke.values("resnet34_selu")[0] - smoke.values("resnet34_lr").mean()
    assert row["Difference (points, 95 % CI)"].startswith(f"{num(diff, sign=True)}<br>")
    assert "n 1 vs 2: no interval" in row["Difference (points, 95 % CI)"]
    assert row["Verdict (exploratory)"] == "none yet: one seed (partial)"


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
    assert len(empty) == 5 and set(empty["Seeds complete"]) == {"0 (not planned)"}  # no profile
