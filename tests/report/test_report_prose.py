"""lib.report.prose and notes: each sentence says what the numbers say, or that they are missing."""

from __future__ import annotations

import dataclasses
import math
import statistics

import pandas as pd

from lib.analysis import power, stats
from lib.core.arms import ARMS
from lib.report import claims, notes, prose, verdicts
from lib.report.convergence import convergence
from lib.report.formatting import interval, num, p_value, power_note
from lib.report.results import Results


def test_finding_quotes_our_comparison(smoke):
    text = prose.finding(smoke, "resnet34_lr")
    for epochs in (10, 20):
        j = verdicts.primary_judgement(smoke, "resnet34_lr", epochs)
        c = j.comparison  # the family's: Welch at 99 %, the interval the verdict reads
        assert c.diff == smoke.compare("resnet34_lr", "resnet34", epochs).diff
        assert f"**{num(c.diff, sign=True)} points**" in text and p_value(c.p) in text
        assert f"Bonferroni-adjusted over the 5 primary claims {p_value(j.family_p)}" in text
        assert f"simultaneous 95 % CI {interval(c.ci_low, c.ci_high, sign=True)}" in text
        # ours minus the paper's +d, with the noise of the paper's runs
        assert j.assessment.against.diff == c.diff - j.assessment.claim
        a = j.assessment.against
        said = f"{num(a.diff, sign=True)} {interval(a.ci_low, a.ci_high, sign=True)}"
        assert f"ours minus the paper's is {said} with the noise of its 10 runs" in text
    assert text.count("Verdict: **") == 2 and "(smoke proxy)" in text
    assert text.count("Sensitivity: ") == 2
    for epochs in (10, 20):  # each analysis that agrees is named, or its other verdict is
        j = verdicts.primary_judgement(smoke, "resnet34_lr", epochs)
        said = [f"the {name} gives *{v}*" for name, v in j.changes] or [
            prose.agreeing(j.sensitivity)
        ]
        assert all(part in text for part in said)


def test_one_seed_gets_no_test_and_no_sensitivity_claim(smoke):
    one_seed = Results(smoke.profile, smoke.folder, smoke.frame[smoke.frame.seed == 0])
    text = prose.finding(one_seed, "resnet34_lr")
    assert text.count("Verdict: **no data**: a test needs at least two seeds") == 2
    assert "(n = 1 vs 1)" in text
    assert "Sensitivity" not in text and "Welch" not in text and "Bonferroni" not in text


def test_agreeing_names_every_analysis():
    pairs = [("exact permutation test", "x"), ("paired t-test by seed", "x"), ("mean", "y")]
    said = "the exact permutation test, the paired t-test by seed and the mean"
    assert prose.agreeing(pairs) == said
    assert prose.agreeing(pairs[:1]) == "the exact permutation test"


def test_an_open_verdict_says_what_the_seeds_detect(smoke):
    for arm in claims.TABLE_ARMS.values():
        text = prose.finding(smoke, arm)
        for epochs in claims.paper_epochs(arm):
            j = verdicts.primary_judgement(smoke, arm, epochs)
            if j.verdict == stats.INCONCLUSIVE:
                assert power_note(j.assessment) in text


def test_convergence_sentence(smoke):
    conv = convergence(smoke, "resnet34_selu", "resnet34", 2)
    text = prose.convergence_sentence(smoke, conv, "resnet34_selu")
    assert text.startswith("*Faster* is measured as") and num(conv["threshold"], 3) in text
    assert "*Less fluctuation*" not in text  # not a claim the paper makes about SELU
    lr = convergence(smoke, "resnet34_lr", "resnet34", 4)
    text = prose.convergence_sentence(smoke, lr, "resnet34_lr")
    assert text.index("*Faster* is measured") < text.index("*Less fluctuation* is measured")


