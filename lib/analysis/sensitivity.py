"""Sensitivity analyses: other tests of the same comparison, by the same rule
(``lib.analysis.stats``).

They never replace the Welch verdict; the book flags a verdict where one of them gives
another. Each answers a doubt about Welch's assumptions:

* the **exact permutation test** assumes no normality in deciding whether our difference
  excludes 0: every relabelling of the seeds, difference of means (whether it excludes the
  paper's number, itself measured with noise no relabelling of ours sees, stays Welch's).
  With few seeds its p cannot fall below the level (with 3 per arm not below 0.1); it
  then cannot decide anything and is left out rather than counted as another verdict;
* the **paired t-test by seed** uses the design Welch ignores: a seed fixes the training
  data order in every arm, and the initial weights in every arm with the same parameters
  (``lib.training.train``), so within a seed the two runs share part of their luck and
  ``arm - baseline`` per seed cancels it. Over the seeds both arms ran, n - 1 degrees of
  freedom: sharper than Welch when the shared luck is large, blunter when it is not.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from scipy import stats as sps

from lib.analysis.stats import (
    CONFIDENCE,
    CONTRAST,
    NO_DATA,
    Comparison,
    Rule,
    decide,
    finite,
    t_interval,
    welch,
)

PERMUTATION = "exact permutation test"
PAIRED = "paired t-test by seed"


def verdicts(
    treatment: Mapping[int, float],
    baseline: Mapping[int, float],
    rule: Rule = CONTRAST,
) -> list[tuple[str, str]]:
    """(analysis, verdict) of every sensitivity analysis of ``treatment - baseline``
    (``{seed: value}`` each) that can decide at the rule's level, judged by the same rule as
    Welch's: the permutation test only where its p can fall below alpha at these n."""
    a, b = dict(treatment), dict(baseline)
    x, y = list(a.values()), list(b.values())
    analyses = [(PAIRED, paired_verdict(a, b, rule))]
    if smallest_permutation_p(len(finite(x)), len(finite(y))) < rule.alpha:
        permutation = permutation_verdict(x, y, rule)
        analyses.insert(0, (PERMUTATION, permutation))
    return analyses


# --- the exact permutation test -----------------------------------------------------------


def _mean_difference(x, y, axis):
    return np.mean(x, axis=axis) - np.mean(y, axis=axis)


def permutation_p(treatment: Sequence[float], baseline: Sequence[float]) -> float:
    """Two-sided p of "treatment - baseline = 0" (difference of means) from every
    relabelling of the two arms (``scipy.stats.permutation_test``, exact); NaN below two
    values per arm."""
    a, b = finite(treatment), finite(baseline)
    if len(a) < 2 or len(b) < 2:
        return math.nan
    return _exact_permutation_p(tuple(a), tuple(b))


@functools.lru_cache(maxsize=1024)
def _exact_permutation_p(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    # Cached: 10 + 10 seeds are 184,756 relabellings, and pages ask for the same test twice.
    result = sps.permutation_test(
        (np.array(a), np.array(b)),
        _mean_difference,
        permutation_type="independent",
        vectorized=True,
        n_resamples=np.inf,
        alternative="two-sided",
    )
    return float(result.pvalue)


def smallest_permutation_p(n_treatment: int, n_baseline: int) -> float:
    """The smallest two-sided p the exact permutation test can give at these n."""
    return min(1.0, 2 / math.comb(n_treatment + n_baseline, n_treatment))


def permutation_verdict(
    treatment: Sequence[float],
    baseline: Sequence[float],
    rule: Rule = CONTRAST,
) -> str:
    """The rule with "excludes 0" decided by the permutation test at the rule's alpha and
    "excludes the claim" by Welch's interval of ours minus the claim, as in the primary."""
    a, b = finite(treatment), finite(baseline)
    p_zero = permutation_p(a, b)
    if not math.isfinite(p_zero):
        return NO_DATA
    against = rule.against(functools.partial(welch, a, b))
    excludes_claim = against is not None and not against.contains(0.0)
    diff = float(a.mean() - b.mean())
    return decide(diff, p_zero < rule.alpha, excludes_claim, rule.claim, rule.direction)


# --- the paired t-test by seed ------------------------------------------------------------


def paired(
    treatment: Mapping[int, float],
    baseline: Mapping[int, float],
    confidence: float = CONFIDENCE,
    shift: float = 0.0,
    shift_runs: float = math.inf,
) -> Comparison:
    """``treatment - baseline - shift`` paired by seed (``{seed: value}`` each, e.g. a
    Series): the mean per-seed difference, its Student-t CI and test (``ttest_rel``'s), over
    the seeds with a finite value in both arms. A ``shift`` measured on ``shift_runs`` runs
    per arm adds its seed noise as ``lib.analysis.stats.welch`` does (its arms unpaired, spread as
    ours). Fewer than two such seeds: everything but the difference is NaN; differences
    with zero spread: a zero-width CI and p = NaN."""
    a, b = dict(treatment), dict(baseline)
    seeds = [s for s in sorted(set(a) & set(b)) if len(finite([a[s], b[s]])) == 2]
    x = np.array([a[s] for s in seeds], dtype=float)
    y = np.array([b[s] for s in seeds], dtype=float)
    n = len(seeds)
    diff = float((x - y).mean()) - shift if n else math.nan
    if n < 2:
        return Comparison(n, n, diff, math.nan, math.nan, math.nan, math.nan, math.nan)
    noise = [(v.var(ddof=1) / shift_runs, n - 1) for v in (x, y)]
    return t_interval(n, n, diff, [((x - y).var(ddof=1) / n, n - 1), *noise], confidence)


def paired_verdict(
    treatment: Mapping[int, float],
    baseline: Mapping[int, float],
    rule: Rule = CONTRAST,
) -> str:
    """The rule applied to the paired 1 - alpha interval (and, for a claim, to the
    paired interval of ours minus it)."""
    compare = functools.partial(paired, treatment, baseline)
    return rule.verdict(compare(rule.confidence), rule.against(compare))
