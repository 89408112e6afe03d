"""Levels, power and multiplicity: what a number of seeds can detect, and what a pre-stated
family of intervals says together. Pure functions of numbers, below ``lib.analysis.stats``.

Power is the power of the test the verdict reads: the probability that the 1 - alpha Welch
interval of ``treatment - baseline`` (``lib.analysis.stats.welch``) excludes 0 on the side of the
true difference, for arms normal with the given sds. Its degrees of freedom depend on the two sample
variances, so it has no closed form; it is simulated, and half of it computed exactly. ``DRAWS``
pairs of sample variances (scrambled Sobol points from a fixed numpy Generator, through the chi²
quantile) give each simulated experiment's half-width h; the difference of means is normal and
independent of them, so it excludes 0 with probability Phi((d - h) / se), averaged over the draws.
Fixed draws, the same at every difference and sd, make each answer a deterministic, smooth, monotone
function of its inputs, stable to about 1e-4 of an answer (1e-3 with two seeds per arm), far below
what the book prints.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, special
from scipy import stats as sps
from scipy.stats import qmc
from statsmodels.stats.multitest import multipletests

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # two-sided
POWER = 0.8  # for the smallest detectable effect and the seeds needed
DRAWS = 2**13  # simulated pairs of sample variances (a power of 2: Sobol points balance)
SEEDS_CAP = 1000  # seeds per arm beyond which ``seeds_needed`` stops searching
INTERVALS_PER_VERDICT = 2  # a claim's verdict reads ours, and ours minus the paper's
_DRAW_SEED = 20240  # any fixed seed: the simulation is part of the answers' definition


@functools.cache
def _uniforms() -> np.ndarray:
    """``DRAWS`` scrambled Sobol points in the unit square: they cover it evenly, so their
    average settles far faster than that of independent draws."""
    sobol = qmc.Sobol(2, scramble=True, seed=np.random.default_rng(_DRAW_SEED))
    return sobol.random_base2(int(math.log2(DRAWS)))


@functools.lru_cache(maxsize=16)
def _variance_draws(n_treatment: int, n_baseline: int) -> tuple[np.ndarray, np.ndarray]:
    """Each simulated experiment's two sample variances for arms of unit sd, chi²_k / k
    with k = n - 1, at the same uniforms for every n (chi²_k's quantile: 2 P^-1(k / 2, u),
    P the regularised lower incomplete gamma function)."""
    u = _uniforms()
    k_t, k_b = n_treatment - 1, n_baseline - 1
    var_t = 2 * special.gammaincinv(k_t / 2, u[:, 0]) / k_t
    var_b = 2 * special.gammaincinv(k_b / 2, u[:, 1]) / k_b
    return var_t, var_b


@functools.lru_cache(maxsize=32)
def _half_widths(
    n_treatment: int, n_baseline: int, sd_treatment: float, sd_baseline: float, alpha: float
) -> tuple[np.ndarray, float]:
    """Each simulated experiment's Welch half-width (``lib.analysis.stats.welch``'s formula), in
    units of the difference's true standard error, and that standard error."""
    var_t, var_b = _variance_draws(n_treatment, n_baseline)
    term_t = var_t * sd_treatment**2 / n_treatment
    term_b = var_b * sd_baseline**2 / n_baseline
    variance = term_t + term_b
    df = variance**2 / (term_t**2 / (n_treatment - 1) + term_b**2 / (n_baseline - 1))
    se = math.sqrt(sd_treatment**2 / n_treatment + sd_baseline**2 / n_baseline)
    return _t_quantile(1 - alpha / 2, df) * np.sqrt(variance) / se, se


def _t_quantile(q: float, df: np.ndarray) -> np.ndarray:
    """Student-t quantiles at every df, interpolated in log df from 2,049 exact ones (error
    below 1e-4; scipy's ppf at every draw would cost ten times the rest of a call)."""
    grid = np.geomspace(df.min(), df.max(), 2049) if df.max() > df.min() else df[:1]
    return np.interp(np.log(df), np.log(grid), sps.t.ppf(q, grid))


def _power(half: np.ndarray, standardised_difference: float) -> float:
    return float(special.ndtr(standardised_difference - half).mean())


def _arms(n_treatment, n_baseline, sd_treatment, sd_baseline):
    """(n_t, n_b, sd_t, sd_b), or None where no interval exists or no spread is given."""
    n_baseline = n_treatment if n_baseline is None else n_baseline
    sd_baseline = sd_treatment if sd_baseline is None else sd_baseline
    if min(n_treatment, n_baseline) < 2 or not math.isfinite(sd_treatment + sd_baseline):
        return None
    return int(n_treatment), int(n_baseline), float(sd_treatment), float(sd_baseline)


