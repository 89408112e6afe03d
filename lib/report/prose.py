"""What the results say, in sentences: findings, verdict summaries, readings, beyond the paper.

Every sentence that depends on the results is worded here or in ``lib.report.notes``
(chapters only glue them), so all chapters word things the same way.
"""

from __future__ import annotations

import pandas as pd

from lib import stats
from lib.ablations import ARMS, run_config
from lib.report.architecture import lr_factors
from lib.report.claims import (
    BASELINE,
    BASELINE_READINGS,
    LAST_EPOCH_SD,
    LONG,
    MEAN_LOSS,
    REACH,
    READINGS,
    SHORT,
    paper_accuracy,
    paper_diff,
    paper_epochs,
)
from lib.report.formatting import (
    CI,
    epochs_label,
    finite,
    improvement_verdict_text,
    interval,
    md_codes,
    mean_sd,
    num,
    p_value,
    protocol_phrase,
)
from lib.report.readings import reading_verdicts
from lib.report.results import BEST, Results
from lib.report.tables import verdict_counts


def finding(results: Results, arm: str, baseline: str = BASELINE) -> str:
    """One sentence per epoch count the paper reports for ``arm``: ours, the paper's, verdict."""
    if results.empty:
        return "No results yet, so no verdict."
    out = []
    for epochs in paper_epochs(arm):
        c = results.compare(arm, baseline, epochs)
        cb = results.compare(arm, baseline, epochs, BEST)
        d = paper_diff(arm, epochs, baseline)
        verdict = improvement_verdict_text(results, c, d)
        out.append(
            f"At the paper's {epochs_label(results, epochs)} epochs, `{arm}` changes final "
            f"test accuracy by **{num(c.diff, sign=True)} points** over `{baseline}` "
            f"({CI} {interval(c.ci_low, c.ci_high, sign=True)}, Welch p = {p_value(c.p)}, "
            f"n = {c.n_treatment} vs {c.n_baseline}); the paper reports {num(d, sign=True)}. "
            f"Verdict: **{verdict}**. On the optimistic best-epoch reading the change is "
            f"{num(cb.diff, sign=True)} points."
        )
    return "\n\n".join(out)


def convergence_sentence(results: Results, conv: dict, arm: str, baseline: str = BASELINE) -> str:
    """What ``lib.report.convergence.convergence`` measured, with the verdicts."""
    if results.empty or not conv["per_epoch"]:
        return "No per-iteration losses yet, so convergence cannot be measured."
    c_it, v_it = conv["comparisons"][REACH]
    c_sd, v_sd = conv["comparisons"][LAST_EPOCH_SD]
    c_mean, v_mean = conv["comparisons"][MEAN_LOSS]
    return (
        f"Over the first {conv['epochs']} epochs ({conv['per_epoch']} iterations each; loss "
        f"smoothed over {conv['window']} iterations) every run of both arms gets below a "
        f"training loss of {num(conv['threshold'], 3)}. `{arm}` gets there "
        f"{num(abs(c_it.diff), 0)} iterations {'earlier' if c_it.diff < 0 else 'later'} "
        f"than `{baseline}` on average ({CI} {interval(c_it.ci_low, c_it.ci_high, 0, True)}, "
        f"p = {p_value(c_it.p)}): *faster* is **{v_it}**. Its mean training loss over the run "
        f'differs by {num(c_mean.diff, 3, True)} ({v_mean} as "faster"), and the sd of the '
        f"loss over the last epoch by {num(c_sd.diff, 3, True)} "
        f"({CI} {interval(c_sd.ci_low, c_sd.ci_high, 3, True)}): *less fluctuation* is "
        f"**{v_sd}**."
    )


# --- the introduction ---------------------------------------------------------------------


def verdict_summary(results: Results) -> str:
    """At a glance: how many improvements are judged and how, and the headline change."""
    counts = verdict_counts(results)
    judged = sum(n for v, n in counts.items() if v != stats.NO_DATA)
    if results.empty:
        summary = "**No results yet**: none of the paper's claims can be judged."
    else:
        where = f" under the reduced `{results.profile}` protocol" if results.reduced else ""
        verdicts = (stats.REPRODUCED, stats.NOT_REPRODUCED, stats.INCONCLUSIVE)
        parts = [f"{counts.get(v, 0)} {v}" for v in verdicts]
        summary = (
            f"Of the paper's {sum(counts.values())} improvements over the baseline, "
            f"{judged} can be judged{where}: **" + ", ".join(parts) + "**."
        )
        if counts.get(stats.NO_DATA):
            summary += f" {counts[stats.NO_DATA]} lack the runs for a verdict."
        s_imp, s_base = results.summary("improved"), results.summary(BASELINE)
        c = results.compare("improved")
        summary += (
            f" Our combined model reaches {mean_sd(s_imp)} % against the baseline's "
            f"{mean_sd(s_base)} % after epoch {results.horizon(SHORT)}, a change of "
            f"{num(c.diff, sign=True)} points ({CI} "
            f"{interval(c.ci_low, c.ci_high, sign=True)})."
        )
    return "**At a glance.** " + summary


