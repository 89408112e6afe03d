"""What the book's chapters share: load the results once, compare arms, format, plot, glue.

Every chapter starts with ``results = book.load()``: the profile chosen by
``lib.stats.pick_profile`` (``$BOOK_PROFILE``, else paper > cpu > smoke), the records of
``lib.results.load_results`` and the protocol that maps the paper's epoch counts onto
ours. Tables and sentences are built here from ``lib.ablations`` (the paper's numbers,
kept there only) and ``lib.stats`` (CIs, Welch tests, verdicts), so no chapter types a
number and all chapters word things the same way.
"""

from __future__ import annotations

import html
import math
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from lib import stats
from lib.ablations import ARMS, PROFILES, Profile
from lib.config import RunConfig
from lib.results import complete, load_results

BASELINE = "resnet34"
# The paper's tables and the arm each one adds to the baseline.
TABLE_ARMS = {2: "resnet34_lr", 3: "resnet34_selu", 4: "resnet34_inception", 5: "improved"}
SHORT, LONG = sorted(ARMS[BASELINE].paper_accuracy)  # the paper's 10 and 20 epochs
FINAL, BEST = "final", "best"
DPI = 80
CI = f"{100 * stats.CONFIDENCE:.0f} % CI"
VERDICT_COLOURS = {
    stats.REPRODUCED: "#1a7f37",
    stats.MATCHES: "#1a7f37",
    stats.NOT_REPRODUCED: "#cf222e",
    stats.CONTRADICTED: "#cf222e",
    stats.DIFFERS: "#9a6700",
    stats.INCONCLUSIVE: "#6e7781",
    stats.NO_DATA: "#6e7781",
}


# --- loading ----------------------------------------------------------------------------


@dataclass
class Results:
    """One profile's records and how its epochs map onto the paper's."""

    profile: str | None  # None: no results anywhere
    folder: Path
    frame: pd.DataFrame  # every record, any status (lib.results.load_results)

    @cached_property
    def runs(self) -> pd.DataFrame:
        return complete(self.frame)

    @property
    def spec(self) -> Profile | None:
        return PROFILES.get(self.profile) if self.profile else None

    @property
    def empty(self) -> bool:
        return self.runs.empty

    @property
    def reduced(self) -> bool:
        """True unless the results follow the paper's protocol."""
        return self.profile != "paper"

    def horizon(self, paper_epochs: int = SHORT) -> int:
        """Our epoch that stands for the paper's ``paper_epochs`` (10 -> E, 20 -> 2E)."""
        epochs = self.spec.epochs if self.spec else SHORT
        return paper_epochs * epochs // SHORT

    def available(self, arm: str, paper_epochs: int = SHORT) -> bool:
        return paper_epochs == SHORT or ARMS[arm].long_horizon

    def arm_runs(self, arm: str) -> pd.DataFrame:
        return self.runs[self.runs["arm"] == arm]

    def values(self, arm: str, paper_epochs: int = SHORT, reading: str = FINAL) -> np.ndarray:
        """Per-seed test accuracy (%) at the paper's ``paper_epochs``.

        ``final``: the accuracy after that epoch (the primary number); ``best``: the best
        epoch up to it (optimistic: selected on the test set).
        """
        if not self.available(arm, paper_epochs):
            return np.array([])
        h = self.horizon(paper_epochs)
        accs = [a[:h] for a in self.arm_runs(arm)["test_accuracy"] if len(a) >= h]
        pick = (lambda a: a[-1]) if reading == FINAL else max
        return np.array([pick(a) for a in accs], dtype=float)

    def summary(self, arm: str, paper_epochs: int = SHORT, reading: str = FINAL):
        return stats.summarise(self.values(arm, paper_epochs, reading))

    def compare(
        self,
        arm: str,
        baseline: str = BASELINE,
        paper_epochs: int = SHORT,
        reading: str = FINAL,
        baseline_epochs: int | None = None,
    ) -> stats.Comparison:
        return stats.welch(
            self.values(arm, paper_epochs, reading),
            self.values(baseline, baseline_epochs or paper_epochs, reading),
        )

    def seeds_of(self, arm: str) -> list[int]:
        return sorted(int(s) for s in self.arm_runs(arm)["seed"])

    # --- completeness ---------------------------------------------------------------------

    @cached_property
    def completeness(self) -> dict:
        seeds = self.spec.seeds if self.spec else ()
        planned = {(arm, seed) for arm in ARMS for seed in seeds}
        done = {(a, int(s)) for a, s in zip(self.runs["arm"], self.runs["seed"], strict=True)}
        counts = self.frame["status"].value_counts()
        per_arm = {arm: len([1 for a, _ in done & planned if a == arm]) for arm in ARMS}
        return {
            "planned": len(planned),
            "done": len(done & planned),
            "extra": len(done - planned),
            "failed": int(counts.get("failed", 0)),
            "stale": int(counts.get("stale", 0)),
            "malformed": int(counts.get("malformed", 0)),
            "seeds": len(seeds),
            "per_arm": per_arm,
            "missing_arms": [a for a, n in per_arm.items() if n == 0],
            "partial_arms": [a for a, n in per_arm.items() if 0 < n < len(seeds)],
        }


def load(profile: str | None = None, folder: Path | None = None) -> Results:
    """The results the book shows (see ``lib.stats.pick_profile`` / ``results_dir``)."""
    folder = Path(folder) if folder is not None else stats.results_dir()
    if profile is None:
        profile = stats.pick_profile(folder)
    frame = load_results(profile, folder) if profile else load_results("none", folder)
    return Results(profile, folder, frame)


# --- formatting -------------------------------------------------------------------------