def welch_power(
    n_treatment: int,
    n_baseline: int | None,
    difference: float,
    sd_treatment: float,
    sd_baseline: float | None = None,
    alpha: float = ALPHA,
) -> float:
    """The probability that the 1 - ``alpha`` Welch interval excludes 0 on the side of a
    true ``difference`` (simulated; its sign does not matter). ``None`` for the baseline's
    n or sd: the treatment's. NaN below two seeds per arm or without finite sds."""
    arms = _arms(n_treatment, n_baseline, sd_treatment, sd_baseline)
    if arms is None or not math.isfinite(difference):
        return math.nan
    if arms[2] == arms[3] == 0:  # a zero-width interval at the difference itself
        return float(difference != 0)
    half, se = _half_widths(*arms, alpha)
    return _power(half, abs(difference) / se)


@functools.lru_cache(maxsize=4096)  # the book asks again for the same arms on many pages
def detectable_effect(
    sd: float,
    n_treatment: int,
    n_baseline: int | None = None,
    alpha: float = ALPHA,
    sd_baseline: float | None = None,
) -> float:
    """The smallest true difference that the 1 - ``alpha`` Welch interval excludes 0 for
    with ``POWER`` (``welch_power``) at these n. ``sd``: the treatment's sd, or both arms'
    when ``sd_baseline`` is not given. NaN below two seeds per arm or without a finite sd.

    Power rises smoothly with the difference (the same draws at every difference), so
    bisection (Brent's) finds it."""
    arms = _arms(n_treatment, n_baseline, sd, sd_baseline)
    if arms is None:
        return math.nan
    if arms[2] == arms[3] == 0:
        return 0.0
    half, se = _half_widths(*arms, alpha)
    # At 0 the power is about alpha / 2; at h's 90 % quantile plus 3 it is at least 0.898.
    upper = float(np.partition(half, int(0.9 * DRAWS))[int(0.9 * DRAWS)]) + 3
    return se * optimize.brentq(lambda d: _power(half, d) - POWER, 0.0, upper, xtol=1e-6)


@functools.lru_cache(maxsize=4096)
def seeds_needed(
    effect: float, sd: float, alpha: float = ALPHA, sd_baseline: float | None = None
) -> float:
    """The fewest seeds per arm (both arms alike, at least 2) at which the 1 - ``alpha``
    Welch interval excludes 0 for a true ``effect`` with ``POWER`` (``welch_power``).
    ``sd``: the treatment's sd, or both arms' when ``sd_baseline`` is not given.

    ``math.inf``: more than ``SEEDS_CAP`` per arm. NaN when there is no effect or no spread
    (or no finite sd)."""
    sd_t, sd_b = sd, sd if sd_baseline is None else sd_baseline
    if not math.isfinite(effect + sd_t + sd_b) or effect == 0 or sd_t == sd_b == 0:
        return math.nan

    def enough(n: int) -> bool:
        return welch_power(n, n, effect, sd_t, sd_b, alpha) >= POWER

    z = sps.norm.ppf(1 - alpha / 2)
    known_sds = (z + sps.norm.ppf(POWER)) ** 2 * (sd_t**2 + sd_b**2) / effect**2
    if known_sds > SEEDS_CAP:  # more than the cap even if the sds were known
        return math.inf
    # Guenther's correction for estimating the sds puts the start within a seed or two.
    n = min(max(2, math.ceil(known_sds + z**2 / 4)), SEEDS_CAP)
    if enough(n):
        while n > 2 and enough(n - 1):
            n -= 1
        return float(n)
    while n < SEEDS_CAP:
        n += 1
        if enough(n):
            return float(n)
    return math.inf


def family_alpha(size: int) -> float:
    """Each interval's alpha in a pre-stated family of ``size`` verdicts (Bonferroni):
    ALPHA / size, so that ``size`` intervals, one per verdict, hold together with at least
    1 - ALPHA confidence (``family_confidence`` counts every interval a verdict reads)."""
    return ALPHA / size


def family_confidence(size: int, intervals_per_verdict: int = INTERVALS_PER_VERDICT) -> float:
    """The confidence with which all intervals of a family of ``size`` verdicts, each read
    from ``intervals_per_verdict`` intervals at ``family_alpha(size)``, hold together: at
    least 1 - intervals x size x level (Bonferroni's lower bound). Five claims, two
    intervals each at 99 %: all ten at least 90 %; their five differences alone
    (``intervals_per_verdict=1``) at least 95 %."""
    return 1 - intervals_per_verdict * size * family_alpha(size)


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
