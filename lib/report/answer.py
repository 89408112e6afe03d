"""Page one's answer in plain words: what holds, what does not, by how much, under which
protocol and on how many of the paper's seeds, every number and verdict from the records.

The paper's protocol is the one judged; a reduced profile's verdicts appear only after it,
as a proxy defined in the sentence that shows them.
"""

from __future__ import annotations

import pandas as pd

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
    improvement_claims,
)
from lib.report.formatting import (
    code,
    interval,
    made_by,
    num,
    protocol_phrase,
    verdict_html,
)
from lib.report.results import Results
from lib.report.verdicts import EXACT_CLAIM, Judgement, exact_claim_reading, primary_family

COMBINED = TABLE_ARMS[5]  # all four changes: the paper's question in one claim

# How the verdict words read in a sentence about one claim, grouped as the answer tells them.
HOLDS, LESS, MORE, FAILS, OTHER_WAY, OPEN = "holds", "less", "more", "fails", "opposite", "open"
GROUP = {
    stats.REPRODUCED: HOLDS,
    stats.SMALLER: LESS,
    stats.LARGER: MORE,
    stats.NOT_REPRODUCED: FAILS,
    stats.OPPOSITE: OTHER_WAY,
    stats.INCONCLUSIVE: OPEN,
}


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


def claim_clause(j: Judgement) -> str:
    """'learning-rate decay at 20 epochs, +0.56 points [+0.07, +1.05] against the paper's
    +0.61'."""
    c, d = j.comparison, j.assessment.claim
    return (
        f"{claim_name(j.arm, j.paper_epochs)}, {num(c.diff, sign=True)} points "
        f"{interval(c.ci_low, c.ci_high, sign=True)} against the paper's {num(d, sign=True)}"
    )


def fragility(j: Judgement) -> str:
    """' (fragile: *inconclusive* by the paired t-test by seed; *direction only (smaller than
    claimed)* if the paper's +2.92 is taken as exact)' for a claim that another reasonable
    analysis would not call so; '' for a robust one."""
    d = num(j.assessment.claim, sign=True)
    readings = [
        f"*{v}* if the paper's {d} is taken as exact" if a == EXACT_CLAIM else f"*{v}* by the {a}"
        for a, v in j.changes
    ]
    return f" (fragile: {'; '.join(readings)})" if readings else ""


def _direction_note(j: Judgement) -> str:
    """For an open claim: whether our estimate points the paper's way."""
    c, d = j.comparison, j.assessment.claim
    return ", an estimate that points the other way" if c.diff * d < 0 else ""


# Each group's sentence after its count ('two', 'all five'): one claim, several.
GROUP_LEADS = {
    HOLDS: ("is reproduced", "are reproduced"),
    LESS: ("helps, but less than claimed", "help, but less than claimed"),
    MORE: ("helps more than claimed", "help more than claimed"),
    FAILS: ("is not reproduced", "are not reproduced"),
    OTHER_WAY: ("goes the other way", "go the other way"),
    OPEN: ("cannot be decided with these seeds", "cannot be decided with these seeds"),
}


def claims_sentences(results: Results, under: str = "") -> str:
    """The improvement claims grouped by what the records say about them, one sentence
    per group: each claim's difference, interval and paper's value; a reproduced claim's
    fragility. ``under``: a phrase naming a protocol other than the paper's."""
    family = primary_family(results)
    groups: dict[str, list[Judgement]] = {}
    for j in family:
        groups.setdefault(GROUP.get(j.verdict, stats.NO_DATA), []).append(j)
    sentences = []
    for group, (one, several) in GROUP_LEADS.items():
        items = []
        for j in groups.get(group, []):
            item = claim_clause(j)
            if group == OPEN:
                item += _direction_note(j)
            items.append(item + (fragility(j) if group == HOLDS else ""))
        if items:
            count = _count(len(items), len(family))
            lead = f"{count if not sentences else _upper_first(count)} " + (
                one if len(items) == 1 else several
            )
            sentences.append(f"**{lead}**: " + "; ".join(items) + ".")
    if missing := groups.get(stats.NO_DATA):
        count = _count(len(missing), len(family))
        sentences.append(f"{_upper_first(count)} lack two seeds per arm.")
    intervals = (
        f"Brackets hold each difference's {INTERVAL_WORDS[family[0].alpha != stats.ALPHA]}."
        if family
        else ""
    )
    return (
        f"Of the paper's {NUMBERS[len(family)]} improvement claims{under}, "
        + " ".join(sentences)
        + f" {intervals}"
    ).strip()


