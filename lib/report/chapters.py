"""What every table chapter (Tables 2-5) shows, glued in one call: the chapters differ only
in their table number and in what they add after it."""

from __future__ import annotations

from lib.core.arms import ARMS
from lib.report import claims, figures, notes, prose, protocols, tables
from lib.report.claims import BASELINE
from lib.report.glue import put, put_md, put_table
from lib.report.results import Results, load


def table_chapter(table: int) -> Results:
    """Load the results and glue the chapter of the paper's Table ``table``: banners, the
    arm, the paper's table beside ours, the claim's verdict, precision, the finding in words,
    the figures and the epochs read. Returns the results for what the chapter adds."""
    results = load()
    arm = claims.TABLE_ARMS[table]
    arms = [BASELINE, arm]
    put_md("banner", notes.short_banner(results))
    put_md("proxy", protocols.proxy_note(results))
    put_md("missing", notes.missing_note(results, arms))
    put("arm_description", ARMS[arm].description)
    put_table("paper_table", tables.paper_table(results, table))
    put_table("improvement", tables.primary_table(results, table))
    put_table("improvement_detail", tables.primary_table(results, table, detail=True))
    put_md("precision", protocols.precision_mix(results, arms))
    put_md("finding", prose.finding(results, arm))
    put("fig_seeds", figures.seed_points(results, arms))
    put("fig_epochs", figures.epoch_curves(results, arms))
    for paper, short in zip(claims.paper_epochs(arm), ("short", "long"), strict=False):
        put(f"p_{short}", str(paper))  # the paper's epochs, and the epoch read for them
        put(f"h_{short}", str(results.horizon(paper)))
    return results
