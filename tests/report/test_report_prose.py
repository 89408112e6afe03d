"""lib.report.prose and notes: each sentence says what the numbers say, or that they are missing."""

from __future__ import annotations

from lib.report import notes, prose
from lib.report.convergence import convergence
from lib.report.formatting import interval, mean_sd, num, p_value


def test_finding_quotes_our_comparison(smoke):
    text = prose.finding(smoke, "resnet34_lr")
    for epochs in (10, 20):
        c = smoke.compare("resnet34_lr", "resnet34", epochs)
        assert f"**{num(c.diff, sign=True)} points**" in text
        assert interval(c.ci_low, c.ci_high, sign=True) in text and p_value(c.p) in text
    assert text.count("Verdict: **") == 2 and "(smoke protocol)" in text


def test_intro_sentences(smoke):
    summary = prose.verdict_summary(smoke)
    assert summary.startswith("**At a glance.** Of the paper's 5 improvements")
    assert mean_sd(smoke.summary("improved")) in summary
    assert "reduced protocol" in prose.protocol_note(smoke)
    assert "**bf16** (10 runs)" in prose.precision_note(smoke)


def test_convergence_sentence(smoke):
    conv = convergence(smoke, "resnet34_selu", "resnet34", 2)
    text = prose.convergence_sentence(smoke, conv, "resnet34_selu")
    assert f"training loss of {num(conv['threshold'], 3)}" in text


def test_readings_and_beyond(smoke):
    assert "**`" in prose.closest_baseline(smoke)  # resnet34 is the only baseline reading run
    assert "verdicts" in prose.readings_reproduce(smoke)
    assert "step schedule first decays after epoch 5" in prose.step_note(smoke)
    assert prose.resolution_text(smoke).startswith("The runs needed")  # no plain stem runs
    assert "Across the 5 arms with at least two seeds" in prose.spread_text(smoke)
    assert prose.torchvision_verdict(True).startswith("**Identical**")


def test_without_results_every_sentence_says_so(nothing):
    assert prose.finding(nothing, "improved") == "No results yet, so no verdict."
    assert "**No results yet**" in prose.verdict_summary(nothing)
    assert prose.protocol_note(nothing) == "There are no results, so no protocol to describe."
    assert prose.closest_baseline(nothing) == "No baseline reading has results yet."
    assert prose.spread_text(nothing).startswith("No arm has two seeds")
    assert "No results to show" in notes.banner(nothing)
    assert "No results yet" in notes.short_banner(nothing)
    assert notes.missing_note(nothing, ["improved"]).startswith("No results exist yet")
    assert notes.runs_total(nothing) == "No runs yet."
    assert "**No benchmark files**" in notes.bench_text(nothing)


def test_banners_name_what_is_missing(smoke):
    banner = notes.banner(smoke)
    assert "**10 of 30 planned runs complete**" in banner and "`resnet34_projection`" in banner
    assert notes.missing_note(smoke, ["resnet34", "improved"]).startswith("All 2 arms")
    assert "`resnet34_nopool`" in notes.missing_note(smoke, ["resnet34", "resnet34_nopool"])
    assert "make runs PROFILE=smoke" in notes.rerun_commands(smoke)
    assert "GPU figures are unmeasured" in notes.bench_text(smoke)
    assert notes.checks_text({"agree": 1, "checked": 2, "normalisations": []}).endswith(
        "(training-set mean, sd): none."
    )
