"""lib.analysis.stats: summaries, Welch, the verdict rule and its edges, the measured claim — each
against an answer known by hand or computed independently."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from lib.analysis import power, stats
from lib.analysis.stats import Rule


def test_summary_matches_t_interval():
    values = [90.0, 91.0, 92.5, 91.5]
    s = stats.summarise(values)
    low, high = sps.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=sps.sem(values))
    assert s.n == 4
    assert s.mean == pytest.approx(np.mean(values))
    assert s.sd == pytest.approx(np.std(values, ddof=1))
    assert (s.ci_low, s.ci_high) == (pytest.approx(low), pytest.approx(high))
    assert s.contains(s.mean) and not s.contains(high + 0.01)


def test_summary_small_and_missing_samples():
    assert stats.summarise([]).n == 0 and math.isnan(stats.summarise([]).mean)
    one = stats.summarise([93.0])
    assert one.n == 1 and one.mean == 93.0 and math.isnan(one.ci_low)
    assert stats.summarise([1.0, None, float("nan"), 3.0]).n == 2


def test_welch_matches_scipy():
    a, b = [93.1, 93.4, 92.8, 93.9, 93.0], [92.0, 92.6, 91.7]
    c = stats.welch(a, b)
    ref = sps.ttest_ind(a, b, equal_var=False)
    assert c.diff == pytest.approx(np.mean(a) - np.mean(b))
    assert c.p == pytest.approx(ref.pvalue)
    assert c.t == pytest.approx(ref.statistic)
    # the CI excludes 0 exactly when p < 0.05
    assert (c.ci_low > 0) == (c.p < 0.05)
    # Welch-Satterthwaite CI, as scipy computes it (scipy >= 1.11)
    ci = ref.confidence_interval(0.95)
    assert (c.ci_low, c.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_welch_needs_two_values_per_arm():
    c = stats.welch([93.0], [92.0, 92.5])
    assert c.diff == pytest.approx(0.75)
    assert math.isnan(c.ci_low) and math.isnan(c.p) and not c.judged
    a = stats.assess([93.0], [92.0, 92.5], Rule(claim=1.0))
    assert a.verdict == stats.NO_DATA
    assert math.isnan(a.detectable) and math.isnan(a.seeds_needed)


def _comparison(low, high):
    return stats.Comparison(3, 3, (low + high) / 2, low, high, 0.0, 4.0, 0.5)


@pytest.mark.parametrize(
    ("low", "high", "claim", "verdict"),
    [
        (0.2, 1.0, 0.5, stats.REPRODUCED),  # excludes 0 on the paper's side, contains d
        (0.19, 1.54, 0.10, stats.LARGER),  # the LR decay at epoch 5: ~9x the claim
        (0.2, 1.0, 1.76, stats.SMALLER),
        (-0.5, 0.5, 1.76, stats.NOT_REPRODUCED),  # contains 0, excludes d
        (-2.0, -0.5, 1.76, stats.OPPOSITE),  # the other side of 0: worse than "not"
        (-0.5, 2.5, 1.76, stats.INCONCLUSIVE),  # contains 0 and d
        (0.0, 2.0, 1.0, stats.INCONCLUSIVE),  # touching 0 contains it
        (0.0, 0.5, 1.0, stats.NOT_REPRODUCED),  # touching 0, short of d
        (0.5, 1.0, 1.0, stats.REPRODUCED),  # touching d contains it
        (-1.0, -0.2, -0.5, stats.REPRODUCED),  # a claimed decrease
        (-3.0, -1.0, -0.5, stats.LARGER),
        (0.1, 0.4, -0.5, stats.OPPOSITE),
        (-0.4, -0.1, 0.5, stats.OPPOSITE),  # SELU's case: below 0, claimed above
        (-0.1, 0.4, -0.5, stats.NOT_REPRODUCED),  # contains 0, excludes the decrease
    ],
)
def test_claim_rule_on_intervals(low, high, claim, verdict):
    assert stats.interval_verdict(_comparison(low, high), claim) == verdict


@pytest.mark.parametrize(
    ("low", "high", "direction", "verdict"),
    [
        (-50, -10, -1, stats.REPRODUCED),
        (10, 50, -1, stats.OPPOSITE),
        (0.0, 50, -1, stats.INCONCLUSIVE),  # a direction is never "not reproduced"
        (-10, 50, -1, stats.INCONCLUSIVE),
        (0.1, 1.0, 0, stats.HIGHER),  # direction 0 and no claim: a contrast
        (-1.0, -0.1, 0, stats.LOWER),
        (-1.0, 1.0, 0, stats.NO_CLEAR_DIFFERENCE),
        (0.0, 1.0, 0, stats.NO_CLEAR_DIFFERENCE),
    ],
)
def test_direction_and_contrast_rule(low, high, direction, verdict):
    assert stats.interval_verdict(_comparison(low, high), direction=direction) == verdict


BASE = [-1.0, 0.0, 1.0]  # sd 1: the Welch interval of (BASE + k) - BASE is k ± 2.267


@pytest.mark.parametrize(
    ("shift", "claim", "verdict"),
    [
        (10.0, 10.0, stats.REPRODUCED),
        (10.0, 5.0, stats.LARGER),
        (10.0, 20.0, stats.SMALLER),
        (10.0, -10.0, stats.OPPOSITE),
        (-10.0, 10.0, stats.OPPOSITE),
        (1.0, 1.0, stats.INCONCLUSIVE),
        (1.0, 5.0, stats.NOT_REPRODUCED),
    ],
)
def test_synthetic_samples_with_known_verdicts(shift, claim, verdict):
    a = stats.assess([x + shift for x in BASE], BASE, Rule(claim=claim))
    half = sps.t.ppf(0.975, 4) * math.sqrt(2 / 3)
    assert (a.comparison.ci_low, a.comparison.ci_high) == (
        pytest.approx(shift - half),
        pytest.approx(shift + half),
    )
    assert a.verdict == verdict
    # each arm's sd is 1: the power is the Welch interval's at 3 + 3 seeds of sd 1, which
    # needs more than the pooled t-test's 3.07 (its df are 2 to 4, not 4)
    assert a.detectable == power.detectable_effect(1.0, 3, 3, sd_baseline=1.0)
    assert 3.2 < a.detectable < 3.8


def test_opposite_direction_whatever_the_claim_test_says():
    # excluding 0 on the wrong side decides, whether or not the claim is excluded
    for excludes_claim in (True, False):
        assert stats.decide(-0.58, True, excludes_claim, claim=0.9) == stats.OPPOSITE
        assert stats.decide(0.58, True, excludes_claim, claim=-0.9) == stats.OPPOSITE
    assert stats.decide(-0.58, False, True, claim=0.9) == stats.NOT_REPRODUCED
    assert stats.decide(-0.58, True, False, direction=1) == stats.OPPOSITE
    assert stats.decide(-0.58, True, False) == stats.LOWER  # a contrast has no "opposite"


def test_power_reads_each_arms_own_spread():
    narrow, wide = [-0.1, 0.0, 0.1], [-3.0, 0.0, 3.0, 1.0]
    a = stats.assess(wide, narrow, Rule(claim=1.0))
    sd_t, sd_b = np.std(wide, ddof=1), np.std(narrow, ddof=1)
    assert a.detectable == power.detectable_effect(sd_t, 4, 3, sd_baseline=sd_b)
    assert a.seeds_needed == power.seeds_needed(1.0, sd_t, sd_baseline=sd_b)
    # the narrow arm adds little noise: less than a pooled sd would say
    pooled = math.sqrt((3 * sd_t**2 + 2 * sd_b**2) / 5)
    assert a.detectable < power.detectable_effect(pooled, 4, 3)


def test_zero_spread_is_an_exact_difference():
    a = stats.assess([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], Rule(claim=1.0))
    assert (a.comparison.ci_low, a.comparison.ci_high) == (1.0, 1.0)
    assert a.verdict == stats.REPRODUCED
    assert stats.assess([1.0] * 3, [0.0] * 3, Rule(claim=2.0)).verdict == stats.SMALLER
    assert a.detectable == 0.0 and math.isnan(a.seeds_needed)


def test_accuracy_verdict():
    s = stats.summarise([93.0, 93.2, 93.1])
    assert stats.accuracy_verdict(s, 93.12) == stats.MATCHES
    assert stats.accuracy_verdict(s, 96.04) == stats.MISMATCH
    assert stats.accuracy_verdict(stats.summarise([93.0]), 93.0) == stats.NO_DATA


def test_a_measured_claim_widens_the_interval_by_its_own_noise():
    a, b = [91.4, 91.8, 91.6], [90.8, 91.2, 91.0]  # +0.6, sd 0.2 per arm
    c = stats.welch(a, b)  # [+0.15, +1.05]
    exact = stats.welch(a, b, shift=1.1)
    assert (exact.ci_low, exact.ci_high) == pytest.approx((c.ci_low - 1.1, c.ci_high - 1.1))
    noisy = stats.welch(a, b, shift=1.1, shift_runs=10)
    # by hand: each arm 0.04 (1/3 + 1/10); equal terms with 2 df each give 4 df
    half = sps.t.ppf(0.975, 4) * math.sqrt(2 * 0.04 * (1 / 3 + 1 / 10))
    assert noisy.df == pytest.approx(4.0) and noisy.diff == pytest.approx(-0.5)
    assert (noisy.ci_low, noisy.ci_high) == pytest.approx((-0.5 - half, -0.5 + half))
    # the paper's +1.10 lies above our interval, but not beyond its own 10 runs' noise
    assert stats.interval_verdict(c, claim=1.1) == stats.SMALLER
    assert stats.interval_verdict(c, claim=1.1, against=noisy) == stats.REPRODUCED
    assessed = stats.assess(a, b, Rule(claim=1.1, claim_runs=10))
    assert assessed.against == noisy and assessed.verdict == stats.REPRODUCED


def test_the_widened_interval_covers_the_papers_number_as_often_as_it_says():
    # ours and the paper's 10 runs per arm from one distribution, no true difference
    rng = np.random.default_rng(1)
    noisy = exact = 0
    for _ in range(2000):
        a, b = rng.normal(0, 1, 10), rng.normal(0, 1, 10)
        d = rng.normal(0, 1, 10).mean() - rng.normal(0, 1, 10).mean()
        noisy += stats.welch(a, b, shift=d, shift_runs=10).contains(0.0)
        exact += stats.welch(a, b).contains(d)
    assert 0.93 < noisy / 2000 < 0.97  # 95 %, as stated
    assert exact / 2000 < 0.9  # treating the paper's number as exact rejects it too often


def test_an_accuracy_matches_within_both_runs_noise():
    s = stats.summarise([91.4, 91.8, 91.6])  # 91.60, CI [91.10, 92.10]
    assert stats.accuracy_verdict(s, 92.15) == stats.MISMATCH
    # ours minus a mean of 10 runs spread as ours: t(2) 0.2 sqrt(1/3 + 1/10) = 0.567
    assert stats.accuracy_verdict(s, 92.15, paper_runs=10) == stats.MATCHES
    assert stats.accuracy_verdict(s, 92.2, paper_runs=10) == stats.MISMATCH
    assert stats.margin(s, 10) == pytest.approx(0.567, abs=1e-3)
    # one run spread as these three: t(2) 0.2 sqrt(1 + 1/10) = 0.902
    assert stats.margin(s, 10, runs=1) == pytest.approx(0.902, abs=1e-3)


def test_family_interval_excludes_zero_exactly_when_the_adjusted_p_is_below_alpha():
    rng = np.random.default_rng(0)
    alpha = power.family_alpha(5)
    seen = set()
    for shift in np.linspace(0.0, 3.0, 40):
        a, b = rng.normal(shift, 1.0, 4), rng.normal(0.0, 1.0, 3)
        c = stats.assess(a, b, Rule(claim=1.0, alpha=alpha)).comparison
        excludes = not c.contains(0.0)
        assert excludes == (power.bonferroni([c.p] * 5)[0] < stats.ALPHA)
        seen.add(excludes)
    assert seen == {True, False}  # both sides of the boundary were crossed


def test_a_family_reads_wider_intervals_and_needs_more_seeds():
    a, b = [91.4, 91.8, 91.6], [90.8, 91.2, 91.0]  # +0.6, Welch p 0.02
    alone, family = (
        stats.assess(a, b, Rule(claim=0.5)),
        stats.assess(a, b, Rule(claim=0.5, alpha=0.01)),
    )
    assert family.comparison == stats.welch(a, b, confidence=0.99)
    assert family.comparison.ci_low < alone.comparison.ci_low
    assert family.comparison.p == alone.comparison.p  # the test is the same, its level not
    assert alone.verdict == stats.REPRODUCED and family.verdict == stats.INCONCLUSIVE
    assert family.detectable > alone.detectable
    assert family.seeds_needed > alone.seeds_needed
