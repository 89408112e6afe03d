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
from matplotlib.ticker import MaxNLocator

from lib.analysis import curves
from lib.report.claims import CHANGE_NAMES, LONG, SHORT, improvement_claims, paper_accuracy
from lib.report.convergence import iterations_per_epoch, loss_runs, smoothing_window
from lib.report.formatting import ci_label, finite
from lib.report.results import Results
from lib.report.verdicts import primary_family

DPI = 80
# 11 pt at 80 dpi: 12 px text, legends 11 px, at the width the page shows them
STYLE = {"figure.dpi": DPI, "savefig.dpi": DPI, "font.size": 11}
WIDTH = 6.5  # inches: the page's text width at DPI


def _subplots(height: float) -> tuple[Figure, object]:
    matplotlib.rcParams.update(STYLE)  # global, as the glued PNG is saved later
    # constrained layout keeps every label and an outside legend inside the image
    fig = Figure(figsize=(WIDTH, height), layout="constrained")
    return fig, fig.subplots()


def _finish(fig: Figure, ax=None, legend: str = "best") -> Figure:
    """Legend (at ``legend``) and grid on ``ax`` (when given); the layout is constrained
    (``_subplots``)."""
    if ax is not None:
        ax.legend(fontsize=10, loc=legend)
        ax.grid(alpha=0.3)
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
    label = "paper" + (" (its own protocol)" if results.reduced else "")
    for i, arm in enumerate(order):
        value = paper_accuracy(arm, paper_epochs)
        if value is not None:
            ax.plot(value, i, marker="D", color="#cf222e", ms=6, ls="none", label=label)
            label = None
    if label is None:
        ax.legend(fontsize=10)
    ax.set_xlabel(f"test accuracy (%) after epoch {results.horizon(paper_epochs)}")
    ax.set_ylabel("")
    return _finish(fig)


def _band(ax, curves: list, label: str, **line) -> None:
    """Mean of equal-length ``curves`` as a line, their min-max as a band."""
    m = np.array(curves)
    x = np.arange(1, m.shape[1] + 1)
    ax.plot(x, m.mean(0), label=label, **line)
    ax.fill_between(x, m.min(0), m.max(0), alpha=0.2)


def epoch_curves(results: Results, arms: list[str], paper_marks: bool = True):
    """Mean test accuracy per epoch with a min-max band across seeds; ``paper_marks``: the
    paper's accuracies as diamonds (off for a proxy's curves shown beside no paper cell)."""
    fig, ax = _subplots(3.0)
    drawn, marked = 0, False
    for arm in arms:
        accs = [a for a in results.arm_runs(arm)["test_accuracy"] if len(a)]
        if not accs:
            continue
        n = min(len(a) for a in accs)
        _band(ax, [a[:n] for a in accs], f"{arm} (n={len(accs)})", marker="o", ms=3)
        for e in (SHORT, LONG):
            value = paper_accuracy(arm, e)
            if paper_marks and value is not None and results.horizon(e) <= n:
                colour = ax.lines[-1].get_color()
                ax.plot(results.horizon(e), value, marker="D", color=colour, ms=7, ls="none")
                marked = True
        drawn += 1
    if not drawn:
        return empty_figure()
    ax.axvline(results.horizon(SHORT), color="#888888", ls=":", lw=1)
    if marked:
        paper = "paper" + (" (its own protocol)" if results.reduced else "")
        ax.plot([], [], marker="D", color="#555555", ls="none", label=paper)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("test accuracy (%)")
    # accuracy rises to the right, and the paper's diamonds sit above our curves there
    return _finish(fig, ax, legend="lower right")


