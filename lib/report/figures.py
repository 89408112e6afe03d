"""The book's figures (matplotlib and seaborn are drawn here only): seeds, curves, schedules.

Figures are made without pyplot (``matplotlib.figure.Figure``): no backend, nothing to
close, whatever the kernel's matplotlib set-up; ``lib.report.glue`` saves them as PNG.
"""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from lib import stats
from lib.report.claims import SHORT, paper_accuracy
from lib.report.convergence import iterations_per_epoch, loss_runs, smoothing_window
from lib.report.formatting import finite
from lib.report.results import Results

DPI = 80
STYLE = {"figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 9}
WIDTH = 6.5  # inches: the page's text width at DPI


def _subplots(height: float) -> tuple[Figure, object]:
    matplotlib.rcParams.update(STYLE)  # global, as the glued PNG is saved later
    fig = Figure(figsize=(WIDTH, height))
    return fig, fig.subplots()


def _finish(fig: Figure, ax=None) -> Figure:
    """Legend and grid on ``ax`` (when given), then a tight layout."""
    if ax is not None:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def empty_figure(message: str = "No runs of these arms yet.", height: float = 1.2) -> Figure:
    fig, ax = _subplots(height)
    ax.axis("off")
    ax.text(0.5, 0.5, message, ha="center", va="center")
    return fig


def seed_points(results: Results, arms: list[str], paper_epochs: int = SHORT):
    """Per-seed final accuracies: box plot with every seed as a point."""
    rows = [{"arm": arm, "accuracy": v} for arm in arms for v in results.values(arm, paper_epochs)]
    if not rows:
        return empty_figure()
    frame = pd.DataFrame(rows)
    order = [a for a in arms if a in set(frame["arm"])]
    fig, ax = _subplots(0.45 * len(order) + 1.0)
    points = {"data": frame, "x": "accuracy", "y": "arm", "order": order, "ax": ax}
    sns.boxplot(**points, color="#dddddd", showfliers=False, width=0.5)
    sns.stripplot(**points, color="#1f4e9c", size=5, jitter=0.15)
    if not results.reduced:
        for i, arm in enumerate(order):
            value = paper_accuracy(arm, paper_epochs)
            if value is not None:
                label = "paper" if i == 0 else None
                ax.plot(value, i, marker="D", color="#cf222e", ms=6, ls="none", label=label)
    ax.set_xlabel(f"test accuracy (%) after epoch {results.horizon(paper_epochs)}")
    ax.set_ylabel("")
    return _finish(fig)


def _band(ax, curves: list, label: str, **line) -> None:
    """Mean of equal-length ``curves`` as a line, their min-max as a band."""
    m = np.array(curves)
    x = np.arange(1, m.shape[1] + 1)
    ax.plot(x, m.mean(0), label=label, **line)
    ax.fill_between(x, m.min(0), m.max(0), alpha=0.2)


def epoch_curves(results: Results, arms: list[str]):
    """Mean test accuracy per epoch with a min-max band across seeds."""
    fig, ax = _subplots(3.0)
    drawn = 0
    for arm in arms:
        accs = [a for a in results.arm_runs(arm)["test_accuracy"] if len(a)]
        if not accs:
            continue
        n = min(len(a) for a in accs)
        _band(ax, [a[:n] for a in accs], f"{arm} (n={len(accs)})", marker="o", ms=3)
        drawn += 1
    if not drawn:
        return empty_figure()
    ax.axvline(results.horizon(SHORT), color="#888888", ls=":", lw=1)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    return _finish(fig, ax)


def loss_curves(results: Results, arms: list[str], epochs: int, threshold: float | None = None):
    """Per-iteration training loss (smoothed), mean across seeds with a min-max band."""
    per_epoch = iterations_per_epoch(results)
    window = smoothing_window(per_epoch)
    fig, ax = _subplots(3.0)
    drawn = 0
    for arm in arms:
        runs = loss_runs(results, arm, epochs)
        if not runs:
            continue
        n = min(len(r) for r in runs)
        smoothed = [stats.smooth(r[:n], window) for r in runs]
        _band(ax, smoothed, f"{arm} (n={len(runs)})", lw=1.2)
        drawn += 1
    if not drawn:
        return empty_figure()
    if threshold is not None and finite(threshold):
        ax.axhline(threshold, color="#888888", ls=":", lw=1, label="common loss level")
    ax.set_yscale("log")
    ax.set_xlabel(f"iteration ({per_epoch} per epoch; moving average of {window})")
    ax.set_ylabel("training loss")
    return _finish(fig, ax)


def schedules_figure(schedules: dict[str, list[float]], profile: str):
    """The LR multiplier per epoch under each schedule (``architecture.lr_schedules``)."""
    fig, ax = _subplots(2.6)
    for label, factors in schedules.items():
        x = np.arange(len(factors))
        ax.step(x + 1, factors, where="post", marker="o", ms=3, label=label)
    ax.set_xlabel(f"epoch ({profile} profile)")
    ax.set_ylabel("LR / base LR")
    return _finish(fig, ax)
