"""lib.report.claims: every number the paper reports is a claim, paired with its baseline."""

from __future__ import annotations

from lib.core.arms import ARMS
from lib.report import claims


def test_every_paper_accuracy_is_one_claim():
    listed = {(arm, epochs): value for _, arm, epochs, value in claims.accuracy_claims()}
    reported = {
        (arm, epochs): value
        for arm in [claims.BASELINE, *claims.TABLE_ARMS.values()]
        for epochs, value in ARMS[arm].paper_accuracy.items()
    }
    assert listed == reported
    assert len(claims.accuracy_claims()) == len(reported)
    assert (claims.SHORT, claims.LONG) == (10, 20)
    tables_of = {(arm, e): t for t, arm, e, _ in claims.accuracy_claims()}
    # the baseline's 10 epochs are in every table, its 20 only in Table 2
    assert tables_of[claims.BASELINE, 10] == "2–5" and tables_of[claims.BASELINE, 20] == "2"


def test_improvements_are_differences_to_the_baseline():
    improvements = claims.improvement_claims()
    assert [(t, a) for t, a, _, _ in improvements] == [
        ("2", "resnet34_lr"),
        ("2", "resnet34_lr"),
        ("3", "resnet34_selu"),
        ("4", "resnet34_inception"),
        ("5", "improved"),
    ]
    for _, arm, epochs, diff in improvements:
        base = ARMS[claims.BASELINE].paper_accuracy[epochs]
        assert diff == ARMS[arm].paper_accuracy[epochs] - base
    assert claims.paper_diff("improved", 10) == 96.04 - 93.12


def test_convergence_claims_name_measured_arms():
    for claim in claims.CONVERGENCE_CLAIMS:
        assert claim.arm in ARMS and claim.baseline in ARMS
        assert claim.measure in (claims.REACH, claims.LOG_SD)
        assert claim.paper_epochs in (claims.SHORT, claims.LONG)
    # one measure per claim, and "faster" always measured the same way
    assert len({(c.arm, c.claim) for c in claims.CONVERGENCE_CLAIMS}) == 3
    assert {c.measure for c in claims.CONVERGENCE_CLAIMS if "faster" in c.claim} == {claims.REACH}


def test_every_ambiguity_has_one_default_reading():
    ambiguities = {r.ambiguity for r in claims.READINGS}
    for ambiguity in ambiguities:
        defaults = [r for r in claims.READINGS if r.ambiguity == ambiguity and r.default]
        assert len(defaults) == 1, ambiguity
    assert all(r.arm in ARMS and "{" not in r.label for r in claims.READINGS)
    assert "×0.8 per epoch" in claims.READINGS[5].label  # from RunConfig's lr_gamma
    assert set(claims.BASELINE_READINGS) <= {r.arm for r in claims.READINGS}
