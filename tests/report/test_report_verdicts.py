"""lib.report.verdicts: the rule on the records, the primary family judged together, n/a,
sensitivity."""

from __future__ import annotations

import dataclasses
import math

import pandas as pd
import pytest

from lib.analysis import power, sensitivity, stats
from lib.analysis.stats import Rule
from lib.report import claims, verdicts
from lib.report.results import LAST_TWO


def test_primary_family_is_the_papers_five_claims_judged_together(smoke):
    family = verdicts.primary_family(smoke)
    assert [(j.arm, j.paper_epochs) for j in family] == [
        (arm, epochs) for _, arm, epochs, _ in claims.improvement_claims()
    ]
    raw = [j.comparison.p for j in family]
    assert [j.family_p for j in family] == power.bonferroni(raw)
    assert [j.alpha for j in family] == [pytest.approx(0.01)] * 5  # 0.05 over five claims
    for j in family:  # each judged at 1 %: its interval, power and sensitivity
        alone = verdicts.judge(smoke, j.arm, paper_epochs=j.paper_epochs, claim=j.assessment.claim)
        assert j.assessment == stats.assess(
            smoke.values(j.arm, j.paper_epochs),
            smoke.values("resnet34", j.paper_epochs),
            Rule(claim=j.assessment.claim, alpha=j.alpha, claim_runs=10),
        )
        assert j.comparison.p == alone.comparison.p
        assert j.comparison.ci_high - j.comparison.ci_low > (
            alone.comparison.ci_high - alone.comparison.ci_low
        )
    assert [j.assessment.claim for j in family] == [d for *_, d in claims.improvement_claims()]
    lr = verdicts.primary_judgement(smoke, "resnet34_lr", claims.LONG)
    assert lr == family[1]


def test_claim_judgement_finds_only_the_papers_claims(smoke):
    improved = verdicts.claim_judgement(smoke, "improved", claims.SHORT, "resnet34")
    assert improved in verdicts.primary_family(smoke)
    assert (improved.arm, improved.paper_epochs) == ("improved", claims.SHORT)
    assert improved == verdicts.primary_judgement(smoke, "improved", claims.SHORT)
    # the same arm against another baseline, or at another epoch, is a contrast, not a claim
    assert verdicts.claim_judgement(smoke, "improved", claims.SHORT, "resnet34_selu") is None
    assert verdicts.claim_judgement(smoke, "resnet34_selu", claims.LONG) is None
    with pytest.raises(KeyError, match="not one of the paper's claims"):
        verdicts.primary_judgement(smoke, "resnet34_selu", claims.LONG)


def test_a_claim_on_mixed_precisions_is_also_judged_on_its_bf16_runs_alone(smoke):
    assert set(smoke.runs["precision"]) == {"bf16"}
    assert all(
        verdicts.BF16_ALONE not in dict(j.sensitivity) for j in verdicts.primary_family(smoke)
    )
    frame = smoke.frame
    fp32 = frame[frame["arm"] == "resnet34"].assign(seed=lambda f: f["seed"] + 10, precision="fp32")
    mixed = dataclasses.replace(smoke, frame=pd.concat([frame, fp32], ignore_index=True))
    for j, alone in zip(
        verdicts.primary_family(mixed), verdicts.primary_family(smoke), strict=True
    ):
        assert dict(j.sensitivity)[verdicts.BF16_ALONE] == alone.verdict  # the baseline mixes
        assert j.comparison.n_baseline == 2 * alone.comparison.n_baseline


def test_a_judgement_is_the_rule_on_the_records(smoke):
    j = verdicts.judge(smoke, "improved", claim=2.92)
    a, b = smoke.values("improved"), smoke.values("resnet34")
    assert j.assessment == stats.assess(a, b, Rule(claim=2.92, claim_runs=10))
    last_two = stats.assess(
        smoke.values("improved", reading=LAST_TWO),
        smoke.values("resnet34", reading=LAST_TWO),
        Rule(claim=2.92, claim_runs=10),
    ).verdict
    # two seeds per arm: 6 relabellings, so the permutation test (p >= 1/3) is left out
    assert dict(j.sensitivity) == {
        sensitivity.PAIRED: sensitivity.paired_verdict(a, b, Rule(claim=2.92, claim_runs=10)),
        verdicts.LAST_TWO_EPOCHS: last_two,
        verdicts.EXACT_CLAIM: stats.assess(a, b, Rule(claim=2.92)).verdict,
    }
    contrast = verdicts.judge(smoke, "improved")  # no number: nothing to take as exact
    assert verdicts.EXACT_CLAIM not in dict(contrast.sensitivity)
    assert not j.identical and math.isnan(j.family_p)  # adjusted p: the family's only
    assert j.alpha == stats.ALPHA
    assert j.changes == [(name, v) for name, v in j.sensitivity if v != j.verdict]


def test_an_arm_identical_to_its_baseline_is_not_applicable(smoke):
    # the step schedule first decays after epoch 5: at the smoke profile's epochs 2 and 4
    # resnet34_lr_step trains exactly like the constant-LR baseline
    for epochs in (claims.SHORT, claims.LONG):
        j = verdicts.judge(smoke, "resnet34_lr_step", paper_epochs=epochs, claim=0.1)
        assert j.identical and j.verdict == stats.NOT_APPLICABLE and j.changes == []
    assert not verdicts.judge(smoke, "resnet34_lr", claim=0.1).identical


def test_the_exact_claim_reading_of_a_reproduced_claim(smoke):
    j = verdicts.judge(smoke, "improved", claim=2.92)
    analyses = [a for a in j.sensitivity if a[0] != verdicts.EXACT_CLAIM]

    def judged(verdict, exact):
        assessment = dataclasses.replace(j.assessment, verdict=verdict)
        sensitivity = (*analyses, (verdicts.EXACT_CLAIM, exact))
        return dataclasses.replace(j, assessment=assessment, sensitivity=sensitivity)

    # reproduced only with the paper's seed noise: the headline gives both readings
    assert verdicts.exact_claim_reading(judged(stats.REPRODUCED, stats.SMALLER)) == stats.SMALLER
    assert verdicts.exact_claim_reading(judged(stats.REPRODUCED, stats.LARGER)) == stats.LARGER
    # an open claim that the paper's number taken as exact would settle
    exact = judged(stats.INCONCLUSIVE, stats.NOT_REPRODUCED)
    assert verdicts.exact_claim_reading(exact) == stats.NOT_REPRODUCED
    # the readings agree: one reading
    assert verdicts.exact_claim_reading(judged(stats.REPRODUCED, stats.REPRODUCED)) is None
    assert verdicts.exact_claim_reading(judged(stats.SMALLER, stats.SMALLER)) is None
    identical = dataclasses.replace(judged(stats.REPRODUCED, stats.SMALLER), identical=True)
    assert verdicts.exact_claim_reading(identical) is None  # n/a
    assert verdicts.exact_claim_reading(verdicts.judge(smoke, "improved")) is None  # contrast


def test_sensitivity_disagreements():
    same = [(sensitivity.PERMUTATION, stats.REPRODUCED)]
    assert verdicts.disagreements(stats.REPRODUCED, same) == []
    other = [(verdicts.LAST_TWO_EPOCHS, stats.INCONCLUSIVE)]
    assert verdicts.disagreements(stats.REPRODUCED, other) == other
    assert verdicts.disagreements(stats.NO_DATA, other) == []
    assert verdicts.disagreements(stats.NOT_APPLICABLE, other) == []