def finite(x) -> bool:
    return x is not None and isinstance(x, int | float | np.floating) and math.isfinite(x)


def num(x, digits: int = 2, sign: bool = False) -> str:
    if not finite(x):
        return "n/a"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def mean_sd(s: stats.Summary, digits: int = 2) -> str:
    if s.n == 0:
        return "no runs"
    if s.n == 1:
        return f"{num(s.mean, digits)} (one seed)"
    return f"{num(s.mean, digits)} ± {num(s.sd, digits)}"


def interval(low, high, digits: int = 2, sign: bool = False) -> str:
    if not (finite(low) and finite(high)):
        return "n/a"
    return f"[{num(low, digits, sign)}, {num(high, digits, sign)}]"


def p_value(p) -> str:
    if not finite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def verdict_html(verdict: str) -> str:
    colour = VERDICT_COLOURS.get(verdict.split(" (")[0], "#6e7781")
    return f'<span style="color:{colour};font-weight:600">{html.escape(verdict)}</span>'


def code(name: str) -> str:
    return f"<code>{html.escape(name)}</code>"


def table_html(frame: pd.DataFrame) -> str:
    """A DataFrame as a plain HTML table (cells may hold HTML)."""
    return frame.to_html(index=False, escape=False, border=0, classes="table repl-table")


def epochs_label(results: Results, paper_epochs: int) -> str:
    """'10 (ours 5)' when the profile shortens the protocol, else '10'."""
    ours = results.horizon(paper_epochs)
    return str(paper_epochs) if ours == paper_epochs else f"{paper_epochs} (ours {ours})"


def protocol_phrase(results: Results) -> str:
    """How our protocol differs from the paper's, computed from the profile."""
    spec = results.spec
    if spec is None:
        return "no protocol (no results)"
    paper = PROFILES["paper"]
    parts = []
    if spec.width != paper.width:
        parts.append(f"width {spec.width:g}× of ResNet-34's channels")
    if spec.train_subset != paper.train_subset:
        parts.append(f"{spec.train_subset:,} of {paper.train_subset:,} training images")
    if spec.epochs != paper.epochs:
        parts.append(f"{spec.epochs} instead of {paper.epochs} epochs")
    if len(spec.seeds) != len(paper.seeds):
        parts.append(f"{len(spec.seeds)} instead of {len(paper.seeds)} seeds")
    return ", ".join(parts) if parts else "the paper's protocol"


def accuracy_verdict_text(results: Results, s: stats.Summary, paper_value: float) -> str:
    verdict = stats.accuracy_verdict(s, paper_value)
    if results.reduced and verdict != stats.NO_DATA:
        return f"not comparable ({results.profile} protocol)"
    return verdict


def improvement_verdict_text(results: Results, c: stats.Comparison, paper_diff: float) -> str:
    verdict = stats.improvement_verdict(c, paper_diff)
    if results.reduced and verdict != stats.NO_DATA:
        return f"{verdict} ({results.profile} protocol)"
    return verdict


# --- banners ----------------------------------------------------------------------------


def banner(results: Results) -> str:
    """MyST admonition: which profile is shown and how complete it is."""
    if results.profile is None or results.frame.empty:
        where = results.folder
        name = results.profile or "any profile"
        return (
            ":::{admonition} No results to show\n:class: warning\n"
            f"There are no run records for {name} under `{where}`, so every chapter "
            "below shows the paper's numbers and empty places for ours. Produce records "
            "with `make runs PROFILE=cpu` (or `python -m lib runs --profile cpu`) and "
            "rebuild with `make book`.\n:::\n"
        )
    c = results.completeness
    spec = results.spec
    kind = "note" if c["done"] == c["planned"] and not c["failed"] else "important"
    lines = [
        f":::{{admonition}} Results shown: the {results.profile} profile\n:class: {kind}",
        f"{spec.description}. Compared with the paper: {protocol_phrase(results)}.",
        "",
        f"**{c['done']} of {c['planned']} planned runs complete** "
        f"({len(ARMS)} arms × {c['seeds']} seeds); {c['failed']} failed, "
        f"{c['stale']} stale, {c['malformed']} malformed.",
    ]
    if c["missing_arms"]:
        lines += ["", "Arms with no results yet: " + ", ".join(f"`{a}`" for a in c["missing_arms"])]
    if c["partial_arms"]:
        part = ", ".join(f"`{a}` ({c['per_arm'][a]}/{c['seeds']})" for a in c["partial_arms"])
        lines += ["", f"Arms with fewer seeds than planned: {part}."]
    how = (
        "chosen with `PROFILE`/`BOOK_PROFILE`"
        if os.environ.get("BOOK_PROFILE", "").strip()
        else "chosen automatically: " + " > ".join(stats.PROFILE_PREFERENCE) + ", the first "
        "with records"
    )
    others = [p for p in stats.available_profiles(results.folder) if p != results.profile]
    lines += [
        "",
        f"Profile {how}. "
        + (f"Also available: {', '.join(f'`{p}`' for p in others)}. " if others else "")
        + "Another profile: `make book PROFILE=<name>`.",
    ]
    lines.append(":::")
    return "\n".join(lines) + "\n"


def short_banner(results: Results) -> str:
    if results.profile is None or results.frame.empty:
        return ":::{warning}\nNo results yet: this chapter shows the paper's numbers only.\n:::\n"
    c = results.completeness
    return (
        f":::{{note}}\nResults of the `{results.profile}` profile ({protocol_phrase(results)}): "
        f"{c['done']} of {c['planned']} planned runs complete, {c['failed']} failed.\n:::\n"
    )


