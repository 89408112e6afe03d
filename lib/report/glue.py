"""Hand values to the chapters' pages (myst-nb ``glue``): text, Markdown, HTML and figures."""

from __future__ import annotations

import io

import pandas as pd
from IPython.display import HTML, Image, Markdown
from myst_nb import glue

from lib.report.formatting import table_html


def put(name: str, value) -> None:
    """Glue a value for the page: str -> {glue:text}, markdown/figures/HTML -> {glue}.

    Figures are glued as PNG images at twice their own dpi, shown at their own width (sharp
    on high-density screens), whatever matplotlib backend the kernel runs (this module
    draws nothing, so it only asks the figure to save itself).
    """
    if hasattr(value, "savefig"):
        buffer = io.BytesIO()
        value.savefig(buffer, format="png", dpi=2 * value.dpi)
        width = round(value.get_figwidth() * value.dpi)
        value = Image(data=buffer.getvalue(), format="png", width=width)
    glue(name, value, display=False)


def put_md(name: str, text: str) -> None:
    put(name, Markdown(text))


def put_html(name: str, text: str) -> None:
    put(name, HTML(text))


def put_table(name: str, frame: pd.DataFrame) -> None:
    """A table; a table without rows is said in words ("None."), never drawn empty."""
    put_html(name, table_html(frame) if len(frame) else "<p>None.</p>")
