"""The absolute gap in words: the chapter's answer first (is the gap explained, by which
reading, what the records already rule out), then the sentences behind it. The numbers are
``lib.report.gap``'s."""

from __future__ import annotations

import pandas as pd

from lib.analysis import stats
from lib.core.arms import PAPER_RUNS, run_config
from lib.report.claims import BASELINE, CHANGE_NAMES, LONG, SHORT, paper_accuracy
from lib.report.formatting import CI, code, finite, interval, num
from lib.report.gap import (
    GAP_READINGS,
    PLANNED_SEEDS,
    absolute_gaps,
    cell,
    gain,
    saturation,
)
from lib.report.results import BEST, Results


def absolute_sentence(results: Results) -> str:
    """How far our absolute accuracies are from the paper's, in one sentence."""
    gaps = absolute_gaps(results)
    judged = gaps[gaps.verdict != stats.NO_DATA]
    if judged.empty:
        return "No accuracy the paper reports has two seeds of ours to compare with yet."
    matched = judged[judged.verdict == stats.MATCHES]
    lower = judged[(judged.verdict == stats.MISMATCH) & (judged.gap < 0)]
    higher = judged[(judged.verdict == stats.MISMATCH) & (judged.gap > 0)]
    combined = gaps[(gaps.arm == "improved") & (gaps.epochs == SHORT)].iloc[0]
    example = (
        f" (all four changes together: {num(combined.ours)} % against the paper's "
        f"{num(combined.paper)} %)"
        if combined.n
        else ""
    )
    if len(lower) == len(judged):
        return (
            f"**None of the {len(judged)} accuracies the paper reports is reached: ours are "
            f"{_span(-lower.gap)} points lower**{example}."
        )
    parts = [f"{len(matched)} of the {len(judged)} accuracies the paper reports match ours"]
    if len(lower):
        parts.append(f"{len(lower)} of ours are lower, by {_span(-lower.gap)} points")
    if len(higher):
        parts.append(f"{len(higher)} are higher, by {_span(higher.gap)} points")
    return "**" + "; ".join(parts) + f"**{example}."


def _span(values: pd.Series) -> str:
    low, high = num(values.min()), num(values.max())
    return low if low == high else f"{low}–{high}"


def saturation_sentence(results: Results, arms: list[str]) -> str:
    """How each arm's test loss bottoms out and rises while its training loss keeps falling."""
    parts = []
    for arm in arms:
        s = saturation(results, arm)
        if s is None:
            continue
        if s["lowest_epoch"] == s["last_epoch"]:
            parts.append(f"`{arm}`'s test loss is still falling at epoch {s['last_epoch']}")
            continue
        parts.append(
            f"`{arm}`'s test loss is lowest after epoch {s['lowest_epoch']} "
            f"({num(s['lowest'], 3)}) and rises to {num(s['last'], 3)} by epoch "
            f"{s['last_epoch']} while its training loss falls from {num(s['train_at_lowest'], 3)} "
            f"to {num(s['train_last'], 4)}"
        )
    if not parts:
        return "No run has loss curves yet."
    text = "Averaged over seeds, " + "; ".join(parts) + "."
    overfit = [a for a in arms if (s := saturation(results, a)) and s["last"] > s["lowest"]]
    if len(overfit) == 1:
        text += " It fits its training images ever more closely while its test loss grows: "
        text += "the mark of overfitting."
    elif overfit:
        text += (
            f" {'Both' if len(overfit) == 2 else f'All {len(overfit)}'} fit their training "
            "images ever more closely while their test loss grows: the mark of overfitting."
        )
    return text


def gain_sentence(results: Results) -> str:
    """The paper's baseline and decay arm gain from epoch 10 to 20; ours, and whether each
    of our intervals lies below the paper's gain."""
    parts, below = [], []
    for arm in (BASELINE, "resnet34_lr"):
        paper_gain = paper_accuracy(arm, LONG) - paper_accuracy(arm, SHORT)
        g = gain(results, arm)
        if not g.n:
            continue
        parts.append(
            f"`{arm}` {num(paper_gain, sign=True)} points in the paper, ours "
            f"{num(g.mean, sign=True)} ({CI} {interval(g.ci_low, g.ci_high, sign=True)}, "
            f"{g.n} seeds)"
        )
        below.append(finite(g.ci_high) and g.ci_high < paper_gain)
    if not parts:
        return f"No run has reached epoch {LONG} yet."
    lead = (
        "the paper's models gain more than ours (each interval of our gain lies below the "
        "paper's gain)"
        if all(below)
        else "the gains compare as follows"
    )
    return f"From epoch {SHORT} to {LONG}, {lead}: " + "; ".join(parts) + "."


def closest_reading(results: Results) -> tuple[str, list[dict]] | None:
    """The reading whose worst cell is nearest the paper's baseline, with its cells that have
    runs (``gap.cell``); None before any reading has runs."""
    scored = []
    for arm in GAP_READINGS:
        cells = [cell(results, arm, e) for e in (SHORT, LONG)]
        judged = [c for c in cells if c["available"] and c["summary"].n]
        if judged:
            scored.append((max(abs(c["gap"]) for c in judged), arm, judged))
    return min(scored)[1:] if scored else None