def missing_note(results: Results, arms: list[str]) -> str:
    """A sentence naming which of ``arms`` lack results (empty when all are complete)."""
    if results.spec is None:
        return "No results exist yet for any arm of this chapter."
    seeds = len(results.spec.seeds)
    per_arm = results.completeness["per_arm"]
    missing = [a for a in arms if per_arm.get(a, 0) == 0]
    partial = [a for a in arms if 0 < per_arm.get(a, 0) < seeds]
    parts = []
    if missing:
        parts.append("no results yet for " + ", ".join(f"`{a}`" for a in missing))
    if partial:
        parts.append(
            "fewer seeds than planned for "
            + ", ".join(f"`{a}` ({per_arm[a]}/{seeds})" for a in partial)
        )
    if not parts:
        return f"All {len(arms)} arms of this chapter have all {seeds} seeds."
    return "Missing: " + "; ".join(parts) + ". Cells without data say *no runs* / *n/a*."


# --- tables -----------------------------------------------------------------------------


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
    rows = []
    for epochs in sorted(ARMS[arm].paper_accuracy):
        for name in (BASELINE, arm):
            rows.append(accuracy_row(results, name, epochs, ARMS[name].paper_accuracy[epochs]))
    return pd.DataFrame(rows)


def paper_diff(arm: str, epochs: int, baseline: str = BASELINE) -> float:
    return ARMS[arm].paper_accuracy[epochs] - ARMS[baseline].paper_accuracy[epochs]


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
    return pd.DataFrame(
        [improvement_row(results, arm, e) for e in sorted(ARMS[arm].paper_accuracy)]
    )


def claims() -> list[tuple[str, str, int, float]]:
    """Every number the paper reports: (table, arm, epochs, accuracy), from lib.ablations."""
    out = [("2–5", BASELINE, e, v) for e, v in sorted(ARMS[BASELINE].paper_accuracy.items())]
    for table, arm in TABLE_ARMS.items():
        out += [(str(table), arm, e, v) for e, v in sorted(ARMS[arm].paper_accuracy.items())]
    return out


def headline(results: Results) -> pd.DataFrame:
    """Every claim: the paper's number, ours, the difference, the verdict."""
    rows = []
    for table, arm, epochs, value in claims():
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
    for table, arm in TABLE_ARMS.items():
        for epochs in sorted(ARMS[arm].paper_accuracy):
            c = results.compare(arm, BASELINE, epochs)
            d = paper_diff(arm, epochs)
            rows.append(
                {
                    "Table": str(table),
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


def verdict_counts(results: Results) -> dict:
    """How many improvement claims got each verdict (plain rule, no protocol suffix)."""
    counts: dict[str, int] = {}
    for arm in TABLE_ARMS.values():
        for epochs in sorted(ARMS[arm].paper_accuracy):
            v = stats.improvement_verdict(
                results.compare(arm, BASELINE, epochs), paper_diff(arm, epochs)
            )
            counts[v] = counts.get(v, 0) + 1
    return counts


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


# --- convergence (Figs 4-6) ---------------------------------------------------------------


def _loss_runs(results: Results, arm: str, epochs: int) -> list[np.ndarray]:
    """Per-seed per-iteration training losses over the first ``epochs`` epochs."""
    out = []
    for _, row in results.arm_runs(arm).iterrows():
        losses = np.asarray(row["iteration_losses"], dtype=float)
        if row["epochs_run"] < epochs or not len(losses):
            continue
        per_epoch = len(losses) // row["epochs_run"]
        out.append(losses[: per_epoch * epochs])
    return out


def iterations_per_epoch(results: Results) -> int:
    for _, row in results.runs.iterrows():
        if row["epochs_run"] and len(row["iteration_losses"]):
            return len(row["iteration_losses"]) // row["epochs_run"]
    return 0


def convergence(results: Results, arm: str, baseline: str, epochs: int) -> dict:
    """Measured "faster / smoother convergence" of ``arm`` over ``baseline``.

    Over the first ``epochs`` epochs: iterations until the smoothed loss (window: a fifth
    of an epoch) first reaches a level every run of both arms reaches; the mean training
    loss (area under the curve, lower = faster); and the sd of the per-iteration loss over
    the last epoch (lower = less fluctuation). Each is compared with a Welch test.
    """
    per_epoch = iterations_per_epoch(results)
    window = max(1, per_epoch // 5)
    runs = {a: _loss_runs(results, a, epochs) for a in (arm, baseline)}
    threshold = stats.common_threshold(runs[arm] + runs[baseline], window)
    measures = {
        "iterations to reach the common loss level": (
            lambda r: stats.iterations_to_reach(r, threshold, window),
            -1,
            0,
        ),
        "mean training loss over the run": (lambda r: float(np.mean(r)), -1, 3),
        "sd of the loss over the last epoch": (
            lambda r: stats.last_epoch_sd(r, per_epoch),
            -1,
            3,
        ),
    }
    rows, comparisons = [], {}
    for name, (fn, sign, digits) in measures.items():
        a = [fn(r) for r in runs[arm]]
        b = [fn(r) for r in runs[baseline]]
        c = stats.welch(a, b)
        comparisons[name] = (c, stats.direction_verdict(c, sign))
        rows.append(
            {
                "Measure": name,
                code(baseline): mean_sd(stats.summarise(b), digits),
                code(arm): mean_sd(stats.summarise(a), digits),
                "Difference": num(c.diff, digits, sign=True),
                CI: interval(c.ci_low, c.ci_high, digits, sign=True),
                "Welch p": p_value(c.p),
                "Claim holds?": verdict_html(comparisons[name][1]),
            }
        )
    return {
        "table": pd.DataFrame(rows),
        "comparisons": comparisons,
        "threshold": threshold,
        "window": window,
        "epochs": epochs,
        "per_epoch": per_epoch,
    }


# What Figs 4-6 claim, as (figure, arm, baseline, paper epochs of the horizon, measure, claim).
CONVERGENCE_CLAIMS = [
    (
        "4–5",
        "resnet34_lr",
        BASELINE,
        LONG,
        "iterations to reach the common loss level",
        "LR decay converges faster",
    ),
    (
        "4–5",
        "resnet34_lr",
        BASELINE,
        LONG,
        "sd of the loss over the last epoch",
        "LR decay fluctuates less",
    ),
    (
        "6",
        "resnet34_selu",
        BASELINE,
        SHORT,
        "iterations to reach the common loss level",
        "SELU converges (much) faster",
    ),
]


def convergence_claims(results: Results) -> pd.DataFrame:
    """The qualitative claims of Figs 4-6, each measured (see ``convergence``)."""
    rows, cache = [], {}
    for fig, arm, baseline, paper_epochs, measure, claim in CONVERGENCE_CLAIMS:
        key = (arm, baseline, paper_epochs)
        if key not in cache:
            cache[key] = convergence(results, arm, baseline, results.horizon(paper_epochs))
        c, verdict = cache[key]["comparisons"][measure]
        digits = 0 if measure.startswith("iterations") else 3
        rows.append(
            {
                "Figure": fig,
                "Claim": claim,
                "Measured as": f"{measure} ({code(arm)} − {code(baseline)}, "
                f"{results.horizon(paper_epochs)} epochs)",
                "Ours": num(c.diff, digits, sign=True),
                CI: interval(c.ci_low, c.ci_high, digits, sign=True),
                "Welch p": p_value(c.p),
                "Verdict": verdict_html(verdict),
            }
        )
    return pd.DataFrame(rows)


# --- figures ----------------------------------------------------------------------------


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 9})
    return plt


def empty_figure(message: str, size=(6.5, 1.2)):
    plt = _plt()
    fig, ax = plt.subplots(figsize=size)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    plt.close(fig)
    return fig


def seed_points(results: Results, arms: list[str], paper_epochs: int = SHORT):
    """Per-seed final accuracies: box plot with every seed as a point."""
    import seaborn as sns

    rows = [{"arm": arm, "accuracy": v} for arm in arms for v in results.values(arm, paper_epochs)]
    if not rows:
        return empty_figure("No runs of these arms yet.")
    plt = _plt()
    frame = pd.DataFrame(rows)
    order = [a for a in arms if a in set(frame["arm"])]
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(order) + 1.0))
    sns.boxplot(
        data=frame,
        x="accuracy",
        y="arm",
        order=order,
        ax=ax,
        color="#dddddd",
        showfliers=False,
        width=0.5,
    )
    sns.stripplot(
        data=frame, x="accuracy", y="arm", order=order, ax=ax, color="#1f4e9c", size=5, jitter=0.15
    )
    if not results.reduced:
        for i, arm in enumerate(order):
            value = ARMS[arm].paper_accuracy.get(paper_epochs)
            if value is not None:
                ax.plot(
                    value,
                    i,
                    marker="D",
                    color="#cf222e",
                    ms=6,
                    ls="none",
                    label="paper" if i == 0 else None,
                )
    ax.set_xlabel(f"test accuracy (%) after epoch {results.horizon(paper_epochs)}")
    ax.set_ylabel("")
    fig.tight_layout()
    plt.close(fig)
    return fig


