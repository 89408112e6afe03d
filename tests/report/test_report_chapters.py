"""lib.report.chapters: a table chapter glues every value its page names."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lib.report import chapters, glue

BOOK = Path(__file__).resolve().parents[2] / "book"
PAGES = {2: "table2_lr", 3: "table3_selu", 4: "table4_inception", 5: "table5_combined"}


@pytest.mark.parametrize("table", sorted(PAGES))
def test_a_table_chapter_glues_what_its_page_shows(table, fixtures, monkeypatch):
    glued = {}
    monkeypatch.setattr(glue, "glue", lambda name, value, display: glued.update({name: value}))
    monkeypatch.setenv("RESULTS_DIR", str(fixtures))
    chapters.table_chapter(table)
    page = json.loads((BOOK / f"{PAGES[table]}.ipynb").read_text())
    text = "".join("".join(c["source"]) for c in page["cells"] if c["cell_type"] == "markdown")
    named = set(re.findall(r"\{glue:text\}`([a-z_]+)`", text))
    named |= set(re.findall(r"\{glue(?::md|:figure)?\} ([a-z_]+)", text))
    code = "".join("".join(c["source"]) for c in page["cells"] if c["cell_type"] == "code")
    later = set(re.findall(r'put(?:_md|_table|_html)?\("([a-z_]+)"', code))
    assert named - later <= set(glued)  # every name the page shows, glued by the chapter
    assert {"banner", "improvement", "finding", "fig_seeds", "p_short", "h_short"} <= set(glued)
