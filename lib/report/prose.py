"""What the results say, in sentences: findings, verdict summaries, readings, beyond the paper.

Every sentence that depends on the results is worded here or in ``lib.report.notes``
(chapters only glue them), so all chapters word things the same way.
"""

from __future__ import annotations

import pandas as pd

from lib.analysis import power, stats
from lib.core.arms import ARMS, PAPER_RUNS
from lib.report.architecture import trains_identically
from lib.report.claims import (
    BASELINE,
    BASELINE_READINGS,
    LOG_SD,
    LONG,
    REACH,
    SHORT,
    improvement_claims,
    paper_accuracy,
    paper_epochs,
)
from lib.report.convergence import UNITS
from lib.report.formatting import (
    CI,
    POWER,
    ci_label,
    epochs_label,
    finite,
    interval,
    leaves_open,
    margin_phrase,
    md_codes,
    mean_sd,
    num,
    p_phrase,
    p_value,
    power_note,
    protocol_phrase,
    verdict_text,
)
from lib.report.results import BEST, Results
from lib.report.verdicts import claim_judgement, primary_judgement


def open_question(verdict: str, assessment: stats.Assessment, unit: str, digits: int) -> str:
    """The power note as a sentence, for a verdict that leaves the question open."""
    return f" At this n: {power_note(assessment, unit, digits)}." if leaves_open(verdict) else ""


def agreeing(sensitivity) -> str:
    """'the A, the B and the C': the analyses of (analysis, verdict) pairs, in prose."""
    names = [f"the {name}" for name, _ in sensitivity]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def against_phrase(a: stats.Assessment) -> str:
    """Ours minus the paper's claim with its interval (the paper's seed noise included)."""
    c = a.against
    return f"{num(c.diff, sign=True)} {interval(c.ci_low, c.ci_high, sign=True)}"


def sensitivity_phrase(j) -> str:
    """Which sensitivity analyses give another verdict than the primary, else that all agree."""
    changes = "; ".join(f"the {name} gives *{v}*" for name, v in j.changes)
    return changes or f"{agreeing(j.sensitivity)} agree"


def finding(results: Results, arm: str, baseline: str = BASELINE) -> str:
    """One paragraph per epoch count the paper reports for ``arm``: ours, the paper's,
    the verdict, what the seeds can detect, the sensitivity analyses."""
    if results.empty:
        return "No results yet, so no verdict."
    out = []
    for epochs in paper_epochs(arm):
        j = primary_judgement(results, arm, epochs)
        c, cb = j.comparison, results.compare(arm, baseline, epochs, BEST)
        out.append(
            f"At the paper's {epochs_label(results, epochs)} epochs, `{arm}` changes final "
            f"test accuracy by **{num(c.diff, sign=True)} points** over `{baseline}` "
            + (
                f"(n = {c.n_treatment} vs {c.n_baseline}); the paper reports "
                f"{num(j.assessment.claim, sign=True)}. Verdict: "
                f"**{verdict_text(results, j.verdict)}**: a test needs at least two "
                "seeds in each arm."
                if j.verdict == stats.NO_DATA
                else f"({ci_label(j.alpha)} {interval(c.ci_low, c.ci_high, sign=True)}, "
                f"{p_phrase(c.p, 'Welch p')}, Bonferroni-adjusted over the "
                f"{len(improvement_claims())} primary claims {p_value(j.family_p)}, "
                f"n = {c.n_treatment} vs {c.n_baseline}); the paper "
                f"reports {num(j.assessment.claim, sign=True)}, and ours minus the paper's is "
                f"{against_phrase(j.assessment)} with the noise of its {PAPER_RUNS} runs per "
                "arm. Verdict: "
                f"**{verdict_text(results, j.verdict)}**."
                + open_question(j.verdict, j.assessment, "points", 2)
                + f" Sensitivity: {sensitivity_phrase(j)}."
            )
            + f" On the optimistic best-epoch reading the change is "
            f"{num(cb.diff, sign=True)} points."
        )
    return "\n\n".join(out)