def epoch_curves(results: Results, arms: list[str]):
    """Mean test accuracy per epoch with a min-max band across seeds."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    drawn = 0
    for arm in arms:
        accs = [a for a in results.arm_runs(arm)["test_accuracy"] if len(a)]
        if not accs:
            continue
        n = min(len(a) for a in accs)
        m = np.array([a[:n] for a in accs])
        x = np.arange(1, n + 1)
        ax.plot(x, m.mean(0), marker="o", ms=3, label=f"{arm} (n={len(accs)})")
        ax.fill_between(x, m.min(0), m.max(0), alpha=0.2)
        drawn += 1
    if not drawn:
        plt.close(fig)
        return empty_figure("No runs of these arms yet.")
    ax.axvline(results.horizon(SHORT), color="#888888", ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.close(fig)
    return fig


def loss_curves(results: Results, arms: list[str], epochs: int, threshold: float | None = None):
    """Per-iteration training loss (smoothed), mean across seeds with a min-max band."""
    plt = _plt()
    per_epoch = iterations_per_epoch(results)
    window = max(1, per_epoch // 5)
    fig, ax = plt.subplots(figsize=(6.5, 3.0))
    drawn = 0
    for arm in arms:
        runs = _loss_runs(results, arm, epochs)
        if not runs:
            continue
        n = min(len(r) for r in runs)
        m = np.array([stats.smooth(r[:n], window) for r in runs])
        x = np.arange(1, n + 1)
        ax.plot(x, m.mean(0), lw=1.2, label=f"{arm} (n={len(runs)})")
        ax.fill_between(x, m.min(0), m.max(0), alpha=0.2)
        drawn += 1
    if not drawn:
        plt.close(fig)
        return empty_figure("No runs of these arms yet.")
    if threshold is not None and finite(threshold):
        ax.axhline(threshold, color="#888888", ls=":", lw=1, label="common loss level")
    ax.set_yscale("log")
    ax.set_xlabel(f"iteration ({per_epoch} per epoch; moving average of {window})")
    ax.set_ylabel("training loss")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- glue -------------------------------------------------------------------------------


def put(name: str, value) -> None:
    """Glue a value for the page: str -> {glue:text}, markdown/figures/HTML -> {glue}.

    Figures are glued as PNG images, whatever matplotlib backend the kernel runs.
    """
    from matplotlib.figure import Figure
    from myst_nb import glue

    if isinstance(value, Figure):
        import io

        from IPython.display import Image

        buffer = io.BytesIO()
        value.savefig(buffer, format="png", dpi=DPI)
        value = Image(data=buffer.getvalue(), format="png")
    glue(name, value, display=False)


def put_md(name: str, text: str) -> None:
    from IPython.display import Markdown

    put(name, Markdown(text))


def put_table(name: str, frame: pd.DataFrame) -> None:
    from IPython.display import HTML

    put(name, HTML(table_html(frame)))


# --- sentences ----------------------------------------------------------------------------


def finding(results: Results, arm: str, baseline: str = BASELINE) -> str:
    """One sentence per epoch count the paper reports for ``arm``: ours, the paper's, verdict."""
    if results.empty:
        return "No results yet, so no verdict."
    out = []
    for epochs in sorted(ARMS[arm].paper_accuracy):
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
    if results.empty or not conv["per_epoch"]:
        return "No per-iteration losses yet, so convergence cannot be measured."
    c_it, v_it = conv["comparisons"]["iterations to reach the common loss level"]
    c_sd, v_sd = conv["comparisons"]["sd of the loss over the last epoch"]
    c_mean, v_mean = conv["comparisons"]["mean training loss over the run"]
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


