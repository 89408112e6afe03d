"""Page one's answer in plain words: what holds, what does not, by how much, under which
protocol and on how many of the paper's seeds, every number and verdict from the records.

The paper's protocol is the one judged; a reduced profile's verdicts appear only after it,
as a proxy defined in the sentence that shows them.
"""

from __future__ import annotations

from lib.analysis import stats
from lib.core.arms import PAPER_RUNS, PROFILES
from lib.core.config import RunConfig
from lib.report import gap, gap_prose
from lib.report.claims import (
    BASELINE,
    LONG,
    SHORT,
    TABLE_ARMS,
    claim_name,
)
from lib.report.formatting import (
    finite,
    interval,
    num,
    protocol_phrase,
)
from lib.report.results import Results, campaign_left
from lib.report.summary import core_hours, remaining_phrase
from lib.report.verdict_prose import (
    FAILS,
    GROUP,
    HOLDS,
    LESS,
    MORE,
    NUMBERS,
    OPEN,
    OTHER_WAY,
    claims_sentences,
    upper_first,
)
from lib.report.verdicts import primary_family

COMBINED = TABLE_ARMS[5]  # all four changes: the paper's question in one claim


def protocol_sentence() -> str:
    """The paper's protocol in a reader's words, from the profile and the config defaults."""
    spec, config = PROFILES["paper"], RunConfig()
    return (
        f"a full-width ResNet-34 trained with Adam (batch {config.batch_size}, learning rate "
        f"{config.lr:g}) on all {spec.train_subset:,} Fashion-MNIST training images for "
        f"{SHORT} epochs, {LONG} for Table 2, and tested on the 10,000 test images"
    )


def seeds_phrase(results: Results) -> str:
    """'3–7 of the paper's 10 seeds per arm so far (25 of 62 planned runs)'."""
    c = results.completeness
    arms = {BASELINE, *TABLE_ARMS.values()}
    counts = sorted(c["per_arm"][arm] for arm in arms)
    span = f"{counts[0]}" if counts[0] == counts[-1] else f"{counts[0]}–{counts[-1]}"
    return (
        f"{span} of the paper's {PAPER_RUNS} seeds per arm "
        f"({c['done']} of {c['planned']} planned runs complete)"
    )


def headline(results: Results) -> str:
    """'**Partly.** The four changes together raise test accuracy by +2.12 points [...]
    against the paper's +2.92.': the combined claim answers the paper's question, and
    the absolute accuracies (``gap_prose.absolute_sentence``, next) qualify it."""
    combined = next(j for j in primary_family(results) if j.arm == COMBINED)
    c, d = combined.comparison, combined.assessment.claim
    group = GROUP.get(combined.verdict, stats.NO_DATA)
    gaps = gap.absolute_gaps(results)
    all_match = (gaps.verdict == stats.MATCHES).all()
    word = {
        HOLDS: "Yes" if all_match else "Partly",
        LESS: "Partly",
        MORE: "Yes" if all_match else "Partly",
        FAILS: "No",
        OTHER_WAY: "No",
        OPEN: "Not yet decided",
    }.get(group, "Not yet decided")
    ci = interval(c.ci_low, c.ci_high, sign=True)
    if group in (HOLDS, LESS, MORE):
        what = f"raise test accuracy by {num(c.diff, sign=True)} points {ci}"
    elif group in (FAILS, OTHER_WAY):
        what = f"do not raise test accuracy as claimed: {num(c.diff, sign=True)} points {ci}"
    else:
        what = f"change test accuracy by {num(c.diff, sign=True)} points {ci}, too uncertain to say"
    return (
        f"**{word}.** In our runs the paper's four changes together {what} against the "
        f"paper's {num(d, sign=True)}."
    )


