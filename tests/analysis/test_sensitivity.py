"""lib.analysis.sensitivity: the exact permutation test and the paired t-test by seed, each against
an answer computed by hand or by scipy directly, and the rule applied to them."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats as sps

from lib.analysis import sensitivity, stats
from lib.analysis.stats import Rule

BASE = [-1.0, 0.0, 1.0]


def test_permutation_test_is_exact():
    a, b = [1.0, 2.0, 4.0], [0.0, 3.0, 5.0]
    pooled = a + b
    observed = np.mean(a) - np.mean(b)
    extreme = 0
    splits = list(itertools.combinations(range(6), 3))
    for idx in splits:
        x = [pooled[i] for i in idx]
        y = [pooled[i] for i in range(6) if i not in idx]
        extreme += np.mean(x) - np.mean(y) >= observed - 1e-12
    one_sided = extreme / len(splits)
    assert sensitivity.permutation_p(a, b) == pytest.approx(min(1.0, 2 * min(one_sided, 1.0)))
    separated = sensitivity.permutation_p([10.0, 11.0, 12.0], BASE)
    assert separated == pytest.approx(0.1) == sensitivity.smallest_permutation_p(3, 3)
    assert sensitivity.permutation_p([x + 0.0 for x in BASE], BASE) == pytest.approx(1.0)
    assert sensitivity.smallest_permutation_p(10, 10) == pytest.approx(2 / 184_756)
    assert math.isnan(sensitivity.permutation_p([1.0], BASE))


def test_permutation_verdict_at_ten_seeds():
    base = [float(x) for x in range(10)]
    assert (
        sensitivity.permutation_verdict([x + 20 for x in base], base, Rule(claim=20.0))
        == stats.REPRODUCED
    )
    assert (
        sensitivity.permutation_verdict([x + 20 for x in base], base, Rule(claim=50.0))
        == stats.SMALLER
    )


def test_zero_spread_at_three_seeds_is_beyond_the_permutation_test():
    # the difference is exact, but 20 relabellings cannot give p below 0.1
    verdict = sensitivity.permutation_verdict([1.0] * 3, [0.0] * 3, Rule(claim=1.0))
    assert verdict == stats.INCONCLUSIVE


def test_paired_matches_scipy_ttest_rel():
    a = {0: 91.6, 1: 91.81, 2: 91.59, 3: 91.2}
    b = {0: 90.87, 1: 91.36, 2: 91.18, 3: 90.9}
    c = sensitivity.paired(a, b)
    x, y = list(a.values()), list(b.values())
    ref = sps.ttest_rel(x, y)
    ci = ref.confidence_interval(0.95)
    assert (c.n_treatment, c.n_baseline, c.df) == (4, 4, 3.0)
    assert c.diff == pytest.approx(np.mean(x) - np.mean(y))
    assert (c.t, c.p) == (pytest.approx(ref.statistic), pytest.approx(ref.pvalue))
    assert (c.ci_low, c.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_paired_matches_runs_by_seed_not_by_position():
    a = {2: 12.0, 0: 10.5, 1: 11.0, 7: 99.0}  # seed 7 has no partner: left out
    b = {0: 10.0, 1: 10.0, 2: 11.0, 5: -50.0, 3: float("nan")}
    c = sensitivity.paired(a, b)
    assert (c.n_treatment, c.diff) == (3, pytest.approx((0.5 + 1.0 + 1.0) / 3))
    nan_pair = sensitivity.paired({**a, 3: 1.0}, b)  # seed 3's baseline is NaN
    assert nan_pair == c


def test_paired_sees_an_effect_that_seed_luck_hides_from_welch():
    luck = {seed: 3.0 * seed for seed in range(5)}  # large, shared within a seed
    baseline = {s: v + (0.1 if s % 2 else -0.1) for s, v in luck.items()}
    treatment = {s: v + 0.5 for s, v in luck.items()}
    welch = stats.interval_verdict(
        stats.welch(list(treatment.values()), list(baseline.values())), claim=0.5
    )
    assert welch == stats.INCONCLUSIVE
    assert sensitivity.paired_verdict(treatment, baseline, Rule(claim=0.5)) == stats.REPRODUCED


def test_paired_edges():
    one = sensitivity.paired({0: 2.0, 1: 3.0}, {1: 1.0})
    assert (one.n_treatment, one.diff) == (1, 2.0) and not one.judged
    assert sensitivity.paired_verdict({0: 2.0}, {0: 1.0}, Rule(claim=1.0)) == stats.NO_DATA
    exact = sensitivity.paired({0: 2.0, 1: 5.0}, {0: 1.0, 1: 4.0})
    assert (exact.ci_low, exact.ci_high) == (1.0, 1.0) and math.isnan(exact.p)
    assert sensitivity.paired({}, {}).n_treatment == 0


def test_verdicts_name_each_analysis_and_its_verdict():
    a, b = {s: 10.0 + s for s in range(4)}, {s: float(s) for s in range(4)}
    assert sensitivity.verdicts(a, b, Rule(claim=10.0)) == [
        (
            sensitivity.PERMUTATION,  # 4 + 4 seeds: p can reach 2/70 < 0.05
            sensitivity.permutation_verdict(list(a.values()), list(b.values()), Rule(claim=10.0)),
        ),
        (sensitivity.PAIRED, stats.REPRODUCED),  # every seed +10 exactly: a zero-width interval
    ]


def test_a_permutation_test_that_cannot_reach_the_level_is_left_out():
    a, b = {s: 10.0 + s for s in range(4)}, {s: float(s) for s in range(4)}
    # 3 + 3 seeds: p >= 0.1, nothing to decide at 5 %; 4 + 4: p >= 0.029, nothing at 1 %
    three = sensitivity.verdicts({s: a[s] for s in range(3)}, {s: b[s] for s in range(3)})
    assert [name for name, _ in three] == [sensitivity.PAIRED]
    assert [name for name, _ in sensitivity.verdicts(a, b, Rule(alpha=0.05))] == [
        sensitivity.PERMUTATION,
        sensitivity.PAIRED,
    ]
    assert [name for name, _ in sensitivity.verdicts(a, b, Rule(alpha=0.01))] == [
        sensitivity.PAIRED
    ]


def test_the_level_reaches_every_analysis():
    base = [float(x) for x in range(10)]
    shifted = [x + 3.5 for x in base]  # permutation p 0.022: decides at 5 %, not at 1 %
    p = sensitivity.permutation_p(shifted, base)
    assert 0.01 < p < 0.05
    assert sensitivity.permutation_verdict(shifted, base, Rule(direction=1)) == stats.REPRODUCED
    assert sensitivity.permutation_verdict(shifted, base, Rule(direction=1, alpha=0.01)) == (
        stats.INCONCLUSIVE
    )
    a = {0: 91.4, 1: 91.8, 2: 91.6}
    b = {0: 90.8, 1: 91.0, 2: 91.1}  # per-seed differences 0.6, 0.8, 0.5
    assert sensitivity.paired_verdict(a, b, Rule(claim=0.6)) == stats.REPRODUCED
    assert sensitivity.paired_verdict(a, b, Rule(claim=0.6, alpha=0.01)) == stats.INCONCLUSIVE


def test_a_measured_claim_reaches_the_sensitivity_analyses():
    a = {0: 91.0, 1: 92.0, 2: 93.0}
    b = {0: 90.4, 1: 91.5, 2: 92.3}  # arms spread by 1, per-seed differences 0.6, 0.5, 0.7
    x, y = np.array(list(a.values())), np.array(list(b.values()))
    shifted = sensitivity.paired(a, b, shift=1.0, shift_runs=10)
    terms = [(x - y).var(ddof=1) / 3, x.var(ddof=1) / 10, y.var(ddof=1) / 10]
    df = sum(terms) ** 2 / sum(t**2 / 2 for t in terms)  # Welch-Satterthwaite, 2 df each
    half = sps.t.ppf(0.975, df) * math.sqrt(sum(terms))
    assert shifted.df == pytest.approx(df) and shifted.diff == pytest.approx(-0.4)
    assert shifted.ci_high == pytest.approx(shifted.diff + half)
    # +1.0 lies above the paired interval [+0.35, +0.85], not beyond its 10 runs' noise
    assert sensitivity.paired_verdict(a, b, Rule(claim=1.0)) == stats.SMALLER
    assert sensitivity.paired_verdict(a, b, Rule(claim=1.0, claim_runs=10)) == stats.REPRODUCED
    # the permutation test decides 0; the claim is Welch's against the measured claim
    base = [float(v) for v in range(10)]
    ours = [v + 3.5 for v in base]
    said = {
        runs: sensitivity.permutation_verdict(ours, base, Rule(claim=6.8, claim_runs=runs))
        for runs in (math.inf, 10)
    }
    assert said == {math.inf: stats.SMALLER, 10: stats.REPRODUCED}
    for runs, verdict in said.items():
        welch_says = stats.welch(ours, base, shift=6.8, shift_runs=runs).contains(0.0)
        assert verdict == (stats.REPRODUCED if welch_says else stats.SMALLER)
