"""Statistics for the book: summaries, Welch tests, the verdict rule, power, multiplicity.

Everything here is a pure function of numbers: no plotting, no files, no environment
(``lib.report.results`` decides which results the book shows).

The verdict rule (stated on the site, ``book/intro.ipynb``), for a difference the paper
reports as ``claim`` and our difference's 95 % Welch interval [lo, hi]:

* **reproduced**: the interval excludes 0 on the paper's side and contains the claim;
* **direction only (smaller / larger than claimed)**: it excludes 0 on the paper's side
  and excludes the claim;
* **not reproduced**: it contains 0 and excludes the claim, or lies on the other side of 0;
* **inconclusive**: it contains both 0 and the claim (printed with the smallest effect the
  seeds detect at 80 % power and the seeds per arm that would detect the claim).

A claim with a direction but no number (faster, smoother) is a claim whose number is
never excluded. A contrast the paper never made **differs (higher / lower)** when the
interval excludes 0, else shows **no clear difference**. An absolute accuracy **matches**
when the paper's value lies in the 95 % interval of our mean. Intervals are closed: one
that touches 0 or the claim contains it.

A pre-stated family of claims is judged at ``family_alpha`` (Bonferroni): each interval at
1 - 0.05 / m, so that all m verdicts hold together with 95 % confidence, and each p value
is multiplied by m (``bonferroni``), so that p < 0.05 exactly when that interval excludes 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # two-sided
POWER = 0.8  # for the smallest detectable effect and the seeds needed

REPRODUCED = "reproduced"
DIRECTION_ONLY = "direction only"
SMALLER = f"{DIRECTION_ONLY} (smaller than claimed)"
LARGER = f"{DIRECTION_ONLY} (larger than claimed)"
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
    n = len(x)
    if n == 0:
        return Summary(0, math.nan, math.nan, math.nan, math.nan)
    mean = float(x.mean())
    if n == 1:
        return Summary(1, mean, math.nan, math.nan, math.nan)
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
    treatment: Sequence[float], baseline: Sequence[float], confidence: float = CONFIDENCE
) -> Comparison:
    """Welch's unequal-variance comparison of two arms' per-seed values.

    The p-value is ``scipy.stats.ttest_ind(equal_var=False)``'s (two-sided); the CI of the
    difference uses the Welch-Satterthwaite degrees of freedom. Needs two values per arm;
    with fewer, everything but the difference is NaN. Two arms with zero spread give a
    zero-width CI and p = NaN (no test possible).
    """
    a, b = finite(treatment), finite(baseline)
    na, nb = len(a), len(b)
    diff = float(a.mean() - b.mean()) if na and nb else math.nan
    if na < 2 or nb < 2:
        return Comparison(na, nb, diff, math.nan, math.nan, math.nan, math.nan, math.nan)
    va, vb = a.var(ddof=1) / na, b.var(ddof=1) / nb
    se = math.sqrt(va + vb)
    if se == 0:
        return Comparison(na, nb, diff, diff, diff, math.nan, math.nan, math.nan)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    half = float(sps.t.ppf((1 + confidence) / 2, df)) * se
    test = sps.ttest_ind(a, b, equal_var=False)
    return Comparison(
        na, nb, diff, diff - half, diff + half, float(test.statistic), float(df), float(test.pvalue)
    )


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
    if excludes_zero and estimate * side > 0:
        if claim is None or not excludes_claim:
            return REPRODUCED
        return SMALLER if abs(estimate) < abs(claim) else LARGER
    if excludes_zero or excludes_claim:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def interval_verdict(comparison: Comparison, claim: float | None = None, direction: int = 0) -> str:
    """The rule applied to the Welch interval (the primary verdict)."""
    if not comparison.judged:
        return NO_DATA
    excludes_claim = claim is not None and not comparison.contains(claim)
    return decide(comparison.diff, not comparison.contains(0.0), excludes_claim, claim, direction)


def accuracy_verdict(summary: Summary, paper_value: float) -> str:
    """An absolute accuracy matches when the paper's value lies in our 95 % CI."""
    if not (math.isfinite(summary.ci_low) and math.isfinite(summary.ci_high)):
        return NO_DATA
    return MATCHES if summary.contains(paper_value) else MISMATCH


# --- power and multiplicity ---------------------------------------------------------------


