"""The tables of the paper's claims: its numbers beside ours, improvements, contrasts, spread."""

from __future__ import annotations

from collections import Counter

import pandas as pd

from lib import stats
from lib.ablations import ARMS
from lib.report.claims import (
    BASELINE,
    SHORT,
    TABLE_ARMS,
    accuracy_claims,
    improvement_claims,
    paper_accuracy,
    paper_diff,
    paper_epochs,
)
from lib.report.formatting import (
    CI,
    accuracy_verdict_text,
    code,
    epochs_label,
    finite,
    improvement_verdict_text,
    interval,
    mean_sd,
    num,
    p_value,
    verdict_html,
)
from lib.report.results import BEST, Results


def accuracy_row(results: Results, arm: str, paper_epochs: int, paper_value) -> dict:
    s = results.summary(arm, paper_epochs)
    b = results.summary(arm, paper_epochs, BEST)
    return {
        "Model": code(arm),
        "Epochs": epochs_label(results, paper_epochs),
        "Paper (%)": num(paper_value) if paper_value is not None else "—",
        "Ours, final epoch (mean ± sd)": mean_sd(s),
        CI: interval(s.ci_low, s.ci_high),
        "n": s.n,
        "Ours − paper": num(s.mean - paper_value, sign=True) if paper_value else "—",
        "Best epoch (optimistic, test-selected)": mean_sd(b),
        "Verdict": verdict_html(accuracy_verdict_text(results, s, paper_value))
        if paper_value is not None
        else "—",
    }


def paper_table(results: Results, table: int) -> pd.DataFrame:
    """The paper's table beside ours: baseline and treatment at each reported epoch count."""
    arm = TABLE_ARMS[table]
    return pd.DataFrame(
        [
            accuracy_row(results, name, epochs, paper_accuracy(name, epochs))
            for epochs in paper_epochs(arm)
            for name in (BASELINE, arm)
        ]
    )


def improvement_row(results: Results, arm: str, epochs: int, baseline: str = BASELINE) -> dict:
    c = results.compare(arm, baseline, epochs)
    cb = results.compare(arm, baseline, epochs, BEST)
    pd_ = paper_diff(arm, epochs, baseline) if epochs in ARMS[arm].paper_accuracy else None
    return {
        "Change": f"{code(arm)} − {code(baseline)}",
        "Epochs": epochs_label(results, epochs),
        "Paper (points)": num(pd_, sign=True) if pd_ is not None else "—",
        "Ours, final epoch": num(c.diff, sign=True),
        CI: interval(c.ci_low, c.ci_high, sign=True),
        "Welch p": p_value(c.p),
        "n": f"{c.n_treatment} vs {c.n_baseline}",
        "Best epoch (optimistic)": num(cb.diff, sign=True),
        "Verdict": verdict_html(improvement_verdict_text(results, c, pd_))
        if pd_ is not None
        else "—",
    }


def improvement_table(results: Results, table: int) -> pd.DataFrame:
    arm = TABLE_ARMS[table]
    return pd.DataFrame([improvement_row(results, arm, e) for e in paper_epochs(arm)])


