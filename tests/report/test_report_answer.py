from __future__ import annotations

import dataclasses

import pytest

from lib.analysis import stats
from lib.report import answer, gap, gap_prose
from lib.report.claims import claim_name, improvement_claims
from lib.report.verdicts import EXACT_CLAIM, primary_family


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


def test_each_claim_stands_in_the_sentence_of_its_verdict(smoke):
    text = answer.claims_sentences(smoke)
    for j in primary_family(smoke):
        group = answer.GROUP.get(j.verdict)
        if group is None:
            continue
        lead = answer.GROUP_LEADS[group]
        starts = [text.find(words) for words in lead if words in text]
        assert starts and min(starts) < text.index(claim_name(j.arm, j.paper_epochs))


def test_a_reproduced_claim_that_another_analysis_would_not_call_so_is_fragile(smoke):
    j = primary_family(smoke)[-1]
    reproduced = dataclasses.replace(
        j,
        assessment=dataclasses.replace(j.assessment, verdict=stats.REPRODUCED),
        sensitivity=((EXACT_CLAIM, stats.SMALLER), ("paired t-test by seed", stats.INCONCLUSIVE)),
    )
    assert answer.fragility(reproduced) == (
        " (fragile: *direction only (smaller than claimed)* if the paper's +2.92 is taken as "
        "exact; *inconclusive* by the paired t-test by seed)"
    )
    agreeing = dataclasses.replace(reproduced, sensitivity=((EXACT_CLAIM, stats.REPRODUCED),))
    assert answer.fragility(agreeing) == ""


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


def test_claims_table_leads_with_claim_paper_ours_verdict(smoke):
    table = answer.claims_table(smoke)
    assert [c.split(" (")[0] for c in table.columns[:4]] == ["Claim", "Paper", "Ours", "Verdict"]
    assert len(table) == len(improvement_claims())


def test_the_proxy_is_defined_where_its_verdicts_stand(smoke, nothing):
    text = answer.proxy_summary(smoke)
    assert "the `smoke` profile (width 0.125× of ResNet-34's channels" in text
    assert text.index("profile (") < text.index("Of the paper's five improvement claims")
    assert answer.proxy_summary(nothing) == "No reduced-protocol records exist."


def test_when_every_cell_is_below_the_paper_the_answer_says_none_is_reached(smoke, monkeypatch):
    gaps = gap.absolute_gaps(smoke).assign(verdict=stats.MISMATCH)
    monkeypatch.setattr(gap_prose, "absolute_gaps", lambda results: gaps)
    low, high = -gaps.gap.max(), -gaps.gap.min()
    assert gap_prose.absolute_sentence(smoke).startswith(
        f"**None of the 7 accuracies the paper reports is reached: ours are {low:.2f}–{high:.2f} "
        "points lower** (all four changes together:"
    )


def test_claim_names_keep_their_capitals(smoke):
    claims = list(answer.claims_table(smoke).iloc[:, 0])
    assert "SELU instead of ReLU (Table 3)" in claims and "The Inception stem (Table 4)" in claims


def test_a_reproduced_claim_names_the_analyses_that_would_not_call_it_so(smoke, monkeypatch):
    j = primary_family(smoke)[-1]
    fragile = dataclasses.replace(
        j,
        assessment=dataclasses.replace(j.assessment, verdict=stats.REPRODUCED),
        sensitivity=(("paired t-test by seed", stats.INCONCLUSIVE),),
    )
    monkeypatch.setattr(answer, "primary_family", lambda results: [fragile])
    text = answer.claims_sentences(smoke)
    assert "(fragile: *inconclusive* by the paired t-test by seed)" in text
