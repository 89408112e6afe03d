"""How the book writes numbers, intervals, verdicts and names: one wording for every chapter."""

from __future__ import annotations

import html
import math

import numpy as np
import pandas as pd

from lib import stats
from lib.ablations import PROFILES
from lib.report.results import Results

CONFIDENCE = f"{100 * stats.CONFIDENCE:.0f}"  # "95"
CI = f"{CONFIDENCE} % CI"
GREY = "#6e7781"
VERDICT_COLOURS = {
    stats.REPRODUCED: "#1a7f37",
    stats.MATCHES: "#1a7f37",
    stats.NOT_REPRODUCED: "#cf222e",
    stats.CONTRADICTED: "#cf222e",
    stats.DIFFERS: "#9a6700",
    stats.INCONCLUSIVE: GREY,
    stats.NO_DATA: GREY,
}


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
    colour = VERDICT_COLOURS.get(verdict.split(" (")[0], GREY)
    return f'<span style="color:{colour};font-weight:600">{html.escape(verdict)}</span>'


def code(name: str) -> str:
    """A name as HTML code (table cells)."""
    return f"<code>{html.escape(name)}</code>"


def md_codes(names) -> str:
    """Names as a comma-separated list of Markdown code spans (sentences)."""
    return ", ".join(f"`{name}`" for name in names)


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


def commit_html(commit, dirty) -> str:
    """The first ten characters of a commit, marked when the tree was modified."""
    return f"<code>{str(commit)[:10]}</code>" + (" (dirty)" if dirty else "")
