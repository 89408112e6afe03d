"""lib.runs.campaign and the runner's anytime order: what runs when, what a status and a commit
see."""

from __future__ import annotations

import json

import pytest
from paper_records import other_precision, put_record

from lib.core import records
from lib.core.arms import run_config
from lib.core.plan import PAPER_ARMS, planned_runs
from lib.core.repo import REPO
from lib.runs import campaign
from lib.runs.estimates import precision_here
from lib.runs.rundirs import run_dir
from lib.runs.runner import plan
from lib.training import checkpoint

REPO = REPO


def test_seed_order_runs_every_arm_of_a_seed_cheapest_first():
    configs = plan("paper", PAPER_ARMS, [0, 1], order="seed")
    assert [c.seed for c in configs] == [0] * 5 + [1] * 5
    assert [c.arm for c in configs[:5]] == [
        "resnet34_selu",  # 10 epochs at 7x7
        "resnet34",  # 20 epochs (Table 2)
        "resnet34_lr",
        "resnet34_inception",  # 28x28 through the first stage
        "improved",  # the same plus projection shortcuts
    ]
    assert [c.arm for c in configs[5:]] == [c.arm for c in configs[:5]]


def test_arm_order_is_the_default_and_other_orders_are_errors():
    configs = plan("paper", ["resnet34", "resnet34_selu"], [0, 1])
    assert [(c.arm, c.seed) for c in configs] == [
        ("resnet34", 0), ("resnet34", 1), ("resnet34_selu", 0), ("resnet34_selu", 1)
    ]  # fmt: skip
    with pytest.raises(ValueError, match="arm or seed"):
        plan("paper", ["resnet34"], [0], order="random")


def test_the_plan_orders_runs_by_what_they_decide():
    configs = campaign.campaign_plan()
    assert len(configs) == 15 + 6 + 6 + 4 + 21 + 10 and {c.profile for c in configs} == {"paper"}
    first = configs[:15]
    assert {c.arm for c in first} == set(PAPER_ARMS) and {c.seed for c in first} == {
        0, 1, 2
    }  # fmt: skip
    assert {c.arm for c in configs[15:21]} == {"resnet34_plainstem", "resnet34_projection"}
    readings = configs[21:27]
    assert [(c.arm, c.seed) for c in readings] == [
        ("resnet34_augment", 0),
        ("resnet34_augment", 1),
        ("resnet34_augment", 2),
        ("resnet34_batch32", 0),
        ("resnet34_batch32", 1),
        ("resnet34_batch32", 2),
    ]  # fmt: skip  (the cheaper reading first)
    assert {c.epochs for c in readings} == {20}  # their 10-epoch cells come from the same runs
    table4 = configs[27:31]
    assert {(c.arm, c.seed) for c in table4} == {
        (arm, seed) for arm in ("resnet34_inception", "improved") for seed in (3, 4)
    }
    assert {c.arm for c in configs[31:52]} == {"resnet34", "resnet34_lr", "resnet34_selu"}
    assert {c.seed for c in configs[31:]} == set(range(3, 10))
    assert len({(c.arm, c.seed) for c in configs}) == len(configs)  # no run twice
    assert all(c.width == 1 and c.train_subset == 60_000 for c in configs)
    assert {c.epochs for c in first if c.arm in ("resnet34", "resnet34_lr")} == {20}


