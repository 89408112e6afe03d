"""Statistics for the book: summaries, confidence intervals, Welch tests, verdicts, convergence.

Everything here is a pure function of numbers: no plotting, no files, no environment
(``lib.report.results`` decides which results the book shows).

The verdict rule (stated on the site):

* an improvement is **reproduced** when our difference has the paper's sign and its 95 %
  CI excludes zero; **not reproduced** when the CI excludes the paper's difference and
  includes zero or lies on the opposite side; otherwise **inconclusive**;
* an absolute accuracy **matches** when the paper's value lies in our 95 % CI.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

CONFIDENCE = 0.95

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NO_DATA = "no data"
MATCHES = "matches"
DIFFERS = "does not match"
CONTRADICTED = "contradicted"


def _clean(values: Sequence[float]) -> np.ndarray:
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
    x = _clean(values)
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
    a, b = _clean(treatment), _clean(baseline)
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


def improvement_verdict(comparison: Comparison, paper_diff: float) -> str:
    """The verdict rule for an improvement the paper reports as ``paper_diff`` (points)."""
    low, high = comparison.ci_low, comparison.ci_high
    if not (math.isfinite(low) and math.isfinite(high)):
        return NO_DATA
    sign = 1.0 if paper_diff >= 0 else -1.0
    # Orient so that the paper's direction is positive.
    lo, hi = sorted((sign * low, sign * high))
    target = sign * paper_diff
    if lo > 0:
        return REPRODUCED
    if not (lo <= target <= hi) and lo <= 0:
        return NOT_REPRODUCED
    return INCONCLUSIVE


def direction_verdict(comparison: Comparison, claimed_sign: int) -> str:
    """For a claim with a direction but no number (e.g. "converges faster").

    reproduced: the CI excludes zero on the claimed side; contradicted: it excludes zero
    on the other side; otherwise inconclusive.
    """
    low, high = comparison.ci_low, comparison.ci_high
    if not (math.isfinite(low) and math.isfinite(high)):
        return NO_DATA
    lo, hi = sorted((claimed_sign * low, claimed_sign * high))
    if lo > 0:
        return REPRODUCED
    if hi < 0:
        return CONTRADICTED
    return INCONCLUSIVE


def accuracy_verdict(summary: Summary, paper_value: float) -> str:
    """An absolute accuracy matches when the paper's value lies in our 95 % CI."""
    if not (math.isfinite(summary.ci_low) and math.isfinite(summary.ci_high)):
        return NO_DATA
    return MATCHES if summary.contains(paper_value) else DIFFERS


# --- convergence measures -------------------------------------------------------------


def smooth(losses: Sequence[float], window: int) -> np.ndarray:
    """Trailing moving average (the first ``window - 1`` points average what exists)."""
    x = np.asarray(losses, dtype=float)
    window = max(1, int(window))
    if len(x) == 0:
        return x
    csum = np.cumsum(np.insert(x, 0, 0.0))
    idx = np.arange(1, len(x) + 1)
    start = np.maximum(0, idx - window)
    return (csum[idx] - csum[start]) / (idx - start)


def iterations_to_reach(losses: Sequence[float], threshold: float, window: int) -> float:
    """First iteration (1-based) at which the smoothed loss is at or below ``threshold``.

    NaN when the run never gets there.
    """
    s = smooth(losses, window)
    hits = np.flatnonzero(s <= threshold)
    return float(hits[0] + 1) if len(hits) else math.nan


def common_threshold(runs: Sequence[Sequence[float]], window: int) -> float:
    """A loss level every run reaches: the highest smoothed loss at any run's last iteration."""
    ends = [smooth(r, window)[-1] for r in runs if len(r)]
    return float(max(ends)) if ends else math.nan


def last_epoch_sd(losses: Sequence[float], iterations_per_epoch: int) -> float:
    """Standard deviation of the per-iteration training loss over the last epoch."""
    x = np.asarray(losses, dtype=float)[-int(iterations_per_epoch) :]
    return float(x.std(ddof=1)) if len(x) > 1 else math.nan


def detectable_difference(sd: float, n: int, confidence: float = CONFIDENCE) -> float:
    """Half-width of the CI of a difference of two arms with ``n`` seeds each and sd ``sd``.

    A true difference smaller than this usually leaves zero inside the interval.
    """
    if n < 2 or not math.isfinite(sd):
        return math.nan
    return float(sps.t.ppf((1 + confidence) / 2, 2 * n - 2)) * sd * math.sqrt(2 / n)