# --- readings of the paper's ambiguities ----------------------------------------------------

# (ambiguity, reading, arm, is our default, what it is compared with)
READINGS = [
    ("Baseline stem", "7×7/2 conv + 3×3/2 max-pool → 7×7 (ours)", "resnet34", True),
    ("Baseline stem", "7×7/2 conv, no max-pool → 14×14", "resnet34_nopool", False),
    ("Baseline stem", "one 3×3/1 conv (CIFAR-style) → 28×28", "resnet34_plainstem", False),
    ("Inception stem", "stride 1, no pool → 28×28 (ours)", "resnet34_inception", True),
    ("Inception stem", "stride 2 + 3×3/2 max-pool → 7×7", "resnet34_inception_s2", False),
    ("LR decay", "exponential, ×{gamma:g} per epoch (ours)", "resnet34_lr", True),
    ("LR decay", "step, ×0.1 every {step} epochs", "resnet34_lr_step", False),
    ("LR decay", "cosine to 0 over the run (run length only)", "resnet34_lr_cosine", False),
]
BASELINE_READINGS = ["resnet34", "resnet34_nopool", "resnet34_plainstem"]


def _reading_label(reading: str) -> str:
    cfg = RunConfig()
    return reading.format(gamma=cfg.lr_gamma, step=cfg.lr_step_epochs)


def reading_verdicts(results: Results, arm: str) -> list[tuple[str, str]]:
    """(which paper comparison, verdict) under the reading ``arm`` stands for."""
    out = []
    if arm in BASELINE_READINGS:
        # the paper's Table 4 with this arm as the baseline it improves on
        c = results.compare("resnet34_inception", arm)
        d = paper_diff("resnet34_inception", SHORT)
        out.append((f"Table 4 against {arm}", stats.improvement_verdict(c, d)))
    elif arm.startswith("resnet34_inception"):
        c = results.compare(arm, BASELINE)
        out.append(
            ("Table 4", stats.improvement_verdict(c, paper_diff("resnet34_inception", SHORT)))
        )
    else:
        for epochs in sorted(ARMS["resnet34_lr"].paper_accuracy):
            if results.available(arm, epochs):
                c = results.compare(arm, BASELINE, epochs)
                v = stats.improvement_verdict(c, paper_diff("resnet34_lr", epochs))
            else:
                v = "not run (depends on the run length)"
            out.append((f"Table 2, {epochs_label(results, epochs)} ep", v))
    return out


def readings_table(results: Results) -> pd.DataFrame:
    rows = []
    default_of = {amb: arm for amb, _, arm, default in READINGS if default}
    for ambiguity, reading, arm, default in READINGS:
        reading = _reading_label(reading)
        s = results.summary(arm)
        ref = default_of[ambiguity]
        c = results.compare(arm, ref)
        verdicts = reading_verdicts(results, arm)
        rows.append(
            {
                "Ambiguity": ambiguity,
                "Reading": reading,
                "Arm": code(arm),
                f"Accuracy, {epochs_label(results, SHORT)} ep (%)": mean_sd(s),
                "Moves it by (vs our default)": "default"
                if default
                else (
                    f"{num(c.diff, sign=True)} {interval(c.ci_low, c.ci_high, sign=True)}"
                    if finite(c.diff)
                    else "n/a"
                ),
                "Verdict under this reading": "<br>".join(
                    f"{html.escape(k)}: {verdict_html(v)}" for k, v in verdicts
                ),
            }
        )
    return pd.DataFrame(rows)