def protocol_note(results: Results) -> str:
    """What the profile's protocol lets the verdicts say."""
    if results.profile is None:
        return "There are no results, so no protocol to describe."
    if not results.reduced:
        return (
            "These results follow the paper's protocol, so absolute accuracies and "
            "improvements are both judged."
        )
    return (
        f"The `{results.profile}` profile is a **reduced protocol** "
        f"({protocol_phrase(results)}). Its absolute accuracies cannot be expected to "
        "reach the paper's, so accuracy verdicts are shown but marked *not comparable*; what "
        "carries over is the **sign and size of each improvement** over the baseline, judged "
        f"by the rule above. The paper's {SHORT}-epoch cells are read at our epoch "
        f"{results.horizon(SHORT)} and its {LONG}-epoch cells at our epoch "
        f"{results.horizon(LONG)}."
    )


def precision_note(results: Results) -> str:
    precisions = results.runs["precision"].value_counts()
    return (
        "Training precision in these records: "
        + (", ".join(f"**{p}** ({n} runs)" for p, n in precisions.items()) or "none yet")
        + ". bf16 means bf16 autocast of the convolutions (weights, optimiser and loss in "
        "fp32); the paper, trained on a GTX 1060 that has no bf16 units, almost certainly "
        "used fp32."
    )


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
        f"**`{best}`** comes closest to the paper's {num(paper)} %: {mean_sd(s)} % after "
        f"epoch {results.horizon(SHORT)} ({num(s.mean - paper, sign=True)} points; its {CI} "
        f"{interval(s.ci_low, s.ci_high)} {'contains' if s.contains(paper) else 'excludes'} "
        "the paper's value)."
    )
    if results.reduced:
        text += (
            f" Under the reduced `{results.profile}` protocol ({protocol_phrase(results)}) "
            "no absolute accuracy is comparable with the paper's, so this ranking only says "
            "which reading is least far off here; the paper profile decides it."
        )
    return text


def readings_reproduce(results: Results) -> str:
    """Whether any reading reproduces the paper's improvements (a sentence)."""
    found, judged = [], 0
    for reading in READINGS:
        for what, verdict in reading_verdicts(results, reading.arm):
            if verdict in (stats.NO_DATA,) or verdict.startswith("not run"):
                continue
            judged += 1
            if verdict == stats.REPRODUCED:
                found.append(f"{what} under `{reading.arm}` ({reading.label})")
    if not judged:
        return "No reading has enough results for a verdict yet."
    where = f" under the reduced `{results.profile}` protocol" if results.reduced else ""
    if not found:
        return (
            f"**No reading reproduces the paper's improvements**{where}: none of the "
            f"{judged} verdicts above is *reproduced*."
        )
    return f"**{len(found)} of {judged} verdicts are reproduced**{where}: " + "; ".join(found) + "."


def step_note(results: Results) -> str:
    """Says so when the step schedule has not decayed yet at the paper's short cell."""
    step = run_config("resnet34_lr_step", results.model_profile, 0)
    h = results.horizon(SHORT)
    if any(factor != 1.0 for factor in lr_factors(step, h)):
        return ""
    return (
        f"Note: with the `{results.model_profile}` profile the step schedule first decays "
        f"after epoch {step.lr_step_epochs}, so at the paper's {SHORT}-epoch cell (our "
        f"epoch {h}) `resnet34_lr_step` has trained exactly like the constant-LR baseline; "
        f"only its {LONG}-epoch verdict says something about step decay."
    )


# --- beyond the paper ------------------------------------------------------------------------


def resolution_text(results: Results) -> str:
    """How much of the Inception stem's change full resolution alone explains."""
    res = results.compare("resnet34_plainstem", BASELINE)
    inc = results.compare("resnet34_inception", BASELINE)
    diff = results.compare("resnet34_inception", "resnet34_plainstem")
    if not (finite(res.ci_low) and finite(inc.ci_low) and finite(diff.ci_low)):
        return "The runs needed to separate resolution from Inception structure are missing."
    text = (
        f"The plain full-resolution stem moves accuracy by {num(res.diff, sign=True)} "
        f"points ({CI} {interval(res.ci_low, res.ci_high, sign=True)}), the Inception "
        f"stem by {num(inc.diff, sign=True)} ({interval(inc.ci_low, inc.ci_high, sign=True)}), "
        f"and Inception over the plain stem at the same resolution by "
        f"{num(diff.diff, sign=True)} ({interval(diff.ci_low, diff.ci_high, sign=True)})."
    )
    if inc.ci_low > 0 or inc.ci_high < 0:
        share = 100 * res.diff / inc.diff
        return text + (
            f" Resolution alone accounts for about **{share:.0f} %** of the Inception "
            "stem's change over the baseline."
        )
    return text + (
        " The Inception stem's own change is not distinguishable from zero here, so "
        "there is no gain to split between resolution and Inception structure."
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
    return (
        f"Across the {len(sds)} arms with at least two seeds, the seed-to-seed sd of final "
        f"accuracy ranges from {num(sds[lo])} (`{lo}`) to {num(sds[hi])} (`{hi}`) "
        f"points, median {num(median_sd)}. With {n_seeds} seeds per arm and that median "
        f"sd, two arms must differ by about "
        f"{num(stats.detectable_difference(median_sd, n_seeds))} points before the "
        f"{CI} of their difference excludes zero."
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
