"""How the book writes numbers, intervals, verdicts and names: one wording for every chapter."""

from __future__ import annotations

import functools
import html
import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from lib.analysis import power, stats
from lib.core.arms import PAPER_RUNS, PROFILES
from lib.core.repo import RESULTS_DIR
from lib.report.results import Results

CONFIDENCE = f"{100 * stats.CONFIDENCE:.0f}"  # "95"
CI = f"{CONFIDENCE} % CI"
POWER = f"{100 * power.POWER:.0f} % power"  # "80 % power"
GREEN, AMBER, RED, BLUE, GREY = "#1a7f37", "#9a6700", "#cf222e", "#0969da", "#6e7781"
# By the verdict's first words: qualifiers in brackets keep the colour of their verdict.
VERDICT_COLOURS = {
    stats.REPRODUCED: GREEN,
    stats.MATCHES: GREEN,
    stats.DIRECTION_ONLY: AMBER,
    stats.MISMATCH: AMBER,
    stats.NOT_REPRODUCED: RED,
    stats.OPPOSITE: RED,
    stats.DIFFERS: BLUE,
}


def finite(x) -> bool:
    return x is not None and isinstance(x, int | float | np.floating) and math.isfinite(x)


def num(x, digits: int = 2, sign: bool = False) -> str:
    if not finite(x):
        return "n/a"
    return f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"


def mean_sd(s: stats.Summary, digits: int = 2, unit: str = "") -> str:
    """'93.02 ± 0.31 %', or '93.02 % (one seed)' where one seed has no sd."""
    unit = f" {unit}" if unit else ""
    if s.n == 0:
        return "no runs"
    if s.n == 1:
        return f"{num(s.mean, digits)}{unit} (one seed)"
    return f"{num(s.mean, digits)} ± {num(s.sd, digits)}{unit}"


def interval(low, high, digits: int = 2, sign: bool = False) -> str:
    if not (finite(low) and finite(high)):
        return "n/a"
    return f"[{num(low, digits, sign)}, {num(high, digits, sign)}]"


def ci_label(alpha: float = stats.ALPHA) -> str:
    """'95 % CI'; for a family judged together (``power.family_alpha``, each interval wider)
    'simultaneous 95 % CI': the family's intervals of our differences, one per verdict,
    hold together with at least 95 % confidence (``power.family_confidence``)."""
    return CI if alpha == stats.ALPHA else f"simultaneous {CI}"


def p_value(p) -> str:
    if not finite(p):
        return "n/a"
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def p_phrase(p, name: str = "p") -> str:
    """'p = 0.047' or 'p < 0.001', for prose (``p_value`` is the table cell)."""
    cell = p_value(p)
    return f"{name} {cell}" if cell.startswith("<") else f"{name} = {cell}"


def verdict_html(verdict: str, label: str | None = None) -> str:
    """A verdict in its colour (grey: inconclusive, no clear difference, n/a, no data),
    written as ``label`` where a shorter word stands for it ("smaller than claimed")."""
    colour = VERDICT_COLOURS.get(verdict.split(" (")[0], GREY)
    text = html.escape(label or verdict)
    return f'<span style="color:{colour};font-weight:600">{text}</span>'


def code(name: str) -> str:
    """A name as HTML code (table cells), free to break before an underscore in a narrow
    column (``resnet34_lr`` as ``resnet34`` / ``_lr``, never inside a word)."""
    return "<code>" + "<wbr>_".join(html.escape(name).split("_")) + "</code>"


def md_codes(names) -> str:
    """Names as a comma-separated list of Markdown code spans (sentences)."""
    return ", ".join(f"`{name}`" for name in names)


NBSP = "\u00a0"


def unbreakable(text: str) -> str:
    """Numbers kept whole in a narrow table cell: an interval, a number and its unit or sd,
    a p-value's "< 0.001" and "n 3 vs 5" get no-break spaces, so a line never ends at
    "93.12" with "%" on the next."""
    text = re.sub(r"\[[^\[\]<>]*\]", lambda m: m.group(0).replace(" ", NBSP), text)
    text = re.sub(r"(?<=\d) (?=%|±|vs )", NBSP, text)
    return re.sub(r"(±|<|\bvs) (?=[+\-−]?\d)", rf"\1{NBSP}", text)


def table_html(frame: pd.DataFrame) -> str:
    """A DataFrame as a plain HTML table (cells may hold HTML; numbers kept whole,
    ``unbreakable``), in a box that scrolls sideways when the table is wider than the text
    column (book/_static/custom.css)."""
    table = unbreakable(
        frame.to_html(index=False, escape=False, border=0, classes="table repl-table")
    )
    source = frame.attrs.get(MADE_BY)
    note = (
        f'<p class="repl-made-by"><a href="{CODE_PAGE}#{html.escape(source)}" '
        f'title="{html.escape(source)}">code</a></p>'
        if source
        else ""
    )
    return f'<div class="repl-scroll">{table}</div>{note}'