# The interval in a reader's words: one claim's, or one of a family judged together.
INTERVAL_WORDS = {
    False: "95 % confidence interval",
    True: "95 % confidence interval, simultaneous for the five claims (wider than each alone)",
}


NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def _count(k: int, n: int) -> str:
    """'two', or 'all five' when ``k`` is all ``n``."""
    return f"all {NUMBERS.get(n, n)}" if k == n else NUMBERS.get(k, str(k))


def _upper_first(text: str) -> str:
    """'SELU instead of ReLU' stays so ('capitalize' would lower the rest)."""
    return text[:1].upper() + text[1:]


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


def answer(results: Results) -> str:
    """Page one's first paragraphs for the paper's protocol: the answer, then how it was
    measured and what each claim gives."""
    if results.empty:
        return (
            "No run at the paper's own protocol is complete yet, so no claim of the paper "
            "can be judged; the chapters show the reduced profile's records as a proxy."
        )
    return (
        f"{headline(results)} {gap_prose.absolute_sentence(results)}\n\n"
        f"We retrained every model of the paper's Tables 2–5 under its own protocol: "
        f"{protocol_sentence()}. So far we have {seeds_phrase(results)}. "
        f"{claims_sentences(results)}"
    )


@made_by
def claims_table(results: Results) -> pd.DataFrame:
    """One row per improvement claim: the paper's difference, ours with the interval its
    verdict reads, the verdict (both readings where the paper's number taken as exact
    changes it) and the seeds per arm."""
    rows = []
    for (table, arm, epochs, d), j in zip(improvement_claims(), primary_family(results),
                                          strict=True):  # fmt: skip
        c = j.comparison
        verdict = verdict_html(j.verdict)
        if exact := exact_claim_reading(j):
            verdict += f"<br><small>{verdict_html(exact)} if {num(d, sign=True)} is exact</small>"
        rows.append(
            {
                "Claim": f"{_upper_first(claim_name(arm, epochs))} (Table {table})",
                "Paper": num(d, sign=True),
                "Ours": f"{num(c.diff, sign=True)}<br>"
                f"<small>{interval(c.ci_low, c.ci_high, sign=True)}</small>",
                "Verdict": verdict,
                "Seeds": f"{c.n_treatment} vs {c.n_baseline}",
            }
        )
    return pd.DataFrame(rows).rename(columns={"Claim": f"Claim (vs {code(BASELINE)})"})


def proxy_summary(proxy: Results) -> str:
    """The reduced profile's verdicts, with the protocol defined in the same sentence."""
    if proxy.empty or not proxy.reduced:
        return "No reduced-protocol records exist."
    return (
        f"Every arm, including those the paper protocol's campaign has not reached, was also "
        f"run under a cheaper protocol, the `{proxy.profile}` profile "
        f"({protocol_phrase(proxy)}; the paper's {SHORT}-epoch cells read at our epoch "
        f"{proxy.horizon(SHORT)}). Its absolute accuracies are not comparable with the "
        f"paper's, and its verdicts are a proxy for the paper protocol's, not a second "
        f"answer. {claims_sentences(proxy, under=' under this proxy')}"
    )


def limitations(paper: Results, proxy: Results) -> str:
    """What limits the answer, as a Markdown list, numbers from the records."""
    precision = paper.runs.groupby("arm")["precision"].agg(lambda p: ", ".join(
        f"{k} ×{v}" for k, v in p.value_counts().items()))  # fmt: skip
    arms = [BASELINE, *TABLE_ARMS.values()]
    mixed = [f"`{a}` {precision[a]}" for a in arms if a in precision and "," in precision[a]]
    items = [
        f"**Seeds.** {_upper_first(seeds_phrase(paper))}; the paper averages {PAPER_RUNS}. "
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
    ]
    if not proxy.empty and proxy.reduced:
        items.append(
            f"**The proxy.** The `{proxy.profile}` profile ({protocol_phrase(proxy)}) distorts "
            "the comparisons in known ways (a learning-rate decay not rescaled to the shorter "
            "run, overfitting on fewer images); its verdicts are never the answer."
        )
    return "\n".join(f"- {item}" for item in items)
