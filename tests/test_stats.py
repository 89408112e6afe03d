"""lib.stats: summaries, Welch comparisons, the verdict rule, convergence measures."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from lib import stats


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
    assert math.isnan(c.ci_low) and math.isnan(c.p)
    assert stats.improvement_verdict(c, 1.0) == stats.NO_DATA


def _comparison(low, high):
    return stats.Comparison(3, 3, (low + high) / 2, low, high, 0.0, 4.0, 0.5)


@pytest.mark.parametrize(
    ("low", "high", "paper", "verdict"),
    [
        (0.2, 1.0, 1.76, stats.REPRODUCED),  # right sign, excludes 0 (even if below the paper)
        (1.0, 3.0, 1.76, stats.REPRODUCED),
        (-0.5, 0.5, 1.76, stats.NOT_REPRODUCED),  # excludes the paper, includes 0
        (-2.0, -0.5, 1.76, stats.NOT_REPRODUCED),  # opposite sign
        (-0.5, 2.5, 1.76, stats.INCONCLUSIVE),  # includes both 0 and the paper
        (-1.0, -0.2, -0.5, stats.REPRODUCED),  # a claimed decrease, reproduced
        (0.1, 0.4, -0.5, stats.NOT_REPRODUCED),
    ],
)
def test_improvement_verdict_rule(low, high, paper, verdict):
    assert stats.improvement_verdict(_comparison(low, high), paper) == verdict


def test_direction_and_accuracy_verdicts():
    assert stats.direction_verdict(_comparison(-50, -10), -1) == stats.REPRODUCED
    assert stats.direction_verdict(_comparison(10, 50), -1) == stats.CONTRADICTED
    assert stats.direction_verdict(_comparison(-10, 50), -1) == stats.INCONCLUSIVE
    s = stats.summarise([93.0, 93.2, 93.1])
    assert stats.accuracy_verdict(s, 93.12) == stats.MATCHES
    assert stats.accuracy_verdict(s, 96.04) == stats.DIFFERS
    assert stats.accuracy_verdict(stats.summarise([93.0]), 93.0) == stats.NO_DATA


def test_convergence_measures():
    losses = [2.0, 1.0, 0.5, 0.25, 0.25, 0.25]
    assert stats.smooth(losses, 2).tolist() == [2.0, 1.5, 0.75, 0.375, 0.25, 0.25]
    assert stats.iterations_to_reach(losses, 0.75, 2) == 3
    assert math.isnan(stats.iterations_to_reach(losses, 0.1, 2))
    runs = [losses, [3.0, 2.0, 1.0, 0.5, 0.4, 0.3]]
    level = stats.common_threshold(runs, 2)
    assert level == pytest.approx(0.35)
    assert all(not math.isnan(stats.iterations_to_reach(r, level, 2)) for r in runs)
    assert stats.last_epoch_sd(losses, 3) == pytest.approx(0.0)
    assert stats.last_epoch_sd([1.0, 3.0], 2) == pytest.approx(math.sqrt(2))


def test_detectable_difference():
    d = stats.detectable_difference(0.5, 3)
    assert d == pytest.approx(sps.t.ppf(0.975, 4) * 0.5 * math.sqrt(2 / 3))
    # two arms that differ by more than it are significant at that sd
    a = np.array([-0.5, 0.0, 0.5])
    c = stats.welch(a + d * 1.01, a)
    assert c.ci_low > 0
    assert math.isnan(stats.detectable_difference(0.5, 1))
