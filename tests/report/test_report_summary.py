"""lib.report.summary: the reproducibility summary's scope, compute spent and compute left."""

from __future__ import annotations

import json

from lib.core.arms import ARMS
from lib.report import summary
from lib.report.formatting import num
from lib.report.results import campaign_left, every_profile
from lib.runs import campaign


def test_scope_counts_the_papers_claims_and_our_extra_arms():
    assert summary.scope() == {
        "improvements": "5", "accuracies": "7", "convergence": "3", "controls": str(len(ARMS) - 5),
    }  # fmt: skip


def test_compute_table_sums_every_records_core_hours(fixtures):
    table = summary.compute_table(every_profile(fixtures)).set_index("Profile")
    assert list(table.index) == ["smoke"]  # the fixtures hold only smoke records
    paths = sorted(fixtures.glob("smoke/*/seed-*/record.json"))
    hours = 0.0
    for path in paths:
        r = json.loads(path.read_text())
        seconds = r.get("cpu_time_s") or r["wall_time_s"] * r["provenance"]["torch_threads"]
        hours += seconds / 3600
    assert table.loc["smoke", "Records"] == len(paths)
    assert table.loc["smoke", "Core-hours spent"] == num(hours)


def test_remaining_text_counts_the_campaigns_plan(fixtures):
    planned = len(campaign.campaign_plan())
    # no paper records there, and no bench to time the arms by
    text = summary.remaining_text(campaign_left(fixtures))
    assert f"**{planned} of {planned} planned runs**" in text
    assert "estimated once a run of each arm has been timed" in text
