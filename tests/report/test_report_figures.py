"""lib.report.figures and glue: every figure draws from the results and is glued as a PNG."""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from lib.report import architecture, figures, glue


def test_figures_from_runs_and_without(smoke):
    seeds = figures.seed_points(smoke, ["resnet34", "improved", "resnet34_nopool"])
    assert [t.get_text() for t in seeds.axes[0].get_yticklabels()] == ["resnet34", "improved"]
    curves = figures.epoch_curves(smoke, ["resnet34"])
    assert curves.axes[0].get_legend().get_texts()[0].get_text() == "resnet34 (n=2)"
    losses = figures.loss_curves(smoke, ["resnet34"], 2, threshold=0.5)
    assert losses.axes[0].get_yscale() == "log"
    for empty in (
        figures.seed_points(smoke, ["resnet34_nopool"]),
        figures.epoch_curves(smoke, ["resnet34_nopool"]),
    ):
        assert empty.axes[0].texts[0].get_text() == "No runs of these arms yet."
    schedules = figures.schedules_figure(architecture.lr_schedules(smoke), "smoke")
    assert len(schedules.axes[0].lines) == 4
    assert schedules.axes[0].get_xlabel() == "epoch (our reduced smoke proxy)"
    paper = figures.schedules_figure(architecture.lr_schedules(smoke), "paper")
    assert paper.axes[0].get_xlabel() == "epoch (the paper's protocol)"
    assert schedules.dpi == figures.DPI


def test_glue_turns_figures_into_png(monkeypatch):
    glued = {}
    monkeypatch.setattr(glue, "glue", lambda name, value, display: glued.update({name: value}))
    glue.put("fig", figures.empty_figure("nothing"))
    glue.put("text", "93.12")
    glue.put_md("md", "**bold**")
    assert glued["fig"].data.startswith(b"\x89PNG") and glued["text"] == "93.12"
    assert glued["md"].data == "**bold**"
    assert isinstance(figures.empty_figure(), Figure)


def test_glued_png_is_twice_the_shown_width(monkeypatch):
    import struct

    glued = {}
    monkeypatch.setattr(glue, "glue", lambda name, value, display: glued.update({name: value}))
    fig = figures.empty_figure("nothing")
    glue.put("fig", fig)
    shown = round(figures.WIDTH * figures.DPI)
    assert glued["fig"].width == shown
    png_width = struct.unpack(">I", glued["fig"].data[16:20])[0]
    assert abs(png_width - 2 * shown) <= 2
    assert figures.STYLE["font.size"] * figures.DPI / 72 >= 10  # text of at least 10 px


def test_forest_plot_marks_zero_claims_and_every_protocol(smoke):
    from lib.report.claims import improvement_claims
    from lib.report.results import Results

    paper = Results("paper", smoke.folder, smoke.frame.iloc[:0])
    fig = figures.forest_plot([paper, smoke])
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ours: reduced smoke proxy", "paper's claimed difference"]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ticks) == len(improvement_claims())
    assert ticks[0].startswith("learning-rate decay\nTable 2")  # plain words, not arm names
    assert not any("resnet34" in t or "improved" in t for t in ticks)
    zero = [line for line in ax.lines if list(line.get_xdata()) == [0, 0]]
    assert zero  # the zero line
    claimed = [line for line in ax.lines if line.get_label() == "paper's claimed difference"]
    assert list(claimed[0].get_xdata()) == [d for *_, d in improvement_claims()]
    empty = figures.forest_plot([paper])
    assert "No runs yet" in empty.axes[0].texts[0].get_text()


def test_an_empty_table_is_said_in_words(monkeypatch):
    import pandas as pd

    glued = {}
    monkeypatch.setattr(glue, "glue", lambda name, value, display: glued.update({name: value}))
    glue.put_table("empty", pd.DataFrame(columns=["Arm", "Reason"]))
    glue.put_table("full", pd.DataFrame({"Arm": ["resnet34"]}))
    assert glued["empty"].data == "<p>None.</p>"
    assert "<table" in glued["full"].data


def test_no_label_of_the_forest_plot_is_clipped(smoke):
    """Every text of the figure (ticks, axis label, legend) lies inside the saved image."""
    fig = figures.forest_plot([smoke])
    canvas = FigureCanvasAgg(fig)  # what savefig draws with
    canvas.draw()  # lays the figure out, as savefig does
    renderer = canvas.get_renderer()
    bounds = fig.bbox
    ax = fig.axes[0]
    drawn_ticks = [t.label1 for axis in (ax.xaxis, ax.yaxis) for t in axis._update_ticks()]
    texts = [ax.xaxis.label, ax.yaxis.label, *ax.get_legend().get_texts(), *drawn_ticks]
    texts = [t for t in texts if t.get_visible() and t.get_text()]
    assert any("accuracy points" in t.get_text() for t in texts)
    for text in texts:
        box = text.get_window_extent(renderer)
        assert box.x0 >= bounds.x0 - 1 and box.x1 <= bounds.x1 + 1, text.get_text()
        assert box.y0 >= bounds.y0 - 1 and box.y1 <= bounds.y1 + 1, text.get_text()