def pooled_sd(treatment: Sequence[float], baseline: Sequence[float]) -> float:
    """The two arms' pooled sd (the scale of the two-sample t-test); NaN below 2 + 2."""
    a, b = finite(treatment), finite(baseline)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    ss = a.var(ddof=1) * (len(a) - 1) + b.var(ddof=1) * (len(b) - 1)
    return math.sqrt(ss / (len(a) + len(b) - 2))


def detectable_effect(
    sd: float, n_treatment: int, n_baseline: int | None = None, alpha: float = ALPHA
) -> float:
    """The smallest true difference that a two-sided two-sample t-test at ``alpha`` detects
    with ``POWER`` at these n and this sd (statsmodels' ``TTestIndPower``)."""
    n_baseline = n_treatment if n_baseline is None else n_baseline
    if min(n_treatment, n_baseline) < 2 or not math.isfinite(sd):
        return math.nan
    power, design = TTestIndPower(), dict(nobs1=n_baseline, ratio=n_treatment / n_baseline)
    cohen_d = power.solve_power(**design, alpha=alpha, power=POWER)
    # Where scipy's noncentral t fails (2 + 2 seeds at 1 %: NaN power) the solver stops at
    # a bound whose power is not POWER, or at a d no power confirms: no answer, not a wrong one.
    if not abs(power.power(cohen_d, **design, alpha=alpha) - POWER) < 1e-3:
        return math.nan
    return float(cohen_d) * sd


def seeds_needed(effect: float, sd: float, alpha: float = ALPHA) -> float:
    """Seeds per arm for that t-test at ``alpha`` to detect ``effect`` with ``POWER``; NaN
    when there is no spread or no effect to detect."""
    if not (math.isfinite(effect) and math.isfinite(sd)) or effect == 0 or sd == 0:
        return math.nan
    power = TTestIndPower()
    cohen_d = abs(effect) / sd
    # Two is the fewest a t-test can use (the solver only searches above it). The power
    # is NaN for very large effects (scipy's noncentral t gives up where it is near 1).
    if not power.power(cohen_d, nobs1=2, alpha=alpha) < POWER:
        return 2.0
    return float(math.ceil(power.solve_power(cohen_d, alpha=alpha, power=POWER)))


def family_alpha(size: int) -> float:
    """Each test's level in a pre-stated family of ``size`` (Bonferroni): every interval at
    1 - ALPHA / size, so that the family's intervals all hold together at 1 - ALPHA."""
    return ALPHA / size


def bonferroni(pvalues: Sequence[float]) -> list[float]:
    """Bonferroni-adjusted p values of a pre-stated family (statsmodels' ``multipletests``):
    below ``ALPHA`` exactly when the test's ``family_alpha`` interval excludes 0.

    A test without a p (NaN: too few runs) stays NaN; the family keeps its pre-stated size.
    """
    p = np.asarray(pvalues, dtype=float)
    if not len(p):
        return []
    present = np.isfinite(p)
    adjusted = multipletests(np.where(present, p, 1.0), method="bonferroni")[1]
    return [float(a) if ok else math.nan for a, ok in zip(adjusted, present, strict=True)]


@dataclass(frozen=True)
class Assessment:
    """One comparison judged: the Welch verdict and what these seeds can detect (the
    sensitivity analyses are ``lib.sensitivity``'s)."""

    comparison: Comparison
    claim: float | None  # the paper's difference, None for a direction or a contrast
    verdict: str
    detectable: float  # smallest true difference these n detect with POWER
    target: float  # what a decision is about: the claim, else the observed difference
    seeds_needed: float  # per arm, to detect ``target`` with POWER
    alpha: float = ALPHA  # the level of the interval, the power and the seeds needed


def assess(
    treatment: Sequence[float],
    baseline: Sequence[float],
    claim: float | None = None,
    direction: int = 0,
    alpha: float = ALPHA,
) -> Assessment:
    """Judge ``treatment - baseline`` against a claim, a direction or nothing (a contrast),
    with the 1 - ``alpha`` Welch interval and power at ``alpha``."""
    c = welch(treatment, baseline, confidence=1 - alpha)
    sd = pooled_sd(treatment, baseline)
    target = c.diff if claim is None else claim
    return Assessment(
        comparison=c,
        claim=claim,
        verdict=interval_verdict(c, claim, direction),
        detectable=detectable_effect(sd, c.n_treatment, c.n_baseline, alpha),
        target=target,
        seeds_needed=seeds_needed(target, sd, alpha),
        alpha=alpha,
    )
