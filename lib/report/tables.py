"""The tables of the paper's claims: its numbers beside ours, improvements, contrasts, spread."""

from __future__ import annotations

import html

import pandas as pd

from lib.analysis import stats
from lib.core.arms import ARMS, PAPER_RUNS
from lib.report.claims import (
    BASELINE,
    SHORT,
    TABLE_ARMS,
    accuracy_claims,
    paper_accuracy,
    paper_epochs,
)
from lib.report.formatting import (
    CI,
    accuracy_verdict_text,
    ci_label,
    code,
    epochs_label,
    finite,
    interval,
    leaves_open,
    made_by,
    mean_sd,
    num,
    p_value,
    power_note,
    verdict_html,
    verdict_text,
)
from lib.report.results import BEST, Results
from lib.report.verdicts import Judgement, claim_judgement, judge, primary_family

TABLE_OF = {arm: str(table) for table, arm in TABLE_ARMS.items()}


def accuracy_row(results: Results, arm: str, paper_epochs: int, paper_value) -> dict:
    s = results.summary(arm, paper_epochs)
    b = results.summary(arm, paper_epochs, BEST)
    return {
        "Model": code(arm),
        "Epochs": epochs_label(results, paper_epochs),
        "Paper": f"{num(paper_value)} %" if paper_value is not None else "—",
        "Ours, final epoch (mean ± sd)": mean_sd(s),
        CI: interval(s.ci_low, s.ci_high),
        "n": s.n,
        "Ours − paper ± margin": difference_with_margin(s, paper_value),
        "Best epoch (optimistic, test-selected)": mean_sd(b),
        "Verdict": verdict_html(accuracy_verdict_text(results, s, paper_value))
        if paper_value is not None
        else "—",
    }


def difference_with_margin(s: stats.Summary, paper_value) -> str:
    """Ours minus the paper's value ± how far apart two such means may lie (the interval
    ``stats.accuracy_verdict`` reads, with the noise of the paper's runs)."""
    if paper_value is None:
        return "—"
    text = num(s.mean - paper_value, sign=True)
    spread = stats.margin(s, PAPER_RUNS)
    return f"{text} ± {num(spread)}" if finite(spread) else text


@made_by
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


def verdict_cell(
    results: Results,
    verdict: str,
    assessment: stats.Assessment,
    unit: str = "points",
    digits: int = 2,
) -> str:
    """The verdict in colour; under one that leaves the question open, what n detects."""
    cell = verdict_html(verdict_text(results, verdict))
    if leaves_open(verdict):
        cell += f"<br><small>{html.escape(power_note(assessment, unit, digits))}</small>"
    return cell


def sensitivity_cell(verdict: str, changes: list[tuple[str, str]]) -> str:
    """'holds', or each sensitivity analysis that gives another verdict, with its verdict."""
    if verdict in (stats.NOT_APPLICABLE, stats.NO_DATA):
        return "—"
    if not changes:
        return "holds"
    return "changes: " + "; ".join(f"{name} → {verdict_html(v)}" for name, v in changes)


def primary_row(results: Results, j: Judgement) -> dict:
    c, d, a = j.comparison, j.assessment.claim, j.assessment.against
    return {
        "Table": TABLE_OF[j.arm],
        "Change": f"{code(j.arm)} − {code(j.baseline)}",
        "Epochs": epochs_label(results, j.paper_epochs),
        "Paper (points)": num(d, sign=True),
        "Ours, final epoch": num(c.diff, sign=True),
        ci_label(j.alpha): interval(c.ci_low, c.ci_high, sign=True),
        "Ours − paper, with its noise": interval(a.ci_low, a.ci_high, sign=True),
        "n": f"{c.n_treatment} vs {c.n_baseline}",
        "Welch p": p_value(c.p),
        "Bonferroni p (family of 5)": p_value(j.family_p),
        "Best epoch (optimistic)": num(
            results.compare(j.arm, j.baseline, j.paper_epochs, BEST).diff, sign=True
        ),
        "Verdict": verdict_cell(results, j.verdict, j.assessment),
        "Sensitivity": sensitivity_cell(j.verdict, j.changes),
    }


# The primary table's columns that fit a text column; the rest go to its detail table.
PRIMARY_MAIN = ["Table", "Change", "Epochs", "Paper (points)", "Ours, final epoch", "Verdict"]


@made_by
def primary_table(results: Results, table: int | None = None, detail: bool = False):
    """The primary family (the paper's improvements), or the rows of one paper table: the
    claim, ours with the interval its verdict reads, and the verdict; ``detail``: the same
    rows' tests, seeds, best-epoch reading and sensitivity analyses."""
    frame = pd.DataFrame(
        [
            primary_row(results, j)
            for j in primary_family(results)
            if table is None or TABLE_OF[j.arm] == str(table)
        ]
    )
    if frame.empty:
        return frame
    ci = next(c for c in frame.columns if c.endswith("CI"))
    frame["Ours, final epoch"] = (
        frame["Ours, final epoch"]
        + "<br><small>"
        + frame[ci]
        + ", n "
        + frame["n"]
        + ", Welch p "
        + frame["Welch p"]
        + "</small>"
    )
    if detail:
        return frame.drop(columns=[*PRIMARY_MAIN[2:], ci])
    return frame[PRIMARY_MAIN].rename(columns={"Ours, final epoch": f"Ours, final epoch ({ci})"})