def test_table_counts_complete_checkpointed_and_missing_runs(tmp_path):
    put_record(tmp_path, "resnet34_selu", 0)  # 1 h for 10 epochs
    config = run_config("resnet34", "paper", 0)
    saved = checkpoint.path_for(run_dir(tmp_path, config))
    checkpoint.save(
        saved,
        [config],
        precision_here(config),
        {"progress": {"epoch_seconds": [1.0] * 4, "partial": {"steps": 1, "of": 4}}},
    )  # a quarter into epoch 5
    rows = campaign.table(campaign.campaign_plan()[:3], tmp_path).set_index("arm")
    assert list(rows.state) == ["complete", "in progress", "missing"]
    assert list(rows["epochs done"]) == ["10/10", "4.25/20", "0/20"]
    assert rows.loc["resnet34_selu", "core-hours left"] == 0
    # resnet34 (20 epochs, same FLOPs per epoch as resnet34_selu up to the activation):
    # 15.75 epochs left at about 0.1 h each, scaled by nominal FLOPs
    assert rows.loc["resnet34", "core-hours left"] == pytest.approx(1.575, rel=0.02)


def test_table_leaves_time_unknown_without_a_record_of_this_machines_precision(tmp_path):
    other = other_precision()
    put_record(tmp_path, "resnet34_selu", 0, precision=other)
    rows = campaign.table(campaign.campaign_plan()[:3], tmp_path).set_index("arm")
    assert rows.loc["resnet34_selu", "core-hours left"] == 0  # complete: nothing left
    assert rows.loc[["resnet34", "resnet34_lr"], "core-hours left"].isna().all()
    assert campaign.UNMEASURED in campaign.status(tmp_path)


@pytest.mark.parametrize("across_chunks", [False, True])
def test_a_chunk_defers_runs_longer_than_its_budget_unless_across_chunks(
    across_chunks, tmp_path, monkeypatch
):
    import lib.runs.runner

    put_record(tmp_path, "resnet34_selu", 0)  # 360 core-seconds per epoch
    selu_1 = run_config("resnet34_selu", "paper", 1)
    plan = [run_config("resnet34_selu", "paper", 0), selu_1]  # seed 0 complete: timed
    monkeypatch.setattr(campaign, "campaign_plan", lambda: plan)
    given = {}
    monkeypatch.setattr(lib.runs.runner, "run_batch", lambda *a, **kw: given.update(kw) or [])
    assert campaign.run(600, tmp_path, jobs=2, across_chunks=across_chunks) == 0
    expected = given["expected_seconds"]
    if across_chunks:  # always started: it pauses at the budget, checkpointed in its epoch
        assert expected(selu_1) is None
    else:  # 10 epochs on one thread: an hour, longer than the 10-minute budget
        assert expected(selu_1) == pytest.approx(3600)


def test_status_names_each_stage_and_whether_a_chunk_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(campaign, "CAMPAIGN_DIR", tmp_path / ".campaign")
    monkeypatch.setattr(campaign, "running_chunks", lambda: {})
    put_record(tmp_path, "resnet34_selu", 0)
    text = campaign.status(tmp_path)
    assert "no chunk running" in text
    assert "stage 1: paper arms, seeds 0-2: 1/15 complete" in text
    assert "stage 3: readings of unstated details, seeds 0-2: 0/6 complete" in text
    assert "stage 6: Table 4 arms, seeds 5-9: 0/10 complete" in text


def test_only_complete_clean_current_records_are_committable(tmp_path):
    put_record(tmp_path, "resnet34_selu", 0)
    put_record(tmp_path, "resnet34", 0, status="failed", reason="killed")
    dirty = put_record(tmp_path, "resnet34_lr", 0)
    record = json.loads(dirty.read_text())
    record["provenance"]["git_dirty"] = True
    records.write_record(record, dirty)
    put_record(tmp_path, "resnet34_inception", 0, result_key="0123456789abcdef")  # stale
    ready = campaign.committable(tmp_path)
    assert [(c.arm, c.seed) for c in ready] == [("resnet34_selu", 0)]


def test_the_campaign_runs_the_plan_the_report_counts():
    """lib.core.plan's (arm, seed) list is the campaign's, in the campaign's stage order."""
    ordered = [(c.arm, c.seed) for c in campaign.campaign_plan()]
    assert sorted(ordered) == sorted(planned_runs()) and len(set(ordered)) == len(ordered)
