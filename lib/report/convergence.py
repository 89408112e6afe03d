"""Figs 4-6 measured: how fast and how smoothly one arm's training loss falls against another's.

Each claim has one measure, stated before its numbers (``lib.report.claims``):
"faster" is the iterations until the smoothed loss first reaches a level every run of
both arms reaches; "less fluctuation" is the sd of the log loss over the last epoch,
i.e. the fluctuation relative to the loss level (decay lowers the loss itself several
fold, which would shrink a raw sd mechanically). Both are exploratory: the paper gives no
number, so each is judged as a direction (lower is the claim). Beside the sensitivity
analyses of every verdict, "less fluctuation" is also judged on the raw sd, the
fluctuation a linear plot like the paper's shows (``SECOND_MEASURE``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib.analysis import curves, sensitivity, stats
from lib.report.claims import CONVERGENCE_CLAIMS, LOG_SD, RAW_SD, REACH, SECOND_MEASURE
from lib.report.formatting import CI, code, interval, made_by, mean_sd, num, p_value
from lib.report.results import Results
from lib.report.tables import protocol_name, sensitivity_cell, verdict_cell
from lib.report.verdicts import disagreements

CLAIMED = -1  # both measures are lower when the claim holds
# measure -> (unit, digits shown)
UNITS = {REACH: ("iterations", 0), LOG_SD: ("(sd of log loss)", 3), RAW_SD: ("(sd of loss)", 4)}

DIFFERENCE = f"Difference ({CI})"  # ours minus the baseline, its interval and Welch p


def loss_runs(results: Results, arm: str, epochs: int) -> dict[int, np.ndarray]:
    """Per-iteration training losses over the first ``epochs`` epochs, by seed."""
    out = {}
    for _, row in results.arm_runs(arm).iterrows():
        losses = np.asarray(row["iteration_losses"], dtype=float)
        if row["epochs_run"] < epochs or not len(losses):
            continue
        per_epoch = len(losses) // row["epochs_run"]
        out[int(row["seed"])] = losses[: per_epoch * epochs]
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
    """The convergence claims about ``arm`` over ``baseline``, measured over the first
    ``epochs`` epochs; each measure compared with Welch and judged as a direction."""
    per_epoch = iterations_per_epoch(results)
    window = smoothing_window(per_epoch)
    runs = {a: loss_runs(results, a, epochs) for a in (arm, baseline)}
    threshold = curves.common_threshold([*runs[arm].values(), *runs[baseline].values()], window)
    per_run = {
        REACH: lambda r: curves.iterations_to_reach(r, threshold, window),
        LOG_SD: lambda r: curves.last_epoch_log_sd(r, per_epoch),
        RAW_SD: lambda r: curves.last_epoch_sd(r, per_epoch),
    }

    def measured(measure: str) -> tuple[dict, dict]:
        return tuple(
            {seed: per_run[measure](r) for seed, r in runs[a].items()} for a in (arm, baseline)
        )

    rows, judged, second = [], {}, {}
    for claim in CONVERGENCE_CLAIMS:
        if (claim.arm, claim.baseline) != (arm, baseline):
            continue
        unit, digits = UNITS[claim.measure]
        a, b = measured(claim.measure)
        judged[claim.measure] = assessment = stats.assess(
            list(a.values()), list(b.values()), stats.Rule(direction=CLAIMED)
        )
        analyses = sensitivity.verdicts(a, b, stats.Rule(direction=CLAIMED))
        if claim.measure in SECOND_MEASURE:
            name = SECOND_MEASURE[claim.measure]
            other = stats.assess(
                *(list(v.values()) for v in measured(name)), stats.Rule(direction=CLAIMED)
            )
            second[claim.measure] = (name, other)
            analyses.append((name, other.verdict))
        c = assessment.comparison
        rows.append(
            {
                "Claim": claim.claim,
                "Measured as": claim.measure,
                code(baseline): mean_sd(stats.summarise(list(b.values())), digits),
                code(arm): mean_sd(stats.summarise(list(a.values())), digits),
                DIFFERENCE: f"{num(c.diff, digits, sign=True)} "
                f"{interval(c.ci_low, c.ci_high, digits, sign=True)}<br>"
                f"<small>Welch p {p_value(c.p)}</small>",
                "Verdict (exploratory)": verdict_cell(
                    results, assessment.verdict, assessment, unit, digits
                ),
                "Sensitivity": sensitivity_cell(
                    assessment.verdict, disagreements(assessment.verdict, analyses)
                ),
            }
        )
    return {
        "table": pd.DataFrame(rows),
        "judged": judged,
        "second": second,  # measure -> (its second measure, that measure's assessment)
        "threshold": threshold,
        "window": window,
        "epochs": epochs,
        "per_epoch": per_epoch,
    }


@made_by
def convergence_claims(protocols: list[Results]) -> pd.DataFrame:
    """The qualitative claims of Figs 4-6, each measured (see ``convergence``): one row per
    claim and protocol with records (the first protocol's when none has any)."""
    shown = [r for r in protocols if not r.empty] or protocols[:1]
    rows, cache = [], {}
    for claim in CONVERGENCE_CLAIMS:
        for i, results in enumerate(shown):
            epochs = results.horizon(claim.paper_epochs)
            key = (i, claim.arm, claim.baseline, epochs)  # LR decay's two claims: one measuring
            if key not in cache:
                cache[key] = convergence(results, claim.arm, claim.baseline, epochs)
            row = cache[key]["table"].set_index("Claim").loc[claim.claim]
            rows.append(
                {
                    "Figure": claim.figure,
                    "Claim": claim.claim,
                    "Protocol": protocol_name(results),
                    "Measured as": f"{claim.measure} ({code(claim.arm)} − "
                    f"{code(claim.baseline)}, {epochs} epochs)",
                    **row[[DIFFERENCE, "Verdict (exploratory)", "Sensitivity"]],
                }
            )
    return pd.DataFrame(rows)
