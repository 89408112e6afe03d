"""Figs 4-6 measured: how fast and how smoothly one arm's training loss falls against another's."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib import stats
from lib.report.claims import CONVERGENCE_CLAIMS, LAST_EPOCH_SD, MEAN_LOSS, REACH
from lib.report.formatting import CI, code, interval, mean_sd, num, p_value, verdict_html
from lib.report.results import Results


def loss_runs(results: Results, arm: str, epochs: int) -> list[np.ndarray]:
    """Per-seed per-iteration training losses over the first ``epochs`` epochs."""
    out = []
    for _, row in results.arm_runs(arm).iterrows():
        losses = np.asarray(row["iteration_losses"], dtype=float)
        if row["epochs_run"] < epochs or not len(losses):
            continue
        per_epoch = len(losses) // row["epochs_run"]
        out.append(losses[: per_epoch * epochs])
    return out


def iterations_per_epoch(results: Results) -> int:
    for _, row in results.runs.iterrows():
        if row["epochs_run"] and len(row["iteration_losses"]):
            return len(row["iteration_losses"]) // row["epochs_run"]
    return 0


def smoothing_window(per_epoch: int) -> int:
    """The moving-average window of the loss curves: a fifth of an epoch."""
    return max(1, per_epoch // 5)


def convergence(results: Results, arm: str, baseline: str, epochs: int) -> dict:
    """Measured "faster / smoother convergence" of ``arm`` over ``baseline``.

    Over the first ``epochs`` epochs: iterations until the smoothed loss first reaches a
    level every run of both arms reaches; the mean training loss (area under the curve,
    lower = faster); and the sd of the per-iteration loss over the last epoch (lower =
    less fluctuation). Each is compared with a Welch test.
    """
    per_epoch = iterations_per_epoch(results)
    window = smoothing_window(per_epoch)
    runs = {a: loss_runs(results, a, epochs) for a in (arm, baseline)}
    threshold = stats.common_threshold(runs[arm] + runs[baseline], window)
    # measure -> (per-run value, the claimed sign of the difference, digits shown)
    measures = {
        REACH: (lambda r: stats.iterations_to_reach(r, threshold, window), -1, 0),
        MEAN_LOSS: (lambda r: float(np.mean(r)), -1, 3),
        LAST_EPOCH_SD: (lambda r: stats.last_epoch_sd(r, per_epoch), -1, 3),
    }
    rows, comparisons = [], {}
    for name, (fn, sign, digits) in measures.items():
        a = [fn(r) for r in runs[arm]]
        b = [fn(r) for r in runs[baseline]]
        c = stats.welch(a, b)
        comparisons[name] = (c, stats.direction_verdict(c, sign))
        rows.append(
            {
                "Measure": name,
                code(baseline): mean_sd(stats.summarise(b), digits),
                code(arm): mean_sd(stats.summarise(a), digits),
                "Difference": num(c.diff, digits, sign=True),
                CI: interval(c.ci_low, c.ci_high, digits, sign=True),
                "Welch p": p_value(c.p),
                "Claim holds?": verdict_html(comparisons[name][1]),
            }
        )
    return {
        "table": pd.DataFrame(rows),
        "comparisons": comparisons,
        "threshold": threshold,
        "window": window,
        "epochs": epochs,
        "per_epoch": per_epoch,
    }


def convergence_claims(results: Results) -> pd.DataFrame:
    """The qualitative claims of Figs 4-6, each measured (see ``convergence``)."""
    rows, cache = [], {}
    for claim in CONVERGENCE_CLAIMS:
        epochs = results.horizon(claim.paper_epochs)
        key = (claim.arm, claim.baseline, epochs)
        if key not in cache:
            cache[key] = convergence(results, claim.arm, claim.baseline, epochs)
        c, verdict = cache[key]["comparisons"][claim.measure]
        digits = 0 if claim.measure == REACH else 3
        rows.append(
            {
                "Figure": claim.figure,
                "Claim": claim.claim,
                "Measured as": f"{claim.measure} ({code(claim.arm)} − {code(claim.baseline)}, "
                f"{epochs} epochs)",
                "Ours": num(c.diff, digits, sign=True),
                CI: interval(c.ci_low, c.ci_high, digits, sign=True),
                "Welch p": p_value(c.p),
                "Verdict": verdict_html(verdict),
            }
        )
    return pd.DataFrame(rows)