def closest_baseline(results: Results) -> str:
    """Which baseline reading comes closest to the paper's baseline accuracy (a sentence)."""
    paper = ARMS[BASELINE].paper_accuracy[SHORT]
    means = {a: results.summary(a).mean for a in BASELINE_READINGS}
    means = {a: m for a, m in means.items() if finite(m)}
    if not means:
        return "No baseline reading has results yet."
    best = min(means, key=lambda a: abs(means[a] - paper))
    s = results.summary(best)
    text = (
        f"Of the baseline readings with results ({', '.join(f'`{a}`' for a in means)}), "
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
    for _, reading, arm, _ in READINGS:
        for what, verdict in reading_verdicts(results, arm):
            if verdict in (stats.NO_DATA,) or verdict.startswith("not run"):
                continue
            judged += 1
            if verdict == stats.REPRODUCED:
                found.append(f"{what} under `{arm}` ({_reading_label(reading)})")
    if not judged:
        return "No reading has enough results for a verdict yet."
    where = f" under the reduced `{results.profile}` protocol" if results.reduced else ""
    if not found:
        return (
            f"**No reading reproduces the paper's improvements**{where}: none of the "
            f"{judged} verdicts above is *reproduced*."
        )
    return f"**{len(found)} of {judged} verdicts are reproduced**{where}: " + "; ".join(found) + "."


# --- the models, live from lib.models ---------------------------------------------------------


def meta_model(config):
    """The arm's model from ``lib.models.build_model`` on PyTorch's meta device.

    Shapes only, no memory and no initialisation cost: parameter counts, output shapes and
    nominal FLOP counts (``lib.conv.as_defined``) equal those of the real model
    (tests/test_book.py checks the FLOPs against ``lib.models.training_flops_per_image``).
    """
    import torch

    from lib.conv import as_defined
    from lib.models import build_model

    with torch.device("meta"):
        return as_defined(build_model(config.replace(device="cpu")))


def meta_training_flops(config) -> float:
    """``lib.models.training_flops_per_image`` computed on the meta device (no memory)."""
    import torch

    from lib.models import training_flops_per_image

    with torch.device("meta"):
        return training_flops_per_image(config)


def _shapes(config, model=None) -> dict[str, tuple]:
    """Output shape (C, H, W) of the stem and of each stage for one 28x28 image."""
    import torch

    model = (model or meta_model(config)).eval()
    shapes, hooks = {}, []
    parts = [("stem", model.stem)] + [(f"conv{i + 2}", s) for i, s in enumerate(model.stages)]
    for name, module in parts:
        hooks.append(
            module.register_forward_hook(
                lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
            )
        )
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28, device=next(model.parameters()).device))
    for h in hooks:
        h.remove()
    return shapes


def _shape(s: tuple) -> str:
    return f"{s[0]} × {s[1]} × {s[2]}"


def architecture_table() -> pd.DataFrame:
    """Paper Table 1 at full width, with output sizes under our stems."""
    from lib.ablations import run_config
    from lib.models import INCEPTION_BRANCHES, STAGE_BLOCKS, STAGE_CHANNELS

    arms = ["resnet34", "resnet34_inception"]
    shapes = {a: _shapes(run_config(a, "paper", 0)) for a in arms}
    branches = " + ".join("→".join(str(c) for c in b) for b in INCEPTION_BRANCHES)
    rows = [
        {
            "Layer": "stem",
            "Paper Table 1": "7×7 conv + pooling; improved: Inception 3×3",
            "Ours": f"7×7/2 conv + 3×3/2 max-pool; Inception: three 3×3 stacks ({branches})",
            "Output, 7×7 stem (C × H × W)": _shape(shapes["resnet34"]["stem"]),
            "Output, Inception stem": _shape(shapes["resnet34_inception"]["stem"]),
        }
    ]
    for i, (blocks, channels) in enumerate(zip(STAGE_BLOCKS, STAGE_CHANNELS, strict=True)):
        name = f"conv{i + 2}"
        rows.append(
            {
                "Layer": name,
                "Paper Table 1": f"[3×3, {channels}; 3×3, {channels}] × {blocks}",
                "Ours": f"{blocks} basic blocks, {channels} channels"
                + ("" if i == 0 else ", first block stride 2"),
                "Output, 7×7 stem (C × H × W)": _shape(shapes["resnet34"][name]),
                "Output, Inception stem": _shape(shapes["resnet34_inception"][name]),
            }
        )
    rows.append(
        {
            "Layer": "head",
            "Paper Table 1": "average pool, fully connected, softmax",
            "Ours": "global average pool, linear to 10 classes (softmax in the loss)",
            "Output, 7×7 stem (C × H × W)": "10",
            "Output, Inception stem": "10",
        }
    )
    return pd.DataFrame(rows)


def _model_key(config) -> tuple:
    return (config.stem, config.stem_stride, config.activation, config.shortcut, config.width)


def arm_costs(results: Results) -> pd.DataFrame:
    """Parameters and training FLOPs per image of every arm, at full width and at ours."""
    from lib.ablations import run_config
    from lib.models import count_parameters

    profile = results.profile or "paper"
    cache: dict[tuple, tuple[int, float]] = {}

    def cost(config):
        key = _model_key(config)
        if key not in cache:
            cache[key] = (count_parameters(meta_model(config)), meta_training_flops(config))
        return cache[key]

    rows = []
    for name, arm in ARMS.items():
        full = run_config(name, "paper", 0)
        ours = run_config(name, profile, 0)
        p_full, f_full = cost(full)
        p_ours, f_ours = cost(ours)
        switches = ", ".join(f"{k}={v}" for k, v in arm.switches.items()) or "(baseline)"
        rows.append(
            {
                "Arm": code(name),
                "Switches": html.escape(switches),
                "Params (full width)": f"{p_full:,}",
                "Train GFLOP/image (full width)": f"{f_full / 1e9:.3f}",
                f"Params ({profile})": f"{p_ours:,}",
                f"Train MFLOP/image ({profile})": f"{f_ours / 1e6:.1f}",
                f"Epochs ({profile})": ours.epochs,
            }
        )
    return pd.DataFrame(rows)