def convergence_sentence(results: Results, conv: dict, arm: str, baseline: str = BASELINE) -> str:
    """What ``lib.report.convergence.convergence`` measured: each claim's measure first,
    then its numbers and its (exploratory) verdict."""
    if results.empty or not conv["per_epoch"]:
        return "No per-iteration losses yet, so convergence cannot be measured."
    out = []
    for measure, a in conv["judged"].items():
        c, (unit, digits) = a.comparison, UNITS[measure]
        numbers = (
            f"({CI} {interval(c.ci_low, c.ci_high, digits, True)}, {p_phrase(c.p)}): "
            f"**{verdict_text(results, a.verdict)}** (exploratory)."
            + open_question(a.verdict, a, unit, digits)
        )
        if measure == REACH:
            out.append(
                f"*Faster* is measured as the iterations until the training loss, smoothed "
                f"over {conv['window']} iterations, first reaches "
                f"{num(conv['threshold'], 3)}, the highest level at which a run of either "
                f"arm ends its first {conv['epochs']} epochs ({conv['per_epoch']} iterations "
                f"each). `{arm}` gets there {num(abs(c.diff), 0)} iterations "
                f"{'earlier' if c.diff < 0 else 'later'} than `{baseline}` on average " + numbers
            )
        elif measure == LOG_SD:
            out.append(
                "*Less fluctuation* is measured as the sd of the log training loss over the "
                "last epoch, the fluctuation relative to the loss level (decay lowers the "
                "loss itself, which would shrink a raw sd mechanically). "
                f"`{arm}`'s differs from `{baseline}`'s by {num(c.diff, 3, True)} "
                + numbers
                + second_measure(results, a, *conv["second"][measure])
            )
    return "\n\n".join(out)


def second_measure(
    results: Results, first: stats.Assessment, name: str, a: stats.Assessment
) -> str:
    """The sentence on a claim's second measure (``claims.SECOND_MEASURE``), and whether
    the verdict depends on which of the two measures is read."""
    c, digits = a.comparison, UNITS[name][1]
    text = (
        f" As a sensitivity analysis, the {name}, the fluctuation a linear plot like the "
        f"paper's shows: {num(c.diff, digits, True)} ({CI} "
        f"{interval(c.ci_low, c.ci_high, digits, True)}, {p_phrase(c.p)}), "
        f"**{verdict_text(results, a.verdict)}**."
    )
    if a.verdict != first.verdict and stats.NO_DATA not in (a.verdict, first.verdict):
        text += " The verdict on this claim depends on which fluctuation is meant."
    return text


# --- the readings chapter -------------------------------------------------------------------


def closest_baseline(results: Results) -> str:
    """Which baseline reading comes closest to the paper's baseline accuracy (a sentence)."""
    paper = paper_accuracy(BASELINE, SHORT)
    means = {a: results.summary(a).mean for a in BASELINE_READINGS}
    means = {a: m for a, m in means.items() if finite(m)}
    if not means:
        return "No baseline reading has results yet."
    best = min(means, key=lambda a: abs(means[a] - paper))
    s = results.summary(best)
    text = (
        f"Of the baseline readings with results ({md_codes(means)}), "
        f"**`{best}`** comes closest to the paper's {num(paper)} %: {mean_sd(s, unit='%')} after "
        f"epoch {results.horizon(SHORT)} ({margin_phrase(s, paper, results.summary(BASELINE))})."
    )
    if results.reduced:
        text += (
            f" Under the reduced `{results.profile}` protocol ({protocol_phrase(results)}) "
            "no absolute accuracy is comparable with the paper's, so this ranking only says "
            "which reading is least far off here; the paper's protocol decides it."
        )
    return text


def step_note(results: Results) -> str:
    """Says why the step schedule's short-cell verdict is n/a, when it is."""
    h = results.horizon(SHORT)
    if not trains_identically("resnet34_lr_step", BASELINE, results.model_profile, h):
        return ""
    where = (
        "at the paper's protocol"
        if results.model_profile == "paper"
        else f"under our reduced `{results.model_profile}` proxy"
    )
    return (
        f"Note: {where} the step schedule has not decayed "
        f"yet at the paper's {SHORT}-epoch cell (our epoch {h}), so there `resnet34_lr_step` "
        f"has trained exactly like the constant-LR baseline and its verdict is "
        f"*{stats.NOT_APPLICABLE}*; only its {LONG}-epoch verdict says something about step "
        "decay."
    )