def gap_curves(results: Results, arms: list[str], reference: str):
    """Test accuracy (top) and test loss (bottom) per epoch, mean with a min-max band across
    seeds, for each arm with runs; diamonds mark the paper's accuracies of ``reference``."""
    matplotlib.rcParams.update(STYLE)
    fig = Figure(figsize=(WIDTH, 6.0), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True)
    drawn = 0
    for arm in arms:
        runs = results.epoch_losses[results.epoch_losses["arm"] == arm]
        if runs.empty:
            continue
        accs = [a for a in results.arm_runs(arm)["test_accuracy"] if len(a)]
        n = min(len(a) for a in accs)
        label = f"{arm} (n={len(accs)})"
        _band(top, [a[:n] for a in accs], label, marker="o", ms=3)
        losses = runs.pivot(index="seed", columns="epoch", values="test_loss").dropna(axis=1)
        _band(bottom, losses.to_numpy().tolist(), label, marker="o", ms=3)
        drawn += 1
    if not drawn:
        return empty_figure(f"No runs of {', '.join(arms)} yet.")
    for e in (SHORT, LONG):
        value = paper_accuracy(reference, e)
        label = f"paper: {reference}" if e == SHORT else None
        top.plot(results.horizon(e), value, marker="D", color="#cf222e", ms=7, ls="none",
                 label=label)  # fmt: skip
    top.set_ylabel("test accuracy (%)")
    bottom.set_ylabel("test loss")
    bottom.set_xlabel("epoch")
    bottom.xaxis.set_major_locator(MaxNLocator(integer=True))
    top.legend(fontsize=10)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return fig


def loss_curves(results: Results, arms: list[str], epochs: int, threshold: float | None = None):
    """Per-iteration training loss (smoothed), mean across seeds with a min-max band."""
    per_epoch = iterations_per_epoch(results)
    window = smoothing_window(per_epoch)
    fig, ax = _subplots(3.0)
    drawn = 0
    for arm in arms:
        runs = list(loss_runs(results, arm, epochs).values())
        if not runs:
            continue
        n = min(len(r) for r in runs)
        smoothed = [curves.smooth(r[:n], window) for r in runs]
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
    """The LR multiplier per epoch under each schedule (``architecture.lr_schedules``), at
    the protocol of ``profile``, named on the epoch axis in a reader's words."""
    fig, ax = _subplots(2.6)
    for label, factors in schedules.items():
        x = np.arange(len(factors))
        ax.step(x + 1, factors, where="post", marker="o", ms=3, label=label)
    protocol = "the paper's protocol" if profile == "paper" else f"our reduced {profile} proxy"
    ax.set_xlabel(f"epoch ({protocol})")
    ax.set_ylabel("LR / base LR")
    return _finish(fig, ax)


PROTOCOL_STYLE = [("#1f4e9c", "o"), ("#7a7a7a", "s"), ("#2da44e", "^")]


def forest_plot(protocols: list[Results]):
    """Each improvement claim's difference over the baseline with the primary family's
    simultaneous Welch CI (the one its verdict reads), one row per protocol with records,
    the paper's claimed difference beside it, zero marked."""
    shown = [(r, primary_family(r)) for r in protocols if not r.empty]
    claims = improvement_claims()
    if not shown:
        return empty_figure("No runs yet: no differences to plot.")
    fig, ax = _subplots(0.32 * len(claims) * (len(shown) + 1) + 1.8)
    step = 1.0 / (len(shown) + 1)
    for k, (r, family) in enumerate(shown):
        colour, marker = PROTOCOL_STYLE[k % len(PROTOCOL_STYLE)]
        label = f"ours: reduced {r.profile} proxy" if r.reduced else "ours: paper's protocol"
        for i, j in enumerate(family):
            c, y = j.comparison, i + (k + 1) * step
            if not finite(c.diff):
                continue
            if finite(c.ci_low) and finite(c.ci_high):
                ax.plot([c.ci_low, c.ci_high], [y, y], color=colour, lw=1.6)
            ax.plot(c.diff, y, marker=marker, color=colour, ms=6, ls="none", label=label)
            label = None
    ys = [i for i in range(len(claims))]
    ax.plot(
        [d for *_, d in claims],
        ys,
        marker="D",
        color="#cf222e",
        ms=6,
        ls="none",
        label="paper's claimed difference",
    )
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks([i + 0.5 - step / 2 for i in ys])
    # plain words, the table and length beneath: a reader need not know the arms' names
    ax.set_yticklabels([f"{CHANGE_NAMES[arm]}\nTable {t}, {e} epochs" for t, arm, e, _ in claims])
    ax.set_ylim(len(claims), -0.5)
    # two lines: beside the claims' long tick labels one line would run off the image
    ax.set_xlabel(
        f"accuracy points over the ResNet-34 baseline\n({ci_label(shown[0][1][0].alpha)})"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=10, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    return _finish(fig)