@made_by
def accuracy_table(results: Results, compact: bool = False) -> pd.DataFrame:
    """Every accuracy the paper reports, ours beside it; ``compact`` keeps our mean ± sd,
    the gap and the verdict (page one)."""
    table = pd.DataFrame(
        [
            {"Table": table, **accuracy_row(results, arm, epochs, value)}
            for table, arm, epochs, value in accuracy_claims()
        ]
    )
    if compact:
        return table.drop(columns=[CI, "n", "Best epoch (optimistic, test-selected)"])
    return table


@made_by
def progress_table(results: Results) -> pd.DataFrame:
    """Per arm with runs or a paper number: complete seeds of those planned, and what a run
    took: its training wall time (beside whatever else ran on that machine) and its
    compute (``lib.core.records.core_seconds``: CPU time, else wall time x threads)."""
    c = results.completeness
    rows = []
    for arm in ARMS:
        runs = results.arm_runs(arm)
        if runs.empty and not ARMS[arm].paper_accuracy:
            continue
        wall, core = runs["wall_time_s"] / 3600, runs["core_seconds"].astype(float) / 3600
        rows.append(
            {
                "Arm": code(arm),
                "Seeds complete": f"{c['per_arm'][arm]} of {c['planned_per_arm'][arm]}"
                if c["planned_per_arm"][arm]
                else f"{c['per_arm'][arm]} (not planned)",
                "Epochs": int(runs["epochs_run"].max()) if len(runs) else "—",
                "Wall hours per run (mean)": num(wall.mean()) if len(runs) else "—",
                "Core-hours per run (mean)": num(core.mean()) if len(runs) else "—",
                "Seeds": ", ".join(str(s) for s in sorted(runs["seed"])) or "—",
            }
        )
    return pd.DataFrame(rows)


@made_by
def spread_table(results: Results, arms: list[str] | None = None) -> pd.DataFrame:
    """Seed-to-seed spread of each arm's final accuracy at the paper's 10 epochs, for the
    arms with runs."""
    rows = []
    for arm in arms or list(ARMS):
        v = results.values(arm)
        s = stats.summarise(v)
        if not s.n:
            continue
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
    """A comparison the paper does not make (exploratory): differs, or no clear difference.
    A row that is one of the paper's claims shows that claim's primary judgement instead,
    its simultaneous interval and verdict (one interval and verdict per claim on every page)."""
    claim = claim_judgement(results, arm, epochs, baseline)
    j = claim or judge(results, arm, baseline, epochs)
    c = j.comparison
    head = {
        "Question": label,
        "Contrast": f"{code(arm)} − {code(baseline)}<br>"
        f"<small>{epochs_label(results, epochs)} epochs</small>",
    }
    difference = f"Difference (points, {CI})"
    if min(c.n_treatment, c.n_baseline) == 1:  # an estimate without interval or verdict
        return head | {
            difference: f"{num(c.diff, sign=True)}<br><small>n {c.n_treatment} vs "
            f"{c.n_baseline}: no interval</small>",
            "Verdict (exploratory)": "none yet: one seed (partial)",
            "Sensitivity": "—",
        }
    which = f"<br><small>{ci_label(j.alpha)}</small>" if claim else ""
    return head | {
        difference: f"{num(c.diff, sign=True)} {interval(c.ci_low, c.ci_high, sign=True)}"
        f"{which}<br><small>n {c.n_treatment} vs {c.n_baseline}, Welch p {p_value(c.p)}</small>",
        "Verdict (exploratory)": primary_verdict_cell(results, claim)
        if claim
        else verdict_cell(results, j.verdict, j.assessment),
        "Sensitivity": "—" if claim else sensitivity_cell(j.verdict, j.changes),
    }


def primary_verdict_cell(results: Results, claim: Judgement) -> str:
    """A paper claim's primary verdict, marked as such."""
    return (
        f"{verdict_html(verdict_text(results, claim.verdict))}<br><small>the paper's Table "
        f"{TABLE_OF[claim.arm]} claim: its primary verdict</small>"
    )


@made_by
def contrast_table(results: Results, contrasts: list[tuple]) -> pd.DataFrame:
    """One ``contrast_row`` per (arm, baseline, label[, paper epochs])."""
    return pd.DataFrame([contrast_row(results, *contrast) for contrast in contrasts])


# --- which protocol a row is about --------------------------------------------------


def protocol_name(results: Results) -> str:
    """The paper's protocol with its runs done of planned, or a reduced profile, marked as
    a proxy."""
    if not results.reduced:
        c = results.completeness
        return f"paper's protocol ({c['done']}/{c['planned']} runs)"
    return f"{results.profile} profile (proxy)"
