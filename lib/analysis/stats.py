"""Statistics for the book: summaries, Welch tests, the verdict rule (power and multiplicity:
``lib.analysis.power``).

Everything here is a pure function of numbers: no plotting, no files, no environment
(``lib.report.results`` decides which results the book shows).

The verdict rule (stated on the site, ``book/intro.ipynb``), for a difference the paper
reports as ``claim`` and our difference's 95 % Welch interval [lo, hi]:

* **reproduced**: the interval excludes 0 on the paper's side and the claim is not excluded;
* **direction only (smaller / larger than claimed)**: it excludes 0 on the paper's side
  and the claim is excluded;
* **opposite direction**: it excludes 0 on the other side (the change goes the other way);
* **not reproduced**: it contains 0 and the claim is excluded;
* **inconclusive**: it contains 0 and the claim is not excluded (printed with the smallest
  effect the seeds detect with 80 % power and the seeds per arm that would detect the
  claim, both for this Welch interval: ``lib.analysis.power``).

The paper's numbers are means of its own runs, so a claim is excluded when the interval of
ours minus the claim, widened by the claim's seed noise (``welch``'s ``shift``), excludes 0;
a claim given as exact is excluded when [lo, hi] excludes it.

A claim with a direction but no number (faster, smoother) is a claim whose number is
never excluded: reproduced, opposite direction or inconclusive. A contrast the paper never
made **differs (higher / lower)** when the interval excludes 0, else shows **no clear
difference**. An absolute accuracy **matches** when the 95 % interval of our mean minus the
paper's value, widened likewise, contains 0. Intervals are closed: one that touches 0 or
the claim contains it.

A pre-stated family of m claims is judged at ``power.family_alpha`` (Bonferroni): each interval
at 1 - 0.05 / m; the m differences hold together with at least 95 % confidence, and with the m
intervals of ours minus the claim at least 90 % (``power.family_confidence``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from lib.analysis.power import ALPHA, CONFIDENCE, detectable_effect, seeds_needed

REPRODUCED = "reproduced"
DIRECTION_ONLY = "direction only"
SMALLER = f"{DIRECTION_ONLY} (smaller than claimed)"
LARGER = f"{DIRECTION_ONLY} (larger than claimed)"
OPPOSITE = "opposite direction"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
DIFFERS = "differs"
HIGHER = f"{DIFFERS} (higher)"
LOWER = f"{DIFFERS} (lower)"
NO_CLEAR_DIFFERENCE = "no clear difference"
MATCHES = "matches"
MISMATCH = "does not match"
NO_DATA = "no data"
NOT_APPLICABLE = "n/a"


def finite(values: Sequence[float]) -> np.ndarray:
    """The values that are numbers (None, NaN and infinities dropped), as an array."""
    array = np.asarray([v for v in values if v is not None], dtype=float)
    return array[np.isfinite(array)]


@dataclass(frozen=True)
class Summary:
    """Mean, sample sd and the t-based CI of the mean of one arm's per-seed values."""

    n: int
    mean: float
    sd: float
    ci_low: float
    ci_high: float

    @property
    def half_width(self) -> float:
        return (self.ci_high - self.ci_low) / 2

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


