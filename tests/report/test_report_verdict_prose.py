from __future__ import annotations

import dataclasses

from lib.analysis import stats
from lib.report import verdict_prose
from lib.report.claims import claim_name, improvement_claims
from lib.report.verdicts import EXACT_CLAIM, primary_family


def test_each_claim_stands_in_the_sentence_of_its_verdict(smoke):
    text = verdict_prose.claims_sentences(smoke)
    for j in primary_family(smoke):
        group = verdict_prose.GROUP.get(j.verdict)
        if group is None:
            continue
        lead = verdict_prose.GROUP_LEADS[group]
        starts = [text.find(words) for words in lead if words in text]
        assert starts and min(starts) < text.index(claim_name(j.arm, j.paper_epochs))


def test_a_reproduced_claim_that_another_analysis_would_not_call_so_is_fragile(smoke):
    j = primary_family(smoke)[-1]
    reproduced = dataclasses.replace(
        j,
        assessment=dataclasses.replace(j.assessment, verdict=stats.REPRODUCED),
        sensitivity=((EXACT_CLAIM, stats.SMALLER), ("paired t-test by seed", stats.INCONCLUSIVE)),
    )
    assert verdict_prose.fragility(reproduced) == (
        " (fragile: *direction only (smaller than claimed)* if the paper's +2.92 is taken as "
        "exact; *inconclusive* by the paired t-test by seed)"
    )
    agreeing = dataclasses.replace(reproduced, sensitivity=((EXACT_CLAIM, stats.REPRODUCED),))
    assert verdict_prose.fragility(agreeing) == ""


def test_claims_table_leads_with_claim_paper_ours_verdict(smoke):
    table = verdict_prose.claims_table(smoke)
    assert [c.split(" (")[0] for c in table.columns[:4]] == ["Claim", "Paper", "Ours", "Verdict"]
    assert len(table) == len(improvement_claims())


def test_the_proxy_is_defined_where_its_verdicts_stand(smoke, nothing):
    text = verdict_prose.proxy_summary(smoke)
    assert "a cheaper smoke proxy (width 0.125× of ResNet-34's channels" in text
    assert text.index("proxy (") < text.index("Of the paper's five improvement claims")
    assert verdict_prose.proxy_summary(nothing) == "No reduced-protocol records exist."


def test_claim_names_keep_their_capitals(smoke):
    claims = list(verdict_prose.claims_table(smoke).iloc[:, 0])
    assert "SELU instead of ReLU (Table 3)" in claims and "The Inception stem (Table 4)" in claims


def test_a_reproduced_claim_names_the_analyses_that_would_not_call_it_so(smoke, monkeypatch):
    j = primary_family(smoke)[-1]
    fragile = dataclasses.replace(
        j,
        assessment=dataclasses.replace(j.assessment, verdict=stats.REPRODUCED),
        sensitivity=(("paired t-test by seed", stats.INCONCLUSIVE),),
    )
    monkeypatch.setattr(verdict_prose, "primary_family", lambda results: [fragile])
    text = verdict_prose.claims_sentences(smoke)
    assert "(fragile: *inconclusive* by the paired t-test by seed)" in text