def headline(results: Results) -> pd.DataFrame:
    """Every claim: the paper's number, ours, the difference, the verdict."""
    rows = []
    for table, arm, epochs, value in accuracy_claims():
        s = results.summary(arm, epochs)
        rows.append(
            {
                "Table": table,
                "Claim": f"accuracy of {code(arm)}, {epochs_label(results, epochs)} epochs",
                "Paper": f"{num(value)} %",
                "Ours (mean ± sd)": mean_sd(s),
                CI: interval(s.ci_low, s.ci_high),
                "n": s.n,
                "Ours − paper": num(s.mean - value, sign=True),
                "Best epoch (optimistic)": mean_sd(results.summary(arm, epochs, BEST)),
                "Verdict": verdict_html(accuracy_verdict_text(results, s, value)),
            }
        )
    for table, arm, epochs, d in improvement_claims():
        c = results.compare(arm, BASELINE, epochs)
        rows.append(
            {
                "Table": table,
                "Claim": f"improvement {code(arm)} − {code(BASELINE)}, "
                f"{epochs_label(results, epochs)} epochs",
                "Paper": f"{num(d, sign=True)} pts",
                "Ours (mean ± sd)": f"{num(c.diff, sign=True)} (Welch p {p_value(c.p)})",
                CI: interval(c.ci_low, c.ci_high, sign=True),
                "n": f"{c.n_treatment} vs {c.n_baseline}",
                "Ours − paper": num(c.diff - d, sign=True),
                "Best epoch (optimistic)": num(
                    results.compare(arm, BASELINE, epochs, BEST).diff, sign=True
                ),
                "Verdict": verdict_html(improvement_verdict_text(results, c, d)),
            }
        )
    return pd.DataFrame(rows)


def verdict_counts(results: Results) -> Counter:
    """How many improvement claims got each verdict (plain rule, no protocol suffix)."""
    return Counter(
        stats.improvement_verdict(results.compare(arm, BASELINE, epochs), d)
        for _, arm, epochs, d in improvement_claims()
    )


def progress_table(results: Results) -> pd.DataFrame:
    """Per arm with runs or a paper number: complete seeds of those planned, and the wall
    time of each run (one thread per run on the machine that ran it)."""
    c = results.completeness
    rows = []
    for arm in ARMS:
        runs = results.arm_runs(arm)
        if runs.empty and not ARMS[arm].paper_accuracy:
            continue
        hours = runs["wall_time_s"] / 3600
        rows.append(
            {
                "Arm": code(arm),
                "Seeds complete": f"{c['per_arm'][arm]} of {c['seeds']}",
                "Epochs": int(runs["epochs_run"].max()) if len(runs) else "—",
                "Hours per run (mean)": num(hours.mean()) if len(runs) else "—",
                "Seeds": ", ".join(str(s) for s in sorted(runs["seed"])) or "—",
            }
        )
    return pd.DataFrame(rows)


def spread_table(results: Results, arms: list[str] | None = None) -> pd.DataFrame:
    """Seed-to-seed spread of each arm's final accuracy at the paper's 10 epochs."""
    rows = []
    for arm in arms or list(ARMS):
        v = results.values(arm)
        s = stats.summarise(v)
        rows.append(
            {
                "Arm": code(arm),
                "n": s.n,
                "Mean (%)": num(s.mean),
                "sd": num(s.sd),
                "Range (max − min)": num(v.max() - v.min()) if len(v) > 1 else "n/a",
                f"{CI} half-width": num(s.half_width),
            }
        )
    return pd.DataFrame(rows)


def contrast_row(
    results: Results, arm: str, baseline: str, label: str, epochs: int = SHORT
) -> dict:
    """A comparison the paper does not make: our difference and whether its CI excludes 0."""
    c = results.compare(arm, baseline, epochs)
    if not (finite(c.ci_low) and finite(c.ci_high)):
        effect = stats.NO_DATA
    elif c.ci_low > 0:
        effect = "higher (CI above 0)"
    elif c.ci_high < 0:
        effect = "lower (CI below 0)"
    else:
        effect = "no clear difference (CI includes 0)"
    return {
        "Question": label,
        "Contrast": f"{code(arm)} − {code(baseline)}",
        "Difference (points)": num(c.diff, sign=True),
        CI: interval(c.ci_low, c.ci_high, sign=True),
        "Welch p": p_value(c.p),
        "n": f"{c.n_treatment} vs {c.n_baseline}",
        "Effect": effect,
    }


def contrast_table(results: Results, contrasts: list[tuple]) -> pd.DataFrame:
    """One ``contrast_row`` per (arm, baseline, label[, paper epochs])."""
    return pd.DataFrame([contrast_row(results, *contrast) for contrast in contrasts])