def summarise(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """n, mean, sd (ddof 1) and the Student-t CI of the mean; NaN where n is too small."""
    x = finite(values)
    n, mean = len(x), float(x.mean()) if len(x) else math.nan
    if n < 2:
        return Summary(n, mean, math.nan, math.nan, math.nan)
    sd = float(x.std(ddof=1))
    half = float(sps.t.ppf((1 + confidence) / 2, n - 1)) * sd / math.sqrt(n)
    return Summary(n, mean, sd, mean - half, mean + half)


@dataclass(frozen=True)
class Comparison:
    """treatment - baseline: the difference of means, its Welch CI and the Welch t-test."""

    n_treatment: int
    n_baseline: int
    diff: float
    ci_low: float
    ci_high: float
    t: float
    df: float
    p: float

    @property
    def judged(self) -> bool:
        """Whether there is an interval to judge (two values per arm)."""
        return math.isfinite(self.ci_low) and math.isfinite(self.ci_high)

    def contains(self, value: float) -> bool:
        return self.ci_low <= value <= self.ci_high


def welch(
    treatment: Sequence[float],
    baseline: Sequence[float],
    confidence: float = CONFIDENCE,
    shift: float = 0.0,
    shift_runs: float = math.inf,
) -> Comparison:
    """Welch's unequal-variance comparison of two arms' per-seed values: ``treatment -
    baseline - shift``, its CI (Welch-Satterthwaite df) and two-sided t-test.

    ``shift`` is a claimed difference that is itself measured: a difference of two means of
    ``shift_runs`` runs each (the paper's). Its seed noise widens the interval, on the
    assumption that its arms spread as ours do: each arm's variance term s²/n becomes
    s²(1/n + 1/shift_runs). Needs two values per arm; with fewer, everything but the
    difference is NaN. Zero spread gives a zero-width CI and p = NaN (no test possible).
    """
    a, b = finite(treatment), finite(baseline)
    na, nb = len(a), len(b)
    diff = float(a.mean() - b.mean()) - shift if na and nb else math.nan
    if na < 2 or nb < 2:
        return Comparison(na, nb, diff, math.nan, math.nan, math.nan, math.nan, math.nan)
    terms = [(x.var(ddof=1) * (1 / len(x) + 1 / shift_runs), len(x) - 1) for x in (a, b)]
    return t_interval(na, nb, diff, terms, confidence)


def t_interval(
    n_treatment: int,
    n_baseline: int,
    estimate: float,
    terms: Sequence[tuple[float, float]],
    confidence: float = CONFIDENCE,
) -> Comparison:
    """``estimate`` with the Student-t CI and two-sided test of its variance, a sum of
    independent estimated terms, each (variance, its df): Welch-Satterthwaite df."""
    variance = float(sum(v for v, _ in terms))
    if variance == 0:
        return Comparison(n_treatment, n_baseline, estimate, estimate, estimate, *[math.nan] * 3)
    df = variance**2 / sum(v**2 / d for v, d in terms)
    se = math.sqrt(variance)
    half = float(sps.t.ppf((1 + confidence) / 2, df)) * se
    t = estimate / se
    p = float(2 * sps.t.sf(abs(t), df))
    return Comparison(n_treatment, n_baseline, estimate, estimate - half, estimate + half, t, df, p)


# --- the rule ---------------------------------------------------------------------------


def decide(
    estimate: float,
    excludes_zero: bool,
    excludes_claim: bool,
    claim: float | None = None,
    direction: int = 0,
) -> str:
    """The rule, from what a test says about 0 and about the claim.

    ``claim``: the paper's difference; ``direction`` (+1 / -1): a claim with a sign but no
    number (its number is never excluded); neither: a contrast the paper never made.
    Any test that decides "excludes x" can feed it: the Welch interval, a permutation test.
    """
    if claim is None and not direction:
        if not excludes_zero:
            return NO_CLEAR_DIFFERENCE
        return HIGHER if estimate > 0 else LOWER
    side = math.copysign(1.0, claim) if claim is not None else direction
    if excludes_zero:
        if estimate * side < 0:
            return OPPOSITE
        if claim is None or not excludes_claim:
            return REPRODUCED
        return SMALLER if abs(estimate) < abs(claim) else LARGER
    return NOT_REPRODUCED if excludes_claim else INCONCLUSIVE


def interval_verdict(
    comparison: Comparison,
    claim: float | None = None,
    direction: int = 0,
    against: Comparison | None = None,
) -> str:
    """The rule applied to an interval (Welch's: the primary verdict). ``against``: ours
    minus a measured claim (``welch``'s ``shift``), which excludes the claim when it
    excludes 0; without it the claim counts as exact."""
    if not comparison.judged:
        return NO_DATA
    if claim is None:
        excludes_claim = False
    elif against is None:
        excludes_claim = not comparison.contains(claim)
    else:
        excludes_claim = not against.contains(0.0)
    return decide(comparison.diff, not comparison.contains(0.0), excludes_claim, claim, direction)


def accuracy_verdict(summary: Summary, paper_value: float, paper_runs: float = math.inf) -> str:
    """An absolute accuracy matches when ours minus the paper's value, a mean of
    ``paper_runs`` runs spread as ours, has an interval that contains 0 (with one exact
    paper value: when our CI contains it)."""
    if not (math.isfinite(summary.ci_low) and math.isfinite(summary.ci_high)):
        return NO_DATA
    return MATCHES if abs(summary.mean - paper_value) <= margin(summary, paper_runs) else MISMATCH


def margin(summary: Summary, paper_runs: float = math.inf, runs: int | None = None) -> float:
    """The half-width of the interval of our mean minus a mean of ``paper_runs`` runs spread
    as ours: t sd sqrt(1/n + 1/paper_runs), t and sd from ``summary``, n its seeds or
    ``runs`` (a mean of that many runs spread as ``summary``'s: one seed of a reading)."""
    n = summary.n if runs is None else runs
    return summary.half_width * math.sqrt(summary.n * (1 / n + 1 / paper_runs)) if n else math.nan


# --- the judgement: verdict and power ----------------------------------------------------


def sample_sd(values: Sequence[float]) -> float:
    """The sample sd (ddof 1) of the finite values; NaN below two."""
    return summarise(values).sd


@dataclass(frozen=True)
class Assessment:
    """One comparison judged: the Welch verdict and what these seeds can detect (the
    sensitivity analyses are ``lib.analysis.sensitivity``'s)."""

    comparison: Comparison
    claim: float | None  # the paper's difference, None for a direction or a contrast
    verdict: str
    detectable: float  # smallest true difference this Welch interval detects with POWER
    target: float  # what a decision is about: the claim, else the observed difference
    seeds_needed: float  # per arm, to detect ``target`` with POWER (inf: over the cap)
    alpha: float = ALPHA  # the level of the interval, the power and the seeds needed
    against: Comparison | None = None  # ours minus the claim, with the claim's own noise


@dataclass(frozen=True)
class Rule:
    """What a comparison is judged against, and at which level: the paper's claimed
    difference (points, a difference of means of ``claim_runs`` runs per arm; infinite:
    exact), or a ``direction`` (+1/-1), or neither (a contrast), every test at ``alpha``."""

    claim: float | None = None
    direction: int = 0
    alpha: float = ALPHA
    claim_runs: float = math.inf

    @property
    def confidence(self) -> float:
        return 1 - self.alpha

    def against(self, compare) -> Comparison | None:
        """Ours minus the claim, with its noise, by ``compare`` (welch or paired); or None."""
        claim, runs = self.claim, self.claim_runs
        return None if claim is None else compare(self.confidence, shift=claim, shift_runs=runs)

    def verdict(self, comparison: Comparison, against: Comparison | None) -> str:
        return interval_verdict(comparison, self.claim, self.direction, against)


CONTRAST = Rule()  # no claim, no direction: an estimate with its interval


def assess(
    treatment: Sequence[float], baseline: Sequence[float], rule: Rule = CONTRAST
) -> Assessment:
    """Judge ``treatment - baseline`` by ``rule`` with 1 - alpha Welch intervals, and the
    power of that interval to exclude 0 for arms spread as these (``lib.analysis.power``,
    each arm's own sd)."""
    c = welch(treatment, baseline, confidence=rule.confidence)
    against = rule.against(functools.partial(welch, treatment, baseline))
    sd_t, sd_b = sample_sd(treatment), sample_sd(baseline)
    target = c.diff if rule.claim is None else rule.claim
    return Assessment(
        comparison=c,
        claim=rule.claim,
        verdict=rule.verdict(c, against),
        detectable=detectable_effect(sd_t, c.n_treatment, c.n_baseline, rule.alpha, sd_b),
        target=target,
        seeds_needed=seeds_needed(target, sd_t, rule.alpha, sd_b),
        alpha=rule.alpha,
        against=against,
    )
