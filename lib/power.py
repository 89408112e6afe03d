"""Levels, power and multiplicity: what a number of seeds can detect, and how a pre-stated
family of tests shares one level. Pure functions of numbers (statsmodels), below
``lib.stats``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestIndPower

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE  # two-sided
POWER = 0.8  # for the smallest detectable effect and the seeds needed


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