MADE_BY = "made_by"
CODE_PAGE = "code.html"  # book/code.md: every lib function documented, with its source


def made_by(function):
    """Decorator of a table function: its DataFrame names it, and ``table_html`` links that
    function's entry in the Code chapter under the table (a small "code" link)."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        frame = function(*args, **kwargs)
        frame.attrs[MADE_BY] = f"{function.__module__}.{function.__qualname__}"
        return frame

    return wrapper


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


def margin_phrase(s: stats.Summary, paper_value: float, spread: stats.Summary | None = None) -> str:
    """Ours minus the paper's accuracy and whether it lies within the margin that the seed
    noise of ours and of the paper's runs allows (what ``stats.accuracy_verdict`` reads); a
    one-seed ``s`` borrows the seed spread of ``spread`` (the default baseline's), where
    given, and says so."""
    diff = s.mean - paper_value
    margin = stats.margin(s, PAPER_RUNS)
    borrowed = s.n == 1 and spread is not None and spread.n > 1
    if borrowed:
        margin = stats.margin(spread, PAPER_RUNS, runs=1)
    if not finite(margin):
        return f"{num(diff, sign=True)} points; one seed, no margin yet"
    noise = (
        f"one run spread as our default's {spread.n} seeds and the paper's {PAPER_RUNS} runs allow"
        if borrowed
        else f"the seed noise of ours and of the paper's {PAPER_RUNS} runs allows"
    )
    return (
        f"{num(diff, sign=True)} points{' on one seed' if borrowed else ''}, "
        f"{'within' if abs(diff) <= margin else 'beyond'} the ± {num(margin)} that {noise}"
    )


def accuracy_verdict_text(results: Results, s: stats.Summary, paper_value: float) -> str:
    verdict = stats.accuracy_verdict(s, paper_value, PAPER_RUNS)
    if results.reduced and verdict != stats.NO_DATA:
        return f"not comparable ({results.profile} proxy)"
    return verdict


def verdict_text(results: Results, verdict: str) -> str:
    """A verdict, marked as the proxy's when the profile is a reduced one."""
    if results.reduced and verdict not in (stats.NO_DATA, stats.NOT_APPLICABLE):
        return f"{verdict} ({results.profile} proxy)"
    return verdict


def power_note(a: stats.Assessment, unit: str = "points", digits: int = 2) -> str:
    """What the seeds can detect, for a verdict that leaves the question open: the power of
    the Welch interval the verdict reads (``lib.analysis.power``), for arms spread as ours."""
    c = a.comparison
    n = (
        f"{c.n_treatment} per arm"
        if c.n_treatment == c.n_baseline
        else (f"{c.n_treatment} vs {c.n_baseline}")
    )
    seeds = f"{a.seeds_needed:,.0f}" if finite(a.seeds_needed) else "n/a"
    if a.seeds_needed == math.inf:  # beyond the search's cap
        seeds = f"more than {power.SEEDS_CAP:,}"
    return (
        f"n = {n} detects {num(a.detectable, digits)} {unit} or more "
        f"({POWER}{level_phrase(a.alpha)}); {seeds} seeds per arm would detect "
        f"{'the claimed' if a.claim is not None else 'the observed'} "
        f"{num(a.target, digits, sign=True)}"
    )


def level_phrase(alpha: float) -> str:
    """', at the 1 % level' for a test below the usual level (a primary claim's), else ''."""
    return "" if alpha == stats.ALPHA else f", at the {100 * alpha:g} % level"


def leaves_open(verdict: str) -> bool:
    """Verdicts that come with ``power_note``: the interval holds 0 and the claim (if any)."""
    return verdict in (stats.INCONCLUSIVE, stats.NO_CLEAR_DIFFERENCE)


def commit_html(commit, dirty) -> str:
    """The first ten characters of a commit, marked when the tree was modified."""
    return f"<code>{str(commit)[:10]}</code>" + (" (dirty)" if dirty else "")


def folder_label(folder) -> str:
    """A results folder as the site names it: relative to the repository (``results``),
    else ``$RESULTS_DIR`` and the folder's name; never the builder's absolute path."""
    try:
        return Path(folder).resolve().relative_to(RESULTS_DIR.parent).as_posix()
    except ValueError:
        return f"$RESULTS_DIR ({Path(folder).name})"