def torchvision_check() -> tuple[pd.DataFrame, bool]:
    """Our ResNet-34 with projection shortcuts against torchvision's (1 input channel)."""
    import torch
    import torchvision
    from torch.utils.flop_counter import FlopCounterMode

    from lib.ablations import run_config
    from lib.models import count_parameters

    with torch.device("meta"):
        tv = torchvision.models.resnet34(num_classes=10)
        tv.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)  # grey images
    ours = meta_model(run_config("resnet34_projection", "paper", 0))
    base = meta_model(run_config("resnet34", "paper", 0))

    def flops(model):
        model.eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model(torch.zeros(1, 1, 28, 28, device="meta"))
        return counter.get_total_flops()

    def shapes(model):
        return sorted(tuple(p.shape) for p in model.parameters())

    rows = []
    for label, model in [
        ("torchvision resnet34 (1-channel conv1, 10 classes)", tv),
        ("ours, projection shortcuts (resnet34_projection)", ours),
        ("ours, zero-padding shortcuts (resnet34, the baseline)", base),
    ]:
        rows.append(
            {
                "Model": html.escape(label),
                "Parameters": f"{count_parameters(model):,}",
                "Parameter tensors": len(list(model.parameters())),
                "Forward MFLOP (28×28)": f"{flops(model) / 1e6:.1f}",
                "Same parameter shapes as torchvision": "yes"
                if shapes(model) == shapes(tv)
                else "no",
            }
        )
    same = shapes(ours) == shapes(tv) and count_parameters(ours) == count_parameters(tv)
    return pd.DataFrame(rows), same


STEMS = [
    ("7×7/2 conv + 3×3/2 max-pool (baseline)", "resnet34"),
    ("7×7/2 conv, no max-pool", "resnet34_nopool"),
    ("Inception, stride 1 (ours)", "resnet34_inception"),
    ("Inception, stride 2 + max-pool", "resnet34_inception_s2"),
    ("3×3/1 conv (plain control)", "resnet34_plainstem"),
]


def _describe_stem(stem) -> list[str]:
    """One line per conv chain (an Inception branch, or the single conv) and per pool."""
    from torch import nn

    def chain(module) -> str:
        convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
        channels = "→".join([str(convs[0].in_channels)] + [str(c.out_channels) for c in convs])
        k, stride = convs[0].kernel_size[0], convs[0].stride[0]
        return f"conv {k}×{k} {channels} (first stride {stride})"

    branches = getattr(stem, "branches", None)
    lines = [f"branch {i + 1}: " + chain(b) for i, b in enumerate(branches)] if branches else []
    if not branches:
        lines.append(chain(stem))
    pools = [m for m in stem.modules() if isinstance(m, nn.MaxPool2d)]
    lines += [f"max-pool {p.kernel_size}×{p.kernel_size}/{p.stride}" for p in pools]
    return lines