def status(results: Results) -> str:
    """explained (a reading matches at both lengths) | close (the closest reading's cells lie
    within the margin our seeds allow, measured on one seed or one length) | open."""
    found = closest_reading(results)
    if found is None:
        return "open"
    _, judged = found
    if len(judged) == 2 and all(c["verdict"] == stats.MATCHES for c in judged):
        return "explained"
    return "close" if all(abs(c["gap"]) <= c["margin"] for c in judged) else "open"


def closest_sentence(results: Results) -> str:
    """Which reading comes closest to the paper's baseline, and whether any reaches it."""
    found = closest_reading(results)
    if found is None:
        return "No reading has runs yet."
    best, judged = found
    at = "; ".join(
        f"{num(c['summary'].mean)} % after {c['epochs']} epochs against {num(c['paper'])} % "
        + (
            f"({num(c['gap'], sign=True)} ± {num(c['margin'])}, {c['verdict']})"
            if c["summary"].n > 1
            else f"({num(c['gap'], sign=True)} on one seed, "
            f"{'within' if abs(c['gap']) <= c['margin'] else 'beyond'} the ± {num(c['margin'])} "
            "that one run spread as our default's seeds allows)"
            if c["borrowed"]
            else f"({num(c['gap'], sign=True)} on one seed, no margin)"
        )
        for c in judged
    )
    partial = min(c["summary"].n for c in judged) < PLANNED_SEEDS
    lengths = {c["epochs"] for c in judged}
    verdict = {
        "explained": "it reaches the paper's baseline at both lengths",
        "close": "the nearest any reading has come, but not yet a finding"
        + ("" if LONG in lengths else f": it has not been run for {LONG} epochs"),
        "open": "no reading tested reaches the paper's baseline at both lengths so far",
    }[status(results)]
    return (
        f"The reading closest to the paper is {GAP_READINGS[best]} ({code(best)}): {at}; "
        f"{verdict}" + (" (partial: fewer seeds than planned)" if partial else "") + "."
    )


def upsampled_cost(results: Results) -> str:
    """What torchvision's ResNet-34 on 224×224 inputs would cost: 64 times the pixels of a
    28×28 image, so about 64 times the baseline's measured compute per run."""
    runs = results.arm_runs(BASELINE)
    hours = runs["core_seconds"].dropna() / 3600 if "core_seconds" in runs else pd.Series()
    if hours.empty or not finite(float(hours.median())):
        return "No baseline run has a measured cost yet."
    median = float(hours.median())
    return (
        f"Not run: torchvision's ResNet-34 on inputs upsampled to 224×224, the usual way "
        f"ImageNet code meets small images, has (224/28)² = 64 times the baseline's "
        f"activations per image. Our baseline's {LONG}-epoch runs took a median "
        f"{num(median)} core-hours on the CPUs of these records, so one such run would take "
        f"about {num(64 * median, 0)} core-hours there, and the paper's five arms at "
        f"{PAPER_RUNS} seeds some {num(5 * PAPER_RUNS * 64 * median / 1000, 1)} thousand: a "
        "reading for a GPU."
    )


def full_resolution_sentence(results: Results) -> str:
    """Whether the arms that keep the whole 28×28 image are as far below the paper: if so,
    the 7×7/2 stem's loss of resolution cannot be all of the gap."""
    gaps = absolute_gaps(results)
    full = gaps[gaps.arm.map(_keeps_resolution) & (gaps.verdict == stats.MISMATCH)]
    if full.empty:
        return ""
    cells = "; ".join(
        f"{CHANGE_NAMES.get(row.arm, row.arm)} {num(row.ours)} % against {num(row.paper)} %"
        for row in full.itertuples()
    )
    return (
        f"Resolution cannot be all of it: our runs of the paper's arms that keep the whole "
        f"28×28 image are {_span(-full.gap)} points below the paper's too ({cells})."
    )


def _keeps_resolution(arm: str) -> bool:
    config = run_config(arm, "paper", 0)
    return config.stem in ("inception", "plain") and config.stem_stride == 1


def best_epoch_sentence(results: Results) -> str:
    """The baseline's best epoch (picked on the test set) against the paper's final one:
    if even that is lower, the choice of epoch is not the gap."""
    best = results.summary(BASELINE, SHORT, BEST)
    if not best.n:
        return ""
    return (
        f"Nor is it the choice of epoch: the baseline's best epoch of its first {SHORT}, picked "
        f"on the test set, averages {num(best.mean)} % against the paper's "
        f"{num(paper_accuracy(BASELINE, SHORT))} % after epoch {SHORT}."
    )


def answer(results: Results) -> str:
    """The chapter's answer, first: whether a reading explains the gap, the closest one, and
    what the records already rule out."""
    if results.empty:
        return "No run at the paper's protocol is complete yet."
    lead = {
        "explained": "**Explained.**",
        "close": "**Not explained yet, but one reading comes close.**",
        "open": "**Not explained so far.**",
    }[status(results)]
    return " ".join(
        part
        for part in (
            lead,
            closest_sentence(results),
            full_resolution_sentence(results),
            best_epoch_sentence(results),
        )
        if part
    )


def summary(results: Results) -> str:
    """Page one's paragraph on the absolute gap: the chapter's answer, the shape of our
    curves, and where the chapter is."""
    if results.empty:
        return "No run at the paper's protocol is complete yet."
    return (
        f"{answer(results)} {gain_sentence(results)} {saturation_sentence(results, [BASELINE])} "
        "The chapter {doc}`absolute_gap` tests the paper's unstated training details one by "
        "one and says what stays unexplained."
    )
