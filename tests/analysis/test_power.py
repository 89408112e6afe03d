"""lib.analysis.power: the Welch interval's power, the smallest detectable effect, the seeds needed
and the family's levels, each against an answer computed independently (the noncentral t, scipy's
own Welch interval on simulated experiments) or known by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from lib.analysis import power, stats

# The audit's case: the Inception stem's final-epoch accuracies at the paper's 10 epochs
# (results/paper when it was made: 3 Inception runs, 4 baseline runs), against +1.76.
INCEPTION = [92.39, 93.3, 92.02]
BASELINE = [90.46, 91.13, 91.11, 91.0]
INCEPTION_CLAIM = 1.76


def test_bonferroni_known_answers():
    assert power.bonferroni([0.01, 0.04, 0.3]) == pytest.approx([0.03, 0.12, 0.9])
    # a missing p stays missing; the family keeps its size (3)
    with_missing = power.bonferroni([0.01, math.nan, 0.004])
    assert with_missing[0] == pytest.approx(0.03) and with_missing[2] == pytest.approx(0.012)
    assert math.isnan(with_missing[1])
    assert power.bonferroni([]) == []
    assert power.bonferroni([0.4, 0.9]) == pytest.approx([0.8, 1.0])  # capped at 1
    assert power.family_alpha(5) == pytest.approx(0.01) and power.family_alpha(1) == stats.ALPHA


def test_family_confidence_counts_every_interval_a_verdict_reads():
    # five claims at 99 %, two intervals each: ten intervals, at least 90 % together
    assert power.family_confidence(5) == pytest.approx(0.90)
    assert power.family_confidence(5, intervals_per_verdict=1) == pytest.approx(0.95)
    assert power.family_confidence(1) == pytest.approx(0.90)  # even a family of one
    assert power.family_confidence(4, intervals_per_verdict=1) == pytest.approx(0.95)


def _t_test_power(cohen_d: float, n: int, alpha: float = 0.05) -> float:
    """The pooled two-sample t-test's power from the noncentral t (the old method)."""
    df, nc = 2 * n - 2, cohen_d * math.sqrt(n / 2)
    crit = sps.t.ppf(1 - alpha / 2, df)
    return sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc)


