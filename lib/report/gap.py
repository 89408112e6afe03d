"""The absolute gap: why every accuracy of ours is below the paper's, tested reading by
reading on the baseline at the paper's protocol.

The paper leaves augmentation, batch size, learning rate and the baseline's stem unstated.
Each reading of them is a baseline arm run for 20 epochs (its 10-epoch cell read from the
same runs); a reading explains the gap where its accuracies match the paper's baseline at
both lengths (``stats.accuracy_verdict``, the rule every absolute cell is judged by).
"""

from __future__ import annotations

import pandas as pd

from lib.analysis import stats
from lib.core.arms import PAPER_RUNS
from lib.report.claims import BASELINE, LONG, SHORT, accuracy_claims, paper_accuracy
from lib.report.formatting import CI, code, finite, interval, made_by, mean_sd, num
from lib.report.results import Results

# Baseline readings of what the paper leaves unstated, ours first.
GAP_READINGS = {
    BASELINE: "our default: 7×7/2 conv + max-pool stem, batch 128, no augmentation",
    "resnet34_augment": "augmentation: random crops of the 4-pixel zero-padded image + flips",
    "resnet34_batch32": "batch 32 (four times the Adam steps per epoch)",
    "resnet34_plainstem": "a 3×3/1 stem at full 28×28 resolution, common in code for 28×28 inputs",
}
PLANNED_SEEDS = 3  # per reading (the campaign's stage 3)


def absolute_gaps(results: Results) -> pd.DataFrame:
    """Every accuracy the paper reports beside ours: gap (points) and the match verdict."""
    rows = []
    for table, arm, epochs, value in accuracy_claims():
        s = results.summary(arm, epochs)
        rows.append(
            {
                "table": table,
                "arm": arm,
                "epochs": epochs,
                "paper": value,
                "ours": s.mean,
                "n": s.n,
                "gap": s.mean - value,
                "verdict": stats.accuracy_verdict(s, value, PAPER_RUNS),
            }
        )
    return pd.DataFrame(rows)


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


def _seeds_note(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}" + (
        f" (partial: {PLANNED_SEEDS} planned)" if n < PLANNED_SEEDS else ""
    )


def _precisions(results: Results, arm: str) -> str:
    counts = results.arm_runs(arm)["precision"].value_counts()
    return ", ".join(f"{p} ×{n}" for p, n in counts.items()) or "—"


def cell(results: Results, arm: str, epochs: int) -> dict:
    """One reading at one length against the paper's baseline: our mean, its interval, the
    gap with the margin both seed noises allow, and the match verdict."""
    paper = paper_accuracy(BASELINE, epochs)
    if not results.available(arm, epochs):
        return {"epochs": epochs, "available": False}
    s = results.summary(arm, epochs)
    return {
        "epochs": epochs,
        "available": True,
        "summary": s,
        "paper": paper,
        "gap": s.mean - paper,
        "margin": stats.margin(s, PAPER_RUNS),
        "verdict": stats.accuracy_verdict(s, paper, PAPER_RUNS),
    }


def gain(results: Results, arm: str) -> stats.Summary:
    """Each seed's accuracy gain from the paper's 10th to its 20th epoch, summarised."""
    if not results.available(arm, LONG):
        return stats.summarise([])
    late, early = results.values(arm, LONG), results.values(arm, SHORT)
    return stats.summarise((late - early.reindex(late.index)).dropna())


@made_by
def readings_gap_table(results: Results) -> pd.DataFrame:
    """Per reading: the baseline after 10 and 20 epochs against the paper's 93.12 and 94.21,
    each with its 95 % interval, the gap ± margin and the match verdict; the gain from
    epoch 10 to 20 against the paper's; seeds and precision."""
    paper_gain = paper_accuracy(BASELINE, LONG) - paper_accuracy(BASELINE, SHORT)
    rows = []
    for arm, label in GAP_READINGS.items():
        row = {"Reading": f"{code(arm)}<br><small>{label}</small>"}
        for epochs in (SHORT, LONG):
            c = cell(results, arm, epochs)
            head = f"{epochs} epochs (paper {num(paper_accuracy(BASELINE, epochs))} %)"
            if not c["available"]:
                row[head] = "not run (10 epochs only)"
                continue
            s = c["summary"]
            row[head] = (
                f"{mean_sd(s)} <small>{interval(s.ci_low, s.ci_high)}</small><br>"
                f"<small>{num(c['gap'], sign=True)} ± {num(c['margin'])}: {c['verdict']}</small>"
                if s.n
                else "no runs yet"
            )
        g = gain(results, arm)
        row[f"Gain 10 → 20 (paper {num(paper_gain, sign=True)})"] = (
            f"{num(g.mean, sign=True)} <small>{interval(g.ci_low, g.ci_high, sign=True)}</small>"
            if g.n
            else "—"
        )
        row["Seeds, precision"] = (
            f"{_seeds_note(results.summary(arm).n)}<br><small>{_precisions(results, arm)}</small>"
        )
        rows.append(row)
    return pd.DataFrame(rows)


def saturation(results: Results, arm: str) -> dict | None:
    """Where the arm's mean test loss is lowest and how far it rises by the last epoch, with
    the training loss at both (None without runs)."""
    losses = results.epoch_losses
    mean = losses[losses["arm"] == arm].groupby("epoch")[["train_loss", "test_loss"]].mean()
    if mean.empty:
        return None
    lowest, last = int(mean["test_loss"].idxmin()), int(mean.index.max())
    return {
        "lowest_epoch": lowest,
        "last_epoch": last,
        "lowest": float(mean.loc[lowest, "test_loss"]),
        "last": float(mean.loc[last, "test_loss"]),
        "train_at_lowest": float(mean.loc[lowest, "train_loss"]),
        "train_last": float(mean.loc[last, "train_loss"]),
    }


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


def closest_sentence(results: Results) -> str:
    """Which reading comes closest to the paper's baseline, and whether any reaches it."""
    scored = []
    for arm in GAP_READINGS:
        cells = [cell(results, arm, e) for e in (SHORT, LONG)]
        judged = [c for c in cells if c["available"] and c["summary"].n]
        if judged:
            worst = max(abs(c["gap"]) for c in judged)
            scored.append((worst, arm, judged))
    if not scored:
        return "No reading has runs yet."
    _, best, judged = min(scored)
    matched = [c for c in judged if c["verdict"] == stats.MATCHES]
    at = "; ".join(
        f"{num(c['summary'].mean)} % after {c['epochs']} epochs against {num(c['paper'])} % "
        + (
            f"({num(c['gap'], sign=True)} ± {num(c['margin'])}, {c['verdict']})"
            if c["summary"].n > 1
            else f"({num(c['gap'], sign=True)}; one seed so far, no interval)"
        )
        for c in judged
    )
    partial = min(c["summary"].n for c in judged) < PLANNED_SEEDS
    verdict = (
        "**it reaches the paper's baseline at every length it was run**"
        if len(matched) == len(judged) and len(judged) == 2
        else "**no reading reaches the paper's baseline at both lengths so far**"
    )
    return (
        f"The reading closest to the paper is `{best}` ({GAP_READINGS[best]}): {at}; "
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


def summary(results: Results) -> str:
    """Page one's paragraph on the absolute gap: how far, the shape of our curves, the
    closest reading, and where the chapter is."""
    if results.empty:
        return "No run at the paper's protocol is complete yet."
    return (
        f"{gain_sentence(results)} {saturation_sentence(results, [BASELINE])} "
        f"{closest_sentence(results)} The chapter {{doc}}`absolute_gap` tests the paper's "
        "unstated training details one by one and says what stays unexplained."
    )
