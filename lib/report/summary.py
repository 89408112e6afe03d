"""The reproducibility summary's numbers (ML Reproducibility Challenge shape): what the
replication covers, the compute its records spent and what the paper campaign still needs."""

from __future__ import annotations

import pandas as pd

from lib.core.arms import ARMS
from lib.report.claims import (
    CONVERGENCE_CLAIMS,
    TABLE_ARMS,
    accuracy_claims,
    improvement_claims,
)
from lib.report.formatting import made_by, num


def scope() -> dict[str, str]:
    """How many claims of each kind, and how many arms beyond the paper's tables."""
    return {
        "improvements": str(len(improvement_claims())),
        "accuracies": str(len(accuracy_claims())),
        "convergence": str(len(CONVERGENCE_CLAIMS)),
        "controls": str(len(ARMS) - len(TABLE_ARMS) - 1),  # neither the baseline nor a table arm
    }


def core_hours(frame: pd.DataFrame) -> pd.Series:
    """Per record, one-core hours (``lib.core.records.core_seconds``)."""
    return frame["core_seconds"].astype(float) / 3600


@made_by
def compute_table(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per profile with records (``results.every_profile``): every record, any status, and
    the core-hours they spent."""
    rows = []
    for profile, frame in frames.items():
        device = "; ".join(sorted(frame["device_name"].dropna().astype(str).unique()))
        rows.append(
            {
                "Profile": profile,
                "Records": len(frame),
                "Complete and current": int((frame["status"] == "complete").sum()),
                "Core-hours spent": num(core_hours(frame).sum()),
                "Where": device,
            }
        )
    return pd.DataFrame(rows)


def remaining_phrase(plan: pd.DataFrame) -> str:
    """The runs of the paper's protocol left (``results.campaign_left``) and their estimated
    cost: '**30 of 62 planned runs** still to do: about **159 core-hours** (...)'."""
    left = plan[plan["state"] != "complete"]
    if left.empty:
        return f"all {len(plan)} planned runs done"
    hours = left["core-hours left"]
    cost = (
        f"about **{num(hours.sum(), 0)} core-hours** ({num(hours.sum() / 2, 0)} h on a "
        "2-core CPU like ours, from the fastest epoch timed per arm)"
        if hours.notna().all()
        else "a cost that is estimated once a run of each arm has been timed"
    )
    return f"**{len(left)} of {len(plan)} planned runs** still to do: {cost}"


def remaining_text(plan: pd.DataFrame) -> str:
    """The paper campaign's runs left and their cost, with the command that runs them."""
    return f"The paper campaign (`python -m lib campaign`): {remaining_phrase(plan)}."
