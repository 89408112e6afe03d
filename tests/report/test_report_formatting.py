"""lib.report.formatting: one wording of numbers, intervals, p-values and verdicts."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from lib.analysis import power, stats
from lib.analysis.stats import Rule
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
    assert (
        fmt.p_phrase(0.0004) == "p < 0.001" and fmt.p_phrase(0.0312, "Welch p") == "Welch p = 0.031"
    )
    assert fmt.CI == "95 % CI"


def test_mean_sd_says_how_many_seeds():
    assert fmt.mean_sd(stats.summarise([])) == "no runs"
    assert fmt.mean_sd(stats.summarise([93.0])) == "93.00 (one seed)"
    assert fmt.mean_sd(stats.summarise([1.0, 3.0]), 1) == "2.0 ± 1.4"


def test_verdicts_and_names_as_html():
    assert fmt.GREEN in fmt.verdict_html(stats.REPRODUCED)
    assert fmt.RED in fmt.verdict_html("not reproduced (cpu proxy)")
    assert fmt.RED in fmt.verdict_html(stats.OPPOSITE)
    assert fmt.AMBER in fmt.verdict_html(stats.SMALLER + " (cpu proxy)")
    assert fmt.BLUE in fmt.verdict_html(stats.LOWER)
    for grey in (stats.INCONCLUSIVE, stats.NO_CLEAR_DIFFERENCE, stats.NOT_APPLICABLE, "other"):
        assert fmt.GREY in fmt.verdict_html(grey)
    assert fmt.code("a<b") == "<code>a&lt;b</code>"
    assert fmt.code("resnet34_lr_step") == "<code>resnet34<wbr>_lr<wbr>_step</code>"
    assert fmt.md_codes(["a", "b"]) == "`a`, `b`"
    assert fmt.commit_html("0123456789abcdef", True) == "<code>0123456789</code> (dirty)"


def test_protocol_words_follow_the_profile(smoke, nothing, fixtures):
    assert fmt.epochs_label(smoke, 10) == "10 (ours 2)"
    phrase = fmt.protocol_phrase(smoke)
    assert "2,000 of 60,000 training images" in phrase and "2 instead of 10 epochs" in phrase
    s = smoke.summary("resnet34")
    assert fmt.accuracy_verdict_text(smoke, s, 93.12) == "not comparable (smoke proxy)"
    assert fmt.verdict_text(smoke, stats.REPRODUCED) == "reproduced (smoke proxy)"
    for unmarked in (stats.NO_DATA, stats.NOT_APPLICABLE):
        assert fmt.verdict_text(smoke, unmarked) == unmarked
    paper = Results("paper", fixtures, smoke.frame)
    assert fmt.verdict_text(paper, stats.REPRODUCED) == stats.REPRODUCED
    assert fmt.protocol_phrase(nothing) == "no protocol (no results)"
    assert fmt.protocol_phrase(Results("paper", fixtures, smoke.frame)) == "the paper's protocol"


def test_power_note_for_open_verdicts():
    base = [-1.0, 0.0, 1.0]  # sd 1 at n = 3: Welch's interval detects 3.51; 1 needs 17 seeds
    a = stats.assess([x + 1 for x in base], base, Rule(claim=1.0))
    assert a.verdict == stats.INCONCLUSIVE and fmt.leaves_open(a.verdict)
    assert fmt.power_note(a) == (
        "n = 3 per arm detects 3.51 points or more (80 % power); "
        "17 seeds per arm would detect the claimed +1.00"
    )
    tiny = stats.assess([x + 0.01 for x in base], base, Rule(claim=0.01))  # about 157,000 seeds
    assert fmt.power_note(tiny).endswith(
        "more than 1,000 seeds per arm would detect the claimed +0.01"
    )
    contrast = stats.assess([x + 1 for x in base], base)
    assert contrast.verdict == stats.NO_CLEAR_DIFFERENCE and "the observed +1.00" in (
        fmt.power_note(contrast)
    )
    assert not fmt.leaves_open(stats.REPRODUCED)
    primary = stats.assess([x + 1 for x in base], base, Rule(claim=1.0, alpha=0.01))
    assert fmt.power_note(primary) == (
        f"n = 3 per arm detects {fmt.num(power.detectable_effect(1.0, 3, alpha=0.01))} points "
        "or more (80 % power, at the 1 % level); 26 seeds per arm would detect the claimed +1.00"
    )


def test_tables_scroll_inside_the_column():
    html = fmt.table_html(pd.DataFrame({"Verdict": ["reproduced"]}))
    assert html.startswith('<div class="repl-scroll"><table') and html.endswith("</div>")


def test_numbers_in_a_table_never_break_inside():
    nbsp = fmt.NBSP
    cell = "+2.11<br>[+1.58, +2.65], n 3 vs 5, Welch p < 0.001"
    assert fmt.unbreakable(cell) == (
        f"+2.11<br>[+1.58,{nbsp}+2.65], n 3{nbsp}vs{nbsp}5, Welch p <{nbsp}0.001"
    )
    assert fmt.unbreakable("93.12 % | -2.19 ± 0.42") == f"93.12{nbsp}% | -2.19{nbsp}±{nbsp}0.42"
    assert fmt.unbreakable("does not match; seeds 0, 1") == "does not match; seeds 0, 1"
    html = fmt.table_html(pd.DataFrame({"Paper": ["93.12 %"]}))
    assert f"<td>93.12{nbsp}%</td>" in html


def test_every_table_names_the_function_that_made_it(smoke):
    from lib.report import architecture, convergence, provenance, readings, tables, verdict_prose

    made = {
        "lib.report.tables.accuracy_table": tables.accuracy_table(smoke),
        "lib.report.tables.primary_table": tables.primary_table(smoke),
        "lib.report.verdict_prose.claims_table": verdict_prose.claims_table(smoke),
        "lib.report.tables.spread_table": tables.spread_table(smoke),
        "lib.report.convergence.convergence_claims": convergence.convergence_claims([smoke]),
        "lib.report.readings.ambiguities_table": readings.ambiguities_table(smoke),
        "lib.report.architecture.stems_table": architecture.stems_table(),
        "lib.report.provenance.runs_table": provenance.runs_table(smoke),
    }
    for name, frame in made.items():
        html = fmt.table_html(frame)
        assert html.endswith(f'<a href="code.html#{name}" title="{name}">code</a></p>'), (
            name
        )  # the Code chapter's entry (tests/test_book.py checks the anchor exists)


def test_a_one_seed_accuracy_borrows_the_defaults_spread_for_its_margin():
    one, default = stats.summarise([92.87]), stats.summarise([90.9, 91.3, 90.6, 91.0, 90.8])
    assert fmt.margin_phrase(one, 93.12).endswith("one seed, no margin yet")
    margin = stats.margin(default, 10, runs=1)
    assert fmt.margin_phrase(one, 93.12, default) == (
        f"-0.25 points on one seed, within the ± {fmt.num(margin)} that one run spread as our "
        "default's 5 seeds and the paper's 10 runs allow"
    )
