"""lib.report.formatting: one wording of numbers, intervals, p-values and verdicts."""

from __future__ import annotations

import math

import numpy as np

from lib import stats
from lib.report import formatting as fmt
from lib.report.results import Results


def test_numbers_and_missing_values():
    assert fmt.num(93.123) == "93.12" and fmt.num(1.5, 1, sign=True) == "+1.5"
    assert fmt.num(np.float64(2.0), 0) == "2"
    for missing in (None, math.nan, math.inf, "93"):
        assert fmt.num(missing) == "n/a"
    assert fmt.interval(-0.5, 1.25, sign=True) == "[-0.50, +1.25]"
    assert fmt.interval(math.nan, 1.0) == "n/a"
    assert fmt.p_value(0.0004) == "< 0.001" and fmt.p_value(0.0312) == "0.031"
    assert fmt.p_value(math.nan) == "n/a"
    assert fmt.CI == "95 % CI"


def test_mean_sd_says_how_many_seeds():
    assert fmt.mean_sd(stats.summarise([])) == "no runs"
    assert fmt.mean_sd(stats.summarise([93.0])) == "93.00 (one seed)"
    assert fmt.mean_sd(stats.summarise([1.0, 3.0]), 1) == "2.0 ± 1.4"


def test_verdicts_and_names_as_html():
    assert "#1a7f37" in fmt.verdict_html(stats.REPRODUCED)
    assert "#cf222e" in fmt.verdict_html("not reproduced (cpu protocol)")
    assert fmt.GREY in fmt.verdict_html("something else")
    assert fmt.code("a<b") == "<code>a&lt;b</code>"
    assert fmt.md_codes(["a", "b"]) == "`a`, `b`"
    assert fmt.commit_html("0123456789abcdef", True) == "<code>0123456789</code> (dirty)"


def test_protocol_words_follow_the_profile(smoke, nothing, fixtures):
    assert fmt.epochs_label(smoke, 10) == "10 (ours 2)"
    phrase = fmt.protocol_phrase(smoke)
    assert "2,000 of 60,000 training images" in phrase and "2 instead of 10 epochs" in phrase
    s = smoke.summary("resnet34")
    assert fmt.accuracy_verdict_text(smoke, s, 93.12) == "not comparable (smoke protocol)"
    c = smoke.compare("improved")
    assert fmt.improvement_verdict_text(smoke, c, 2.92).endswith("(smoke protocol)")
    assert fmt.protocol_phrase(nothing) == "no protocol (no results)"
    assert fmt.protocol_phrase(Results("paper", fixtures, smoke.frame)) == "the paper's protocol"