# --- beyond the paper ------------------------------------------------------------------------


def resolution_text(results: Results) -> str:
    """How much of the Inception stem's change full resolution alone explains; a plain stem
    of one seed gives estimates without intervals, labelled as partial."""
    arms = ("resnet34_plainstem", "resnet34_inception", BASELINE)
    if not all(results.summary(arm).n for arm in arms):
        return "The runs needed to separate resolution from Inception structure are missing."
    res = results.compare("resnet34_plainstem", BASELINE)
    # the paper's Table 4 claim: the interval its verdict reads, as on every page
    claim = claim_judgement(results, "resnet34_inception", SHORT, BASELINE)
    inc = claim.comparison if claim else results.compare("resnet34_inception", BASELINE)
    diff = results.compare("resnet34_inception", "resnet34_plainstem")

    def estimate(c: stats.Comparison, label: str = CI) -> str:
        if not finite(c.ci_low):
            return f"{num(c.diff, sign=True)} points (no interval)"
        ci = interval(c.ci_low, c.ci_high, sign=True)
        return f"{num(c.diff, sign=True)} points ({label} {ci})"

    text = (
        f"The plain full-resolution stem moves accuracy by {estimate(res)}, the Inception stem "
        f"by {estimate(inc, ci_label(claim.alpha) if claim else CI)}, and Inception over the "
        f"plain stem at the same resolution by {estimate(diff)}."
    )
    plain_seeds = results.summary("resnet34_plainstem").n
    if plain_seeds < 2:
        return text + (
            f" The plain stem has {plain_seeds} seed so far (partial), so this split is a "
            "hint, not a finding."
        )
    if not inc.contains(0.0):
        share = 100 * res.diff / inc.diff
        if share >= 100:
            return text + (
                f" The plain stem alone gains **{share:.0f} %** of the Inception stem's change: "
                "resolution accounts for all of it."
            )
        return text + (
            f" Resolution alone accounts for about **{share:.0f} %** of the Inception "
            "stem's change over the baseline."
        )
    return text + (
        f" The Inception stem's own change shows *{stats.NO_CLEAR_DIFFERENCE}* from zero "
        "here, so there is no gain to split between resolution and Inception structure."
    )


def spread_text(results: Results) -> str:
    """The range of seed-to-seed sds and the difference they let the seeds detect."""
    sds = {a: results.summary(a).sd for a in ARMS}
    sds = {a: v for a, v in sds.items() if finite(v)}
    if not sds:
        return "No arm has two seeds yet, so there is no seed-to-seed spread to report."
    lo, hi = min(sds, key=sds.get), max(sds, key=sds.get)
    median_sd = float(pd.Series(list(sds.values())).median())
    n_seeds = len(results.spec.seeds)
    alpha = power.family_alpha(len(improvement_claims()))
    return (
        f"Across the {len(sds)} arms with at least two seeds, the seed-to-seed sd of final "
        f"accuracy ranges from {num(sds[lo])} (`{lo}`) to {num(sds[hi])} (`{hi}`) "
        f"points, median {num(median_sd)}. With {n_seeds} seeds per arm and that median "
        f"sd, Welch's 95 % interval excludes 0, with {POWER}, for a difference of "
        f"{num(power.detectable_effect(median_sd, n_seeds))} points or more, "
        f"and at the {100 * alpha:g} % level of a primary claim "
        f"{num(power.detectable_effect(median_sd, n_seeds, alpha=alpha))}; smaller true "
        "differences are usually missed."
    )


def torchvision_verdict(same: bool) -> str:
    """``lib.report.architecture.torchvision_check``'s answer, in words."""
    if same:
        return (
            "**Identical**: our ResNet-34 with projection shortcuts has exactly torchvision's "
            "parameter tensors (same shapes, same count)."
        )
    return (
        "**Different**: our ResNet-34 with projection shortcuts does not match torchvision's "
        "parameter tensors — see the table."
    )
