"""An independent oracle for the site: the headline numbers recomputed from the raw JSON.

Nothing here comes from the report code (``lib.report`` is never imported: the last test
checks this file's imports). The records are read with ``json``; which of them count is
decided by the rules of issue 15, written out again below; the statistics come from pandas
and scipy's own routines (``scipy.stats.t.interval`` for the CI of a mean,
``ttest_ind(equal_var=False).confidence_interval`` for Welch's CI of a difference, at 99 %
for the five improvements judged together), not from ``lib.analysis.stats``; the intervals widened
by the noise of the paper's 10 runs per number are written out by hand. From lib only the
registry (today's config of a run, the paper's numbers) and the pinned data checksums are
taken: they are the specification.

The site is the shared build of tests/conftest.py (``book_site``): the fixture records plus
a stale, a failed, three invalid and two duplicated records, with known answers.
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib.core.arms import ARMS, PROFILES, run_config
from lib.core.dataset import FILES

PROFILE = "smoke"
BASELINE = "resnet34"
# The paper's claims: (arm, the paper's epochs) of Tables 2-5, and the page of each table.
ACCURACIES = [
    (BASELINE, 10),
    (BASELINE, 20),
    ("resnet34_lr", 10),
    ("resnet34_lr", 20),
    ("resnet34_selu", 10),
    ("resnet34_inception", 10),
    ("improved", 10),
]
IMPROVEMENTS = [(arm, epochs) for arm, epochs in ACCURACIES if arm != BASELINE]
# The improvements are judged together: Bonferroni, each interval at 1 - 0.05 / 5.
FAMILY_CONFIDENCE = 1 - 0.05 / len(IMPROVEMENTS)
PAPER_RUNS = 10  # each of the paper's accuracies is "the mean of 10 runs"
PAGES = {
    "resnet34_lr": "table2_lr",
    "resnet34_selu": "table3_selu",
    "resnet34_inception": "table4_inception",
    "improved": "table5_combined",
}
# What must be left out, and why (tests/fixtures/make_excluded.py made these).
LEFT_OUT = {
    "resnet34_selu/seed-2": "stale",
    "resnet34_lr/seed-2": "failed",
    "improved/seed-2": "accuracy",
    "resnet34/seed-2": "folder",
    "resnet34/seed-3": "key",
    "resnet34_inception/seed-1": "duplicate",
    "resnet34_inception/seed-2": "duplicate",
}
NUMBER = r"[+\-]?\d+(?:\.\d+)?"


def key_of(config: dict) -> str:
    """The result key, recomputed: SHA-256 of the config as sorted JSON, without its device,
    and without ``inception_branches`` where it cannot matter (other stems) or is absent or
    "scaled" (what every record made before the field existed ran)."""
    values = {k: v for k, v in config.items() if k != "device"}
    if values.get("stem") != "inception" or values.get("inception_branches") == "scaled":
        values.pop("inception_branches", None)
    if not values.get("augment"):  # absent or off: what every record before the field ran
        values.pop("augment", None)
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def why_left_out(path: Path, record: dict) -> str | None:
    """The first rule of issue 15 the record breaks (None: it counts, duplicates aside)."""
    config = record["config"]
    if key_of(config) != record["result_key"]:
        return "key"
    folder = (path.parent.parent.parent.name, path.parent.parent.name, path.parent.name)
    if folder != (record["profile"], record["arm"], f"seed-{record['seed']}") or any(
        record[f] != config[f] for f in ("arm", "seed", "profile")
    ):
        return "folder"
    accuracies = [e["test_accuracy"] for e in record["epochs"]]
    if not all(0 <= a <= 100 for a in accuracies):
        return "accuracy"
    if record.get("dataset_sha256") not in (None, {n: s for n, (s, _) in FILES.items()}):
        return "data"
    today = run_config(record["arm"], record["profile"], record["seed"]).to_dict()
    if record["result_key"] != key_of(today):
        return "stale"
    if record["status"] != "complete":
        return "failed"
    if len(record["epochs"]) != config["epochs"]:
        return "epochs"
    return None


def read_records(folder: Path) -> pd.DataFrame:
    rows = []
    for path in sorted(Path(folder, PROFILE).glob("*/seed-*/record.json")):
        record = json.loads(path.read_text())
        rows.append(
            {
                "where": f"{path.parent.parent.name}/{path.parent.name}",
                "arm": record["arm"],
                "why": why_left_out(path, record),
                "accuracies": [e["test_accuracy"] for e in record["epochs"]],
                "losses": json.dumps(record.get("iteration_losses")),
            }
        )
    frame = pd.DataFrame(rows)
    counted = frame["why"].isna()
    copies = frame[counted].groupby(["arm", "losses"])["where"].transform("size") > 1
    frame.loc[copies[copies].index, "why"] = "duplicate"
    return frame


def horizon(arm: str, paper_epochs: int) -> int:
    """Our epoch for the paper's: its 10 epochs are the profile's E, its 20 are 2E (only the
    long-horizon arms run 2E)."""
    assert paper_epochs in (10, 20) and (paper_epochs == 10 or ARMS[arm].long_horizon)
    return PROFILES[PROFILE].epochs * paper_epochs // 10


def per_seed(frame: pd.DataFrame, arm: str, paper_epochs: int) -> np.ndarray:
    h = horizon(arm, paper_epochs)
    runs = frame[(frame["arm"] == arm) & frame["why"].isna()]
    return np.array([a[h - 1] for a in runs["accuracies"] if len(a) >= h], dtype=float)


def accuracy_expected(x: np.ndarray, paper: float) -> dict:
    n = len(x)
    out = {"n": n, "mean": float(np.mean(x)), "sd": math.nan, "ci": (math.nan, math.nan)}
    out["margin"] = math.nan
    if n >= 2:
        out["sd"] = float(pd.Series(x).std())  # pandas' sample sd (ddof 1)
        low, high = stats.t.interval(0.95, n - 1, loc=np.mean(x), scale=stats.sem(x))
        out["ci"] = (float(low), float(high))
        # ours minus a mean of the paper's runs, spread as ours: t sd sqrt(1/n + 1/runs)
        t = stats.t.ppf(0.975, n - 1)
        out["margin"] = float(t * out["sd"] * math.sqrt(1 / n + 1 / PAPER_RUNS))
    out["vs_paper"] = out["mean"] - paper
    return out


def improvement_expected(a: np.ndarray, b: np.ndarray, d: float) -> dict:
    out = {"n": f"{len(a)} vs {len(b)}", "diff": float(np.mean(a) - np.mean(b))}
    out["ci"], out["p"], out["vs_paper"] = (math.nan, math.nan), math.nan, (math.nan, math.nan)
    if len(a) >= 2 and len(b) >= 2:
        test = stats.ttest_ind(a, b, equal_var=False)
        ci = test.confidence_interval(FAMILY_CONFIDENCE)
        out["ci"], out["p"] = (float(ci.low), float(ci.high)), float(test.pvalue)
        # ours minus d, each arm's variance widened by the paper's runs (Satterthwaite df)
        terms = [np.var(x, ddof=1) * (1 / len(x) + 1 / PAPER_RUNS) for x in (a, b)]
        df = sum(terms) ** 2 / sum(v**2 / (len(x) - 1) for v, x in zip(terms, (a, b), strict=True))
        half = stats.t.ppf((1 + FAMILY_CONFIDENCE) / 2, df) * math.sqrt(sum(terms))
        out["vs_paper"] = (out["diff"] - d - half, out["diff"] - d + half)
    return out


# --- the pages ---------------------------------------------------------------------------------


class Rows(HTMLParser):
    """Every table row of a page: its cells' text and the names in <code> in it."""

    def __init__(self):
        super().__init__()
        self.rows, self.row, self.cell, self.in_code = [], None, None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.row = {"cells": [], "codes": []}
        elif tag in ("td", "th") and self.row is not None:
            self.cell = ""
        elif tag == "code":
            self.in_code = True
            if self.row is not None:
                self.row["codes"].append("")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row["cells"].append(re.sub(r"\s+", " ", self.cell).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.rows.append(self.row)
            self.row = None
        elif tag == "code":
            self.in_code = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data
        if self.in_code and self.row is not None and self.row["codes"]:
            self.row["codes"][-1] += data


def page_rows(html_dir: Path, page: str) -> list[dict]:
    parser = Rows()
    parser.feed((html_dir / "book" / f"{page}.html").read_text())
    return parser.rows


def claim_rows(rows: list[dict], codes: list[str], paper: str) -> list[dict]:
    """Rows naming exactly these arms whose paper cell holds the paper's number."""
    return [
        r for r in rows if r["codes"] == codes and any(c.split(" ")[0] == paper for c in r["cells"])
    ]


def numbers(text: str) -> list[float]:
    return [float(x) for x in re.findall(NUMBER, text.replace("−", "-"))]


def pairs(text: str, pattern: str) -> list[tuple[float, float]]:
    text = text.replace("−", "-")
    return [(float(a), float(b)) for a, b in re.findall(pattern, text)]


def close(shown: float, expected: float, digits: int = 2) -> bool:
    """Equal to the shown rounding (half a unit in the last digit, and a hair)."""
    return abs(shown - expected) <= 0.5 * 10**-digits + 1e-9


def check_accuracy_row(row: dict, expected: dict, compact: bool = False) -> None:
    """``compact``: page one's short table, mean ± sd without n and interval."""
    text = " | ".join(row["cells"])
    assert compact or str(expected["n"]) in row["cells"], (text, expected["n"])
    if expected["n"] >= 2:
        mean_sd = pairs(text, rf"({NUMBER}) ± ({NUMBER})")
        assert len(mean_sd) >= 2, text  # ours: mean ± sd; ours − paper ± margin
        assert close(mean_sd[0][0], expected["mean"]) and close(mean_sd[0][1], expected["sd"]), (
            text,
            expected,
        )
        vs_paper = (expected["vs_paper"], expected["margin"])
        assert all(map(close, mean_sd[1], vs_paper)), (text, expected)
        ci = pairs(text, rf"\[({NUMBER}), ({NUMBER})\]")
        assert compact or (ci and all(map(close, ci[0], expected["ci"]))), (text, expected)
    else:
        assert any(close(x, expected["mean"]) for x in numbers(text)), (text, expected)
        assert ("one seed" if compact else "n/a") in text, (text, expected)


def check_improvement_row(row: dict, expected: dict) -> None:
    text = " | ".join(row["cells"])
    assert expected["n"] in text, (text, expected["n"])
    assert any(close(x, expected["diff"]) for x in numbers(text)), (text, expected)
    ci = pairs(text, rf"\[({NUMBER}), ({NUMBER})\]")
    if math.isfinite(expected["ci"][0]):
        assert ci and all(map(close, ci[0], expected["ci"])), (text, expected)
        # the primary table's second interval: ours minus the paper's, with its noise
        assert len(ci) == 1 or all(map(close, ci[1], expected["vs_paper"])), (text, expected)
        p = expected["p"]
        shown = "< 0.001" in text if p < 0.001 else any(close(x, p, 3) for x in numbers(text))
        assert shown, (text, expected)
    else:
        assert not ci and "n/a" in text, (text, expected)


# --- the tests ---------------------------------------------------------------------------------


def pages_for(arm: str, epochs: int) -> list[str]:
    """The intro's headline and the table pages that show the arm at the paper's epochs (the
    baseline is beside every table's arm)."""
    if arm != BASELINE:
        return [PAGES[arm]]
    return [p for a, p in PAGES.items() if epochs in ARMS[a].paper_accuracy]


@pytest.fixture(scope="module")
def oracle(book_site) -> pd.DataFrame:
    return read_records(book_site["results"])


def test_the_records_left_out_are_the_known_ones(oracle):
    left_out = oracle[oracle["why"].notna()]
    assert dict(zip(left_out["where"], left_out["why"], strict=True)) == LEFT_OUT
    counted = oracle[oracle["why"].isna()].groupby("arm").size().to_dict()
    assert counted == {
        "improved": 2,
        BASELINE: 2,
        "resnet34_inception": 1,
        "resnet34_lr": 2,
        "resnet34_selu": 2,
    }


def test_headline_and_table_pages_agree_with_the_oracle(oracle, book_site):
    html = book_site["html"]
    pages = {page: page_rows(html, page) for page in PAGES.values()}
    checked = 0
    for arm, epochs in ACCURACIES:
        value = ARMS[arm].paper_accuracy[epochs]
        expected, paper = accuracy_expected(per_seed(oracle, arm, epochs), value), f"{value:.2f}"
        for page in pages_for(arm, epochs):
            rows = claim_rows(pages[page], [arm], paper)
            assert rows, f"{page}: no row for the accuracy of {arm} at {epochs} epochs"
            for row in rows:
                check_accuracy_row(row, expected, compact=False)
                checked += 1
    for arm, epochs in IMPROVEMENTS:
        treatment = per_seed(oracle, arm, epochs)
        d = ARMS[arm].paper_accuracy[epochs] - ARMS[BASELINE].paper_accuracy[epochs]
        expected = improvement_expected(treatment, per_seed(oracle, BASELINE, epochs), d)
        for page in (PAGES[arm],):
            rows = claim_rows(pages[page], [arm, BASELINE], f"{d:+.2f}")
            assert rows, f"{page}: no row for the improvement of {arm} at {epochs} epochs"
            for row in rows:
                check_improvement_row(row, expected)
                checked += 1
    assert checked >= len(ACCURACIES) + len(IMPROVEMENTS)


def test_the_horizons_differ_so_a_swap_would_show(oracle):
    """The 10- and 20-epoch numbers of the fixture differ: a swapped horizon changes them."""
    for arm in (BASELINE, "resnet34_lr"):
        short, long = per_seed(oracle, arm, 10), per_seed(oracle, arm, 20)
        assert abs(short.mean() - long.mean()) > 0.05


def test_the_oracle_imports_no_report_code():
    tree = ast.parse(Path(__file__).read_text())
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not {m for m in modules if m and m.startswith(("lib.report", "lib.analysis"))}
    assert {m for m in modules if m and m.startswith("lib")} == {
        "lib.core.arms",
        "lib.core.dataset",
    }
