"""lib.report.figures and glue: every figure draws from the results and is glued as a PNG."""

from __future__ import annotations

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