def baseline_caution(results: Results) -> str:
    """Against the reading of the baseline closest to the paper's accuracy, where it is not
    our default: what all four changes together and the Inception stem gain over it (the
    size of both claims depends on which baseline the paper ran)."""
    found = gap_prose.closest_reading(results)
    if found is None or found[0] == BASELINE:
        return ""
    closest = found[0]
    parts = []
    for arm in (COMBINED, TABLE_ARMS[4]):
        c = results.compare(arm, closest)
        if finite(c.diff):
            ci = f" {interval(c.ci_low, c.ci_high, sign=True)}" if finite(c.ci_low) else ""
            verb = " by" if parts else " move accuracy by"
            parts.append(f"{claim_name(arm, SHORT)}{verb} {num(c.diff, sign=True)} points{ci}")
    if not parts:
        return ""
    n = results.summary(closest).n
    return (
        f"**A caution.** The reading of the paper's baseline closest to its accuracy is "
        f"{gap.GAP_READINGS[closest]} ({{doc}}`absolute_gap`). Measured against it instead of "
        f"our default, {' and '.join(parts)}"
        + (f" ({_count_seeds(n)} of that baseline so far: a hint, not a finding)" if n < 3 else "")
        + "."
    )


def _count_seeds(n: int) -> str:
    return f"{NUMBERS.get(n, n)} seed{'s' if n != 1 else ''}"


def answer(results: Results) -> str:
    """Page one's first paragraphs for the paper's protocol: the answer, then how it was
    measured and what each claim gives."""
    if results.empty:
        return (
            "No run at the paper's own protocol is complete yet, so no claim of the paper "
            "can be judged; the chapters show our cheaper proxy's records instead."
        )
    return (
        f"{headline(results)} {gap_prose.absolute_sentence(results)}\n\n"
        f"We retrained every model of the paper's Tables 2–5 under its own protocol: "
        f"{protocol_sentence()}. So far we have {seeds_phrase(results)}. "
        f"{claims_sentences(results)}"
        + (f"\n\n{caution}" if (caution := baseline_caution(results)) else "")
    )


def limitations(paper: Results, proxy: Results) -> str:
    """What limits the answer, as a Markdown list, numbers from the records."""
    precision = paper.runs.groupby("arm")["precision"].agg(lambda p: ", ".join(
        f"{k} ×{v}" for k, v in p.value_counts().items()))  # fmt: skip
    arms = [BASELINE, *TABLE_ARMS.values()]
    mixed = [f"`{a}` {precision[a]}" for a in arms if a in precision and "," in precision[a]]
    items = [
        f"**Seeds.** {upper_first(seeds_phrase(paper))}; the paper averages {PAPER_RUNS}. "
        "A claim that cannot be decided may be decided by the remaining seeds; what each "
        "claim's seeds can detect is on its table's chapter.",
        "**Precision.** Runs train in bf16 autocast where the CPU computes bf16 natively and in "
        "fp32 elsewhere; the paper's GPU (a GTX 1060) trained in fp32. "
        + (
            "Arms that mix the two: " + "; ".join(mixed) + "."
            if mixed
            else "No arm of the paper's claims mixes the two."
        ),
        "**Unstated details.** The paper gives no augmentation, batch size, learning rate, "
        "initialisation, normalisation, LR-schedule form or baseline stem for 28×28 inputs; "
        "our choice for each is listed in {doc}`reading`, and the ones that could move the "
        "absolute accuracies are tested in {doc}`absolute_gap`.",
        "**One dataset split, the test set only.** Like the paper, we report test accuracy "
        "after the last epoch, with no validation split held out; the best epoch, selected on "
        "the test set, is reported only as an optimistic reading and never judged.",
        f"**Compute.** The {len(paper.runs)} runs at the paper's protocol so far took "
        f"{num(core_hours(paper.runs).sum())} core-hours on CPUs ({{doc}}`reproducibility`); "
        f"the plan has {remaining_phrase(campaign_left(paper.folder))}.",
    ]
    if not proxy.empty and proxy.reduced:
        items.append(
            f"**The proxy.** Our cheaper {proxy.profile} proxy ({protocol_phrase(proxy)}) distorts "
            "the comparisons in known ways (a learning-rate decay not rescaled to the shorter "
            "run, overfitting on fewer images); its verdicts are never the answer."
        )
    return "\n".join(f"- {item}" for item in items)
