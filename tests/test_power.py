"""lib.power: the smallest detectable effect, the seeds needed and Bonferroni, each against an
answer computed independently (the noncentral t) or known by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats as sps

from lib import power, stats


def test_bonferroni_known_answers():
    assert power.bonferroni([0.01, 0.04, 0.3]) == pytest.approx([0.03, 0.12, 0.9])
    # a missing p stays missing; the family keeps its size (3)
    with_missing = power.bonferroni([0.01, math.nan, 0.004])
    assert with_missing[0] == pytest.approx(0.03) and with_missing[2] == pytest.approx(0.012)
    assert math.isnan(with_missing[1])
    assert power.bonferroni([]) == []
    assert power.bonferroni([0.4, 0.9]) == pytest.approx([0.8, 1.0])  # capped at 1
    assert power.family_alpha(5) == pytest.approx(0.01) and power.family_alpha(1) == stats.ALPHA


def _power(cohen_d: float, n: int, alpha: float = 0.05) -> float:
    """Two-sided two-sample t-test power from the noncentral t, independent of statsmodels."""
    df, nc = 2 * n - 2, cohen_d * math.sqrt(n / 2)
    crit = sps.t.ppf(1 - alpha / 2, df)
    return sps.nct.sf(crit, df, nc) + sps.nct.cdf(-crit, df, nc)


def test_detectable_effect_has_80_percent_power():
    for n, sd in [(3, 0.44), (10, 1.0), (2, 2.0)]:
        effect = power.detectable_effect(sd, n)
        assert _power(effect / sd, n) == pytest.approx(0.8, abs=1e-4)
    assert power.detectable_effect(1.0, 3) == pytest.approx(3.0709, abs=1e-3)
    assert power.detectable_effect(1.0, 10) == pytest.approx(1.3249, abs=1e-3)
    assert math.isnan(power.detectable_effect(0.5, 1))
    assert math.isnan(power.detectable_effect(math.nan, 3))
    at_one_percent = power.detectable_effect(1.0, 10, alpha=0.01)
    assert _power(at_one_percent, 10, alpha=0.01) == pytest.approx(0.8, abs=1e-4)
    # 2 + 2 seeds at 1 %: scipy's noncentral t gives NaN near the answer (d about 12.6) and
    # the solver stops at its bound d = 10, whose power is 0.63: no answer, not that one
    assert _power(10.0, 2, alpha=0.01) == pytest.approx(0.634, abs=1e-3)
    assert math.isnan(power.detectable_effect(1.0, 2, alpha=0.01))


def test_seeds_needed_known_answers():
    assert power.seeds_needed(1.0, 1.0, alpha=0.01) == 26  # d = 1 at the 1 % level
    assert _power(1.0, 26, alpha=0.01) >= 0.8 > _power(1.0, 25, alpha=0.01)
    assert power.seeds_needed(1.0, 1.0) == 17  # the textbook 16.7 for Cohen's d = 1
    assert power.seeds_needed(-0.5, 1.0) == 64  # the sign does not matter; 63.8
    assert power.seeds_needed(20.0, 1.0) == 2  # two seeds already suffice
    assert _power(1.0, 17) >= 0.8 > _power(1.0, 16)
    assert math.isnan(power.seeds_needed(0.0, 1.0))
    assert math.isnan(power.seeds_needed(1.0, 0.0))