def _welch_power_by_hand(n_t, n_b, d, sd_t, sd_b, alpha, experiments=20_000, seed=7):
    """Simulated experiments judged by scipy's own Welch interval (not lib's formula)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(d, sd_t, (experiments, n_t))
    y = rng.normal(0.0, sd_b, (experiments, n_b))
    low = sps.ttest_ind(x, y, axis=1, equal_var=False).confidence_interval(1 - alpha).low
    return float(np.mean(low > 0))


@pytest.mark.parametrize(("n", "alpha"), [(2, 0.05), (3, 0.01), (5, 0.05), (10, 0.01)])
def test_power_with_one_exact_arm_is_the_one_sample_t_tests(n, alpha):
    # a baseline without spread leaves a one-sample t interval (n - 1 df): the noncentral t
    for d in (0.5, 1.0, 2.5):
        nc = d * math.sqrt(n) / 1.3
        exact = sps.nct.sf(sps.t.ppf(1 - alpha / 2, n - 1), n - 1, nc)
        assert power.welch_power(n, 4, d, 1.3, 0.0, alpha) == pytest.approx(exact, abs=2e-3)


def test_power_matches_scipys_welch_interval_on_simulated_experiments():
    sd_t, sd_b = np.std(INCEPTION, ddof=1), np.std(BASELINE, ddof=1)
    for n_t, n_b, alpha in [(4, 4, 0.01), (3, 4, 0.05), (6, 3, 0.01)]:
        by_hand = _welch_power_by_hand(n_t, n_b, 1.2, sd_t, sd_b, alpha)
        ours = power.welch_power(n_t, n_b, 1.2, sd_t, sd_b, alpha)
        assert ours == pytest.approx(by_hand, abs=0.015)  # 20,000 experiments: SE <= 0.0035


def test_the_inception_claim_needs_five_seeds_per_arm_at_the_primary_level():
    sd_t, sd_b = np.std(INCEPTION, ddof=1), np.std(BASELINE, ddof=1)
    alpha = power.family_alpha(5)  # a primary claim's 99 % interval
    at_four = power.welch_power(4, 4, INCEPTION_CLAIM, sd_t, sd_b, alpha)
    assert at_four == pytest.approx(0.63, abs=0.01)  # the audit's "4 seeds give ~62 %"
    assert power.welch_power(5, 5, INCEPTION_CLAIM, sd_t, sd_b, alpha) >= power.POWER
    assert power.seeds_needed(INCEPTION_CLAIM, sd_t, alpha, sd_baseline=sd_b) == 5
    # the pooled t-test said 4, one seed short of Welch's interval
    pooled_sd = math.sqrt((2 * sd_t**2 + 3 * sd_b**2) / 5)
    cohen_d = INCEPTION_CLAIM / pooled_sd
    assert _t_test_power(cohen_d, 4, alpha) >= power.POWER > _t_test_power(cohen_d, 3, alpha)
    # at the exploratory 95 %: 4 per arm, where the pooled t-test said 3
    assert power.seeds_needed(INCEPTION_CLAIM, sd_t, sd_baseline=sd_b) == 4
    assert _t_test_power(cohen_d, 3) >= power.POWER


@pytest.mark.parametrize(
    ("sd_t", "n_t", "n_b", "alpha", "sd_b"),
    [
        (1.0, 3, 3, 0.05, None),
        (0.66, 3, 4, 0.01, 0.32),
        (0.3, 7, 4, 0.01, 0.5),
        (1.0, 2, 2, 0.01, None),
    ],
)
def test_detectable_effect_is_where_power_reaches_80_percent(sd_t, n_t, n_b, alpha, sd_b):
    effect = power.detectable_effect(sd_t, n_t, n_b, alpha, sd_b)
    assert power.welch_power(n_t, n_b, effect, sd_t, sd_b, alpha) == pytest.approx(0.8, abs=1e-5)
    assert power.welch_power(n_t, n_b, 0.97 * effect, sd_t, sd_b, alpha) < 0.8
    assert power.welch_power(n_t, n_b, -effect, sd_t, sd_b, alpha) == pytest.approx(0.8, abs=1e-5)


def test_detectable_effect_known_answers_and_edges():
    # many seeds, equal spread: Welch's df approach the pooled t-test's, and so does power
    pooled = 1.3249  # the pooled t-test's d at 10 + 10 for 80 %; Welch a little above
    assert pooled < power.detectable_effect(1.0, 10) < pooled * 1.01
    assert _t_test_power(power.detectable_effect(1.0, 40), 40) == pytest.approx(0.8, abs=2e-3)
    # 2 + 2 seeds at 1 %: the old solver gave no answer; Welch's interval (df 1 to 2) does
    assert 35 < power.detectable_effect(1.0, 2, alpha=0.01) < 50
    assert math.isnan(power.detectable_effect(0.5, 1))
    assert math.isnan(power.detectable_effect(math.nan, 3))
    assert power.detectable_effect(0.0, 3) == 0.0  # no spread: any difference shows
    assert power.detectable_effect(1.0, 3) == power.detectable_effect(1.0, 3, 3, sd_baseline=1.0)


def test_seeds_needed_known_answers():
    assert power.seeds_needed(1.0, 1.0) == 17  # the t-test's textbook 16.7 for d = 1
    assert power.seeds_needed(1.0, 1.0, alpha=0.01) == 26
    assert power.seeds_needed(-0.5, 1.0) == 64  # the sign does not matter
    assert power.seeds_needed(20.0, 1.0) == 2  # two seeds already suffice
    for effect, sd, alpha, sd_b in [(1.0, 1.0, 0.01, None), (0.1, 0.3, 0.01, 0.4)]:
        n = power.seeds_needed(effect, sd, alpha, sd_b)
        assert power.welch_power(n, n, effect, sd, sd_b, alpha) >= 0.8
        assert power.welch_power(n - 1, n - 1, effect, sd, sd_b, alpha) < 0.8
    assert power.seeds_needed(0.02, 1.0) == math.inf  # about 39,000: beyond the cap
    assert power.welch_power(power.SEEDS_CAP, power.SEEDS_CAP, 0.02, 1.0) < 0.8
    assert math.isnan(power.seeds_needed(0.0, 1.0))
    assert math.isnan(power.seeds_needed(1.0, 0.0))
    assert math.isnan(power.seeds_needed(1.0, math.nan))


def test_power_is_deterministic_and_monotone():
    before = power.welch_power(4, 3, 1.0, 0.7, 0.4, 0.01)
    power._half_widths.cache_clear()
    power._variance_draws.cache_clear()
    assert power.welch_power(4, 3, 1.0, 0.7, 0.4, 0.01) == before
    curve = [power.welch_power(4, 3, d, 0.7, 0.4, 0.01) for d in np.linspace(0, 6, 61)]
    assert curve == sorted(curve) and curve[0] < 0.01 and curve[-1] > 0.99
    assert math.isnan(power.welch_power(1, 3, 1.0, 0.7))