def test_readings_and_beyond(smoke):
    assert "**`" in prose.closest_baseline(smoke)  # resnet34 is the only baseline reading run
    assert "its verdict is *n/a*" in prose.step_note(smoke)
    assert prose.step_note(smoke).startswith("Note: under our reduced `smoke` proxy the step")
    assert prose.resolution_text(smoke).startswith("The runs needed")  # no plain stem runs
    spread = prose.spread_text(smoke)
    assert "Across the 5 arms with at least two seeds" in spread and "80 % power" in spread
    sd = statistics.median(v for a in ARMS if math.isfinite(v := smoke.summary(a).sd))
    assert (
        f"at the 1 % level of a primary claim {num(power.detectable_effect(sd, 2, alpha=0.01))}"
        in (spread)
    )
    assert prose.torchvision_verdict(True).startswith("**Identical**")


def test_without_results_every_sentence_says_so(nothing):
    assert prose.finding(nothing, "improved") == "No results yet, so no verdict."
    assert prose.closest_baseline(nothing) == "No baseline reading has results yet."
    assert prose.spread_text(nothing).startswith("No arm has two seeds")
    assert "No results to show" in notes.banner(nothing)
    assert "No results yet" in notes.short_banner(nothing)
    assert notes.missing_note(nothing, ["improved"]).startswith("No results exist yet")
    assert notes.runs_total(nothing) == "No runs yet."
    assert "**No benchmark files**" in notes.bench_text(nothing)


def test_banners_name_what_is_missing(smoke):
    banner = notes.banner(smoke)
    assert (
        f"**10 of {2 * len(ARMS)} planned runs complete**" in banner
        and "`resnet34_projection`" in banner
    )
    assert notes.missing_note(smoke, ["resnet34", "improved"]).startswith("All 2 arms")
    short = notes.short_banner(smoke)  # a chapter's: partial said in words, no profile name
    assert f"Partial results, {notes.protocol_phrase(smoke)}: 10 of {2 * len(ARMS)}" in short
    assert "`smoke`" not in short and "failed" not in short
    assert "`resnet34_nopool`" in notes.missing_note(smoke, ["resnet34", "resnet34_nopool"])
    assert "make runs PROFILE=smoke" in notes.rerun_commands(smoke)
    assert "GPU figures are unmeasured" in notes.bench_text(smoke)
    assert notes.checks_text({"agree": 1, "checked": 2, "normalisations": []}).endswith(
        "(training-set mean, sd): none."
    )


def test_no_absolute_path_of_the_results_folder(smoke, nothing):
    texts = [notes.banner(nothing), notes.build_environment(smoke), notes.bench_text(smoke)]
    for text in texts:
        assert str(smoke.folder) not in text and str(nothing.folder) not in text
    assert "`tests/fixtures/results`" in notes.build_environment(smoke)


def test_the_second_measure_is_said_and_whether_the_verdict_hangs_on_it(smoke):
    conv = convergence(smoke, "resnet34_lr", "resnet34", 4)
    text = prose.convergence_sentence(smoke, conv, "resnet34_lr")
    first = conv["judged"][claims.LOG_SD]
    name, raw = conv["second"][claims.LOG_SD]
    assert f"the {name}" in text and num(raw.comparison.diff, 4, True) in text
    depends = "depends on which fluctuation is meant" in text
    assert depends == (raw.verdict != first.verdict)
    same = stats.Assessment(**{**vars(raw), "verdict": first.verdict})
    assert "depends" not in prose.second_measure(smoke, first, name, same)
    other = stats.REPRODUCED if first.verdict != stats.REPRODUCED else stats.NOT_REPRODUCED
    differs = stats.Assessment(**{**vars(raw), "verdict": other})
    assert "depends" in prose.second_measure(smoke, first, name, differs)


def test_a_plain_stem_of_one_seed_splits_resolution_as_a_partial_hint(smoke):
    one = smoke.frame[(smoke.frame.arm == "resnet34_inception") & (smoke.frame.seed == 0)]
    frame = pd.concat([smoke.frame, one.assign(arm="resnet34_plainstem")], ignore_index=True)
    text = prose.resolution_text(dataclasses.replace(smoke, frame=frame))
    assert text.startswith("The plain full-resolution stem moves accuracy by")
    assert "over the plain stem at the same resolution by" in text and "(no interval)" in text
    assert text.endswith("1 seed so far (partial), so this split is a hint, not a finding.")
