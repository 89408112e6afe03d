from __future__ import annotations

import dataclasses

import pytest

from lib.analysis import stats
from lib.report import answer, gap, gap_prose
from lib.report.claims import claim_name, improvement_claims
from lib.report.verdicts import primary_family


def test_without_paper_runs_the_answer_says_nothing_can_be_judged(nothing):
    assert answer.answer(nothing).startswith("No run at the paper's own protocol is complete")


def test_the_answer_gives_protocol_seeds_absolute_gap_and_every_claim_once(smoke):
    text = answer.answer(smoke)
    assert "under its own protocol: a full-width ResNet-34 trained with Adam (batch 128" in text
    assert "2 of the paper's 10 seeds per arm" in text  # the fixtures: two seeds per arm
    gaps = gap.absolute_gaps(smoke)
    matched = int((gaps.verdict == stats.MATCHES).sum())  # two seeds: wide margins
    assert f"**{matched} of the 7 accuracies the paper reports match ours;" in text
    for _, arm, epochs, _ in improvement_claims():
        assert text.count(f"{claim_name(arm, epochs)}, ") == 1


@pytest.mark.parametrize(
    "verdict, word",
    [
        (stats.REPRODUCED, "Partly"),
        (stats.SMALLER, "Partly"),
        (stats.NOT_REPRODUCED, "No"),
        (stats.INCONCLUSIVE, "Not yet decided"),
    ],
)
def test_the_answer_opens_with_one_word_from_the_combined_claim(smoke, monkeypatch, verdict, word):
    j = primary_family(smoke)[-1]
    assert j.arm == answer.COMBINED
    judged = dataclasses.replace(j, assessment=dataclasses.replace(j.assessment, verdict=verdict))
    monkeypatch.setattr(answer, "primary_family", lambda results: [judged])
    gaps = gap.absolute_gaps(smoke).assign(verdict=stats.MISMATCH)
    monkeypatch.setattr(answer.gap, "absolute_gaps", lambda results: gaps)
    assert answer.headline(smoke).startswith(f"**{word}.** In our runs the paper's four changes")


def test_when_every_cell_is_below_the_paper_the_answer_says_none_is_reached(smoke, monkeypatch):
    gaps = gap.absolute_gaps(smoke).assign(verdict=stats.MISMATCH)
    monkeypatch.setattr(gap_prose, "absolute_gaps", lambda results: gaps)
    low, high = -gaps.gap.max(), -gaps.gap.min()
    assert gap_prose.absolute_sentence(smoke).startswith(
        f"**None of the 7 accuracies the paper reports is reached: ours are {low:.2f}–{high:.2f} "
        "points lower** (all four changes together:"
    )


def test_the_caution_measures_the_claims_against_the_closest_baseline_reading(smoke, monkeypatch):
    assert answer.baseline_caution(smoke) == ""  # the default baseline is the closest
    monkeypatch.setitem(gap.GAP_READINGS, "resnet34_selu", "a stand-in baseline")
    monkeypatch.setattr(gap_prose, "closest_reading", lambda results: ("resnet34_selu", []))
    text = answer.baseline_caution(smoke)
    c = smoke.compare("improved", "resnet34_selu")
    assert text.startswith("**A caution.** The reading of the paper's baseline closest to its")
    assert f"all four changes together move accuracy by {c.diff:+.2f} points [" in text
    assert "the Inception stem by" in text
    assert text.endswith("(two seeds of that baseline so far: a hint, not a finding).")


def test_the_limitations_give_the_compute_spent_and_left(smoke, nothing):
    from lib.report.results import campaign_left
    from lib.report.summary import core_hours

    items = answer.limitations(smoke, nothing).splitlines()
    compute = next(item for item in items if item.startswith("- **Compute.**"))
    plan = campaign_left(smoke.folder)
    assert f"The {len(smoke.runs)} runs at the paper's protocol" in compute
    assert f"{core_hours(smoke.runs).sum():.2f} core-hours on CPUs" in compute
    assert f"of {len(plan)} planned runs** still to do" in compute
