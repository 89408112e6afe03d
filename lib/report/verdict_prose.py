"""The paper's improvement claims in words: grouped by what the records say about each
(its difference, interval and the paper's value; a reproduced claim's fragility), the claims
table of page one, and the proxy's claims with its protocol defined where they stand."""

from __future__ import annotations

import pandas as pd

from lib.analysis import stats
from lib.report.claims import BASELINE, SHORT, claim_name, improvement_claims
from lib.report.formatting import code, interval, made_by, num, protocol_phrase, verdict_html
from lib.report.results import Results
from lib.report.verdicts import (
    BF16_ALONE,
    EXACT_CLAIM,
    Judgement,
    exact_claim_reading,
    primary_family,
)

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
    phrase = {
        EXACT_CLAIM: f"if the paper's {d} is taken as exact",
        BF16_ALONE: f"on the {BF16_ALONE}",
    }
    readings = [f"*{v}* {phrase.get(a, f'by the {a}')}" for a, v in j.changes]
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
            lead = f"{count if not sentences else upper_first(count)} " + (
                one if len(items) == 1 else several
            )
            sentences.append(f"**{lead}**: " + "; ".join(items) + ".")
    if missing := groups.get(stats.NO_DATA):
        count = _count(len(missing), len(family))
        sentences.append(f"{upper_first(count)} lack two seeds per arm.")
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


def upper_first(text: str) -> str:
    """'SELU instead of ReLU' stays so ('capitalize' would lower the rest)."""
    return text[:1].upper() + text[1:]


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
                "Claim": f"{upper_first(claim_name(arm, epochs))} (Table {table})",
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
        "Every arm, including those not yet run at the paper's protocol, was also run under "
        f"a cheaper {proxy.profile} proxy ({protocol_phrase(proxy)}; the paper's {SHORT}-epoch "
        f"cells read at our epoch {proxy.horizon(SHORT)}). Its absolute accuracies are not "
        "comparable with the paper's, and its verdicts are a proxy for the paper protocol's, "
        f"not a second answer. {claims_sentences(proxy, under=' under this proxy')}"
    )
