"""The rule applied to the records: every claim and contrast judged the same way.

The paper's five improvement claims are the pre-stated primary family, judged together
(Bonferroni, ``power.family_alpha``): every interval at 99 %, with Bonferroni-adjusted
p values. A claim's verdict reads two intervals (ours, and ours minus the paper's
difference), so all ten hold together with at least 90 % confidence and the five
differences alone with at least 95 % (``power.family_confidence``). Every other
comparison is exploratory, at 95 %.

Each Welch verdict on the final epoch has sensitivity verdicts beside it, at the same
level, that never replace it: the exact permutation test (where it can decide) and the
paired t-test by seed (``lib.analysis.sensitivity``), Welch on the mean of the last two epochs as
endpoint and, for a claim with a number, that number taken as exact (without the noise of
the paper's runs); for a paper claim whose arms mix bf16 and fp32 runs, the claim judged on
the bf16 runs alone. An arm that trains identically to its baseline through the compared
epoch gets n/a.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from lib.analysis import power, sensitivity, stats
from lib.core.arms import PAPER_RUNS
from lib.report.architecture import trains_identically
from lib.report.claims import BASELINE, SHORT, improvement_claims
from lib.report.results import LAST_TWO, Results

LAST_TWO_EPOCHS = "mean of the last two epochs"
EXACT_CLAIM = "paper's number taken as exact"  # no seed noise of its runs
BF16_ALONE = "bf16 runs alone"  # the precision the hardware allowed is no treatment


@dataclass(frozen=True)
class Judgement:
    """One comparison of two arms at the paper's ``paper_epochs``, judged by the rule."""

    arm: str
    baseline: str
    paper_epochs: int
    assessment: stats.Assessment  # Welch on the final epoch (the verdict) and power
    sensitivity: tuple[tuple[str, str], ...]  # (analysis, its verdict), never the verdict
    identical: bool  # the two arms train identically through the compared epoch
    alpha: float = stats.ALPHA  # each test's level: power.family_alpha in the primary family
    family_p: float = math.nan  # Bonferroni-adjusted p, set for the primary family only

    @property
    def comparison(self) -> stats.Comparison:
        return self.assessment.comparison

    @property
    def verdict(self) -> str:
        return stats.NOT_APPLICABLE if self.identical else self.assessment.verdict

    @property
    def changes(self) -> list[tuple[str, str]]:
        return disagreements(self.verdict, list(self.sensitivity))


def disagreements(verdict: str, sensitivity: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The (analysis, verdict) pairs of ``sensitivity`` that change a judged ``verdict``."""
    if verdict in (stats.NOT_APPLICABLE, stats.NO_DATA):
        return []
    return [(name, other) for name, other in sensitivity if other != verdict]


def judge(
    results: Results,
    arm: str,
    baseline: str = BASELINE,
    paper_epochs: int = SHORT,
    claim: float | None = None,
    direction: int = 0,
    alpha: float = stats.ALPHA,
) -> Judgement:
    """``arm - baseline`` against the paper's ``claim`` (points, a difference of means of
    ``PAPER_RUNS`` runs per arm), a ``direction`` (+1/-1) or nothing (a contrast the paper
    never made), every test at level ``alpha``."""
    treatment, control = results.values(arm, paper_epochs), results.values(baseline, paper_epochs)
    rule = stats.Rule(claim, direction, alpha, claim_runs=PAPER_RUNS)
    last_two = stats.assess(
        results.values(arm, paper_epochs, LAST_TWO),
        results.values(baseline, paper_epochs, LAST_TWO),
        rule,
    ).verdict
    analyses = [*sensitivity.verdicts(treatment, control, rule), (LAST_TWO_EPOCHS, last_two)]
    if claim is not None:  # the assumption about the paper's noise, dropped
        exact = stats.assess(treatment, control, dataclasses.replace(rule, claim_runs=math.inf))
        analyses.append((EXACT_CLAIM, exact.verdict))
    horizon = results.horizon(paper_epochs)
    return Judgement(
        arm,
        baseline,
        paper_epochs,
        assessment=stats.assess(treatment, control, rule),
        sensitivity=tuple(analyses),
        identical=trains_identically(arm, baseline, results.model_profile, horizon),
        alpha=alpha,
    )


def primary_family(results: Results) -> list[Judgement]:
    """The paper's improvements over the baseline, in the paper's order, judged together:
    every test at ``power.family_alpha`` of the five, Welch p values Bonferroni-adjusted."""
    claims = improvement_claims()
    alpha = power.family_alpha(len(claims))
    judged = [judge(results, arm, BASELINE, e, claim=d, alpha=alpha) for _, arm, e, d in claims]
    adjusted = power.bonferroni([j.comparison.p for j in judged])
    family = [dataclasses.replace(j, family_p=p) for j, p in zip(judged, adjusted, strict=True)]
    return _with_precision_check(results, family)


def _with_precision_check(results: Results, family: list[Judgement]) -> list[Judgement]:
    """Each claim whose two arms mix bf16 and fp32 runs gets, beside its other sensitivity
    analyses, its verdict on the bf16 runs alone (the same family judged on them)."""
    bf16 = results.in_precision("bf16")
    if len(bf16.runs) in (0, len(results.runs)):
        return family
    alone = {(j.arm, j.paper_epochs): j.verdict for j in primary_family(bf16)}
    checked = []
    for j in family:
        arms = results.runs[results.runs["arm"].isin([j.arm, j.baseline])]
        verdict = alone[(j.arm, j.paper_epochs)]
        if arms["precision"].nunique() > 1 and verdict != stats.NO_DATA:
            j = dataclasses.replace(j, sensitivity=(*j.sensitivity, (BF16_ALONE, verdict)))
        checked.append(j)
    return checked


def claim_judgement(
    results: Results, arm: str, paper_epochs: int, baseline: str | None = None
) -> Judgement | None:
    """The primary family's judgement of ``arm`` at ``paper_epochs`` (against ``baseline``
    where given); None where that contrast is not one of the paper's claims."""
    return next(
        (
            j
            for j in primary_family(results)
            if (j.arm, j.paper_epochs) == (arm, paper_epochs) and baseline in (None, j.baseline)
        ),
        None,
    )


def primary_judgement(results: Results, arm: str, paper_epochs: int) -> Judgement:
    """The primary family's judgement of ``arm`` at ``paper_epochs``, which must be a claim."""
    judgement = claim_judgement(results, arm, paper_epochs)
    if judgement is None:
        raise KeyError(f"{arm} at {paper_epochs} epochs is not one of the paper's claims")
    return judgement


def exact_claim_reading(judgement: Judgement) -> str | None:
    """The verdict with the paper's number taken as exact, where it differs from the rule's
    (which lets that number carry the seed noise of its own runs), so that a headline gives
    both readings: "reproduced" only with the paper's noise becomes "direction only (smaller
    / larger than claimed)", an inconclusive claim may become "not reproduced". None where
    the readings agree, for n/a and no data, and for a contrast (no claim)."""
    if judgement.verdict in (stats.NOT_APPLICABLE, stats.NO_DATA):
        return None
    exact = dict(judgement.sensitivity).get(EXACT_CLAIM)
    return exact if exact not in (None, judgement.verdict) else None