def stems_table() -> pd.DataFrame:
    """The stems at full width: layers, output, parameters, forward FLOPs of the whole net."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from lib.ablations import run_config
    from lib.models import count_parameters

    rows = []
    for label, arm in STEMS:
        config = run_config(arm, "paper", 0)
        model = meta_model(config).eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            model.stem(torch.zeros(1, 1, 28, 28, device="meta"))
        shapes = _shapes(config, model)
        layers = _describe_stem(model.stem)
        rows.append(
            {
                "Stem": html.escape(label),
                "Arm": code(arm),
                "Conv / pool layers": "<br>".join(html.escape(x) for x in layers),
                "Into conv2 (C × H × W)": _shape(shapes["stem"]),
                "Stem params": f"{count_parameters(model.stem):,}",
                "Stem forward MFLOP": f"{counter.get_total_flops() / 1e6:.2f}",
                "Output of conv5 (C × H × W)": _shape(shapes["conv5"]),
            }
        )
    return pd.DataFrame(rows)


def schedules_figure(results: Results):
    """The LR multiplier per epoch under each schedule reading."""
    from lib.ablations import run_config
    from lib.train import lr_factor

    plt = _plt()
    profile = results.profile or "paper"
    fig, ax = plt.subplots(figsize=(6.5, 2.6))
    for arm in ["resnet34", "resnet34_lr", "resnet34_lr_step", "resnet34_lr_cosine"]:
        config = run_config(arm, profile, 0)
        x = np.arange(config.epochs)
        ax.step(
            x + 1,
            [lr_factor(config, e) for e in x],
            where="post",
            marker="o",
            ms=3,
            label=f"{arm} ({config.schedule})",
        )
    ax.set_xlabel(f"epoch ({profile} profile)")
    ax.set_ylabel("LR / base LR")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    plt.close(fig)
    return fig


# --- reproducibility ---------------------------------------------------------------------------


def runs_table(results: Results) -> pd.DataFrame:
    """Every record of the profile, whatever its status."""
    f = results.frame
    rows = []
    for _, r in f.iterrows():
        commit = r["git_commit"] if isinstance(r["git_commit"], str) else ""
        rows.append(
            {
                "Arm": code(r["arm"]),
                "Seed": r["seed"],
                "Status": verdict_html(r["status"]) if r["status"] != "complete" else "complete",
                "Epochs": r["epochs_run"] if finite(r["epochs_run"]) else "n/a",
                "Final acc. (%)": num(r["final_test_accuracy"]),
                "Best acc. (%)": num(r["best_test_accuracy"]),
                "Wall time (s)": num(r["wall_time_s"], 0),
                "Device": html.escape(str(r["device_name"] or "n/a")),
                "Precision": r["precision"] or "n/a",
                "Executor": r["executor"] or "n/a",
                "Commit": f"<code>{commit[:10]}</code>" + (" (dirty)" if r["git_dirty"] else ""),
            }
        )
    return pd.DataFrame(rows)


def problems_table(results: Results) -> pd.DataFrame:
    """Failed, stale and malformed records with their reasons."""
    f = results.frame[results.frame["status"] != "complete"]
    return pd.DataFrame(
        {
            "Arm": [code(a) for a in f["arm"]],
            "Seed": list(f["seed"]),
            "Status": list(f["status"]),
            "Reason": [html.escape(str(x)) for x in f["reason"]],
        }
    )


def environments_table(results: Results) -> pd.DataFrame:
    """The distinct environments the records were made in, with how many runs each."""
    from lib.records import MalformedRecord, read_record

    rows: dict[tuple, int] = {}
    for path in results.frame["path"]:
        try:
            record = read_record(path)
        except MalformedRecord:
            continue
        p = record.get("provenance", {})
        key = (
            p.get("python"),
            p.get("torch"),
            p.get("torchvision"),
            p.get("cuda"),
            p.get("device_name"),
            p.get("torch_threads"),
            p.get("host"),
            p.get("platform"),
            record.get("precision"),
        )
        rows[key] = rows.get(key, 0) + 1
    names = [
        "Python",
        "torch",
        "torchvision",
        "CUDA build",
        "Device",
        "Threads",
        "Host",
        "Platform",
        "Precision",
    ]
    frame = pd.DataFrame([dict(zip(names, k, strict=True), Runs=n) for k, n in rows.items()])
    return frame if len(frame) else pd.DataFrame(columns=[*names, "Runs"])


def data_checks(results: Results) -> tuple[pd.DataFrame, dict]:
    """Fashion-MNIST checksums (lib.data) and whether every record used exactly those files."""
    from lib.data import FILES
    from lib.records import read_record

    table = pd.DataFrame(
        [
            {"File": name, "SHA-256 (decompressed)": f"<code>{sha}</code>", "Bytes": f"{size:,}"}
            for name, (sha, size) in FILES.items()
        ]
    )
    expected = {name: sha for name, (sha, _) in FILES.items()}
    checked = agree = 0
    norms = set()
    for path in results.runs["path"]:
        record = read_record(path)
        checked += 1
        agree += record.get("dataset_sha256") == expected
        n = record.get("normalisation") or {}
        if n:
            norms.add((round(n["mean"], 6), round(n["std"], 6)))
    return table, {"checked": checked, "agree": agree, "normalisations": sorted(norms)}


# --- performance -------------------------------------------------------------------------------


def bench_files(folder: Path) -> list[tuple[Path, dict]]:
    import json

    out = []
    for path in sorted(Path(folder, "bench").glob("*.json")):
        try:
            out.append((path, json.loads(path.read_text())))
        except (OSError, ValueError):
            continue
    return out


def bench_tables(path: Path, bench: dict) -> dict[str, pd.DataFrame]:
    m, proto = bench.get("machine", {}), bench.get("protocol", {})
    machine = pd.DataFrame(
        [
            {
                "File": html.escape(path.name),
                "Created": bench.get("created_at"),
                "Device": f"{m.get('device')}: {html.escape(str(m.get('device_name')))}",
                "CPUs": m.get("cpu_count"),
                "torch": m.get("torch"),
                "Commit": f"<code>{str(bench.get('git_commit'))[:10]}</code>"
                + (" (dirty)" if bench.get("git_dirty") else ""),
                "Protocol": ", ".join(f"{k} {v}" for k, v in proto.items()),
            }
        ]
    )
    results = pd.DataFrame(
        [
            {
                "Arm": code(r.get("arm", "")),
                "Engine": r.get("engine"),
                "Precision": r.get("precision"),
                "channels_last": r.get("channels_last"),
                "Compiled": r.get("compiled"),
                "Seeds at once": r.get("seeds_at_once"),
                "Median images/s": num(r.get("median_images_per_s"), 0),
                "Repetitions (images/s)": ", ".join(num(x, 0) for x in r.get("images_per_s", [])),
            }
            for r in bench.get("results", [])
        ]
    )
    ratios = pd.DataFrame(
        [
            {
                "Arm": code(r.get("arm", "")),
                "Speed-up": f"{r.get('numerator')} / {r.get('denominator')}",
                "Median": num(r.get("median"), 2) + "×",
                "Per repetition": ", ".join(num(x, 2) for x in r.get("per_repetition", [])),
            }
            for r in bench.get("ratios", [])
        ]
    )
    tables = {"machine": machine, "results": results, "ratios": ratios}
    gpu = bench.get("gpu")
    if gpu:
        tables["gpu"] = pd.DataFrame(
            [
                {
                    "Arm": code(arm),
                    "MFU": f"{100 * v:.1f} %",
                    "bf16 peak (TFLOP/s)": num(gpu.get("bf16_matmul_peak_tflops"), 0),
                }
                for arm, v in (gpu.get("mfu") or {}).items()
            ]
        )
    return tables


def throughput_table(results: Results) -> pd.DataFrame:
    """Training images per second of each arm's complete runs, from the records."""
    rows = []
    for arm in ARMS:
        r = results.arm_runs(arm)
        if r.empty:
            continue
        s = stats.summarise(list(r["images_per_s"]))
        rows.append(
            {
                "Arm": code(arm),
                "Runs": s.n,
                "Images/s (mean ± sd)": mean_sd(s, 0),
                "Wall time per run (s, mean)": num(float(r["wall_time_s"].mean()), 0),
                "Device": html.escape(", ".join(sorted(set(map(str, r["device_name"]))))),
                "Precision": ", ".join(sorted(set(map(str, r["precision"])))),
            }
        )
    return pd.DataFrame(rows)
