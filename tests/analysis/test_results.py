"""Aggregation: records -> one DataFrame; malformed, invalid and stale records are named, never
averaged. The records are copies of the fixture records (real smoke runs), edited the way a
hand, a bad copy or an old registry would: nothing here trains."""

import json
import shutil
from pathlib import Path

import pytest

from lib.analysis.results import complete, load_results
from lib.core import records, validate
from lib.core.arms import run_config
from lib.runs.rundirs import existing_state

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "results"


@pytest.fixture
def results(tmp_path) -> Path:
    """A private copy of the fixture records (real smoke runs of five arms, seeds 0 and 1)."""
    shutil.copytree(FIXTURES, tmp_path, dirs_exist_ok=True)
    return tmp_path


def path_of(results: Path, arm: str, seed: int) -> Path:
    return records.record_path(results, "smoke", arm, seed)


def edit(results: Path, arm: str, seed: int, change, to: int | None = None) -> Path:
    """Apply ``change`` to a copy of (arm, seed)'s record, written to seed ``to`` (default:
    in place); returns the written path."""
    record = json.loads(path_of(results, arm, seed).read_text())
    change(record)
    return records.write_record(record, path_of(results, arm, seed if to is None else to))


def as_seed(seed: int):
    """Make a record consistently claim ``seed``: identity, config and a recomputed key."""

    def change(record):
        record["seed"] = record["config"]["seed"] = seed
        record["result_key"] = validate.stored_config(record).result_key()

    return change


def row(frame, arm: str, seed: int):
    return frame[(frame["arm"] == arm) & (frame["seed"] == seed)].iloc[0]


def test_one_row_per_run_with_metrics_and_provenance():
    frame = load_results("smoke", FIXTURES)
    assert len(frame) == 10 and set(frame["status"]) == {"complete"}
    assert list(frame[frame["arm"] == "resnet34_selu"]["seed"]) == [0, 1]
    r = row(frame, "resnet34_selu", 0)
    assert r["final_test_accuracy"] == r["test_accuracy"][-1]
    assert r["best_test_accuracy"] >= r["final_test_accuracy"]
    assert r["git_commit"] and r["device_name"] and r["torch"]
    assert len(r["iteration_losses"]) > 0
    # every field the book shows, so that nothing reads a record again
    record = records.read_record(r["path"])
    for column in ["python", "torchvision", "cuda", "torch_threads", "host", "platform"]:
        assert r[column] == record["provenance"][column], column
    assert r["dataset_sha256"] == record["dataset_sha256"]
    assert r["normalisation"] == record["normalisation"]


def test_malformed_record_is_named_and_excluded(results):
    bad = path_of(results, "resnet34_selu", 1)
    bad.write_text(bad.read_text()[:200])  # a half-written file, as a crash without rename would
    frame = load_results("smoke", results)
    r = row(frame, "resnet34_selu", 1)
    assert r["status"] == "malformed" and str(bad) in r["reason"]
    assert list(complete(frame)[complete(frame)["arm"] == "resnet34_selu"]["seed"]) == [0]


def test_a_record_of_another_config_is_stale(results):
    def older_registry(record):
        record["config"]["width"] = 0.5  # as if produced by an older registry, key and all
        record["result_key"] = validate.stored_config(record).result_key()

    edit(results, "resnet34_selu", 0, older_registry)
    frame = load_results("smoke", results)
    r = row(frame, "resnet34_selu", 0)
    assert r["status"] == "stale" and "differs from today's registry" in r["reason"]
    assert "resnet34_selu" not in set(complete(frame)[complete(frame)["seed"] == 0]["arm"])


# The tampered records of issue 15: each loaded as complete and averaged in before.
TAMPERED = {
    "accuracy of 150 %": (
        lambda r: (
            r["epochs"][-1].update(test_accuracy=150.0)
            or r.update(final_test_accuracy=150.0, best_test_accuracy=150.0)
        ),
        "not a percentage in [0, 100]",
    ),
    "config edited under its stored key": (
        lambda r: r["config"].update(width=0.5, activation="selu"),
        "is not its config's",
    ),
    "final accuracy not the last epoch's": (
        lambda r: r.update(final_test_accuracy=99.0),
        "final_test_accuracy 99.0 is not its epochs' final",
    ),
    "more epochs than its config": (
        lambda r: r.update(status="failed", epochs=[*r["epochs"], {**r["epochs"][-1], "epoch": 3}]),
        "3 epochs, more than its config's 2",
    ),
    "epochs renumbered": (
        lambda r: r["epochs"][0].update(epoch=5),
        "not numbered 1..n",
    ),
    "iteration losses cut": (
        lambda r: r.update(iteration_losses=r["iteration_losses"][:-3]),
        "iteration losses, its 2 epochs take",
    ),
    "other data": (
        lambda r: r["dataset_sha256"].update({"t10k-labels-idx1-ubyte": "0" * 64}),
        "dataset checksums are not the pinned",
    ),
    "identity unlike the config": (
        lambda r: r.update(seed=1),
        "seed 1 differs from its config's 0",
    ),
}


@pytest.mark.parametrize("case", list(TAMPERED))
def test_a_record_that_does_not_hold_together_is_invalid_and_rerun(case, results):
    change, reason = TAMPERED[case]
    path = edit(results, "improved", 0, change)
    frame = load_results("smoke", results)
    r = frame[frame["path"] == str(path)].iloc[0]
    counted = complete(frame)
    assert list(counted[counted["arm"] == "improved"]["seed"]) == [1]
    assert r["status"] == "invalid" and reason in r["reason"], r["reason"]
    assert r["path"] == str(path)
    # the runner treats it as stale and trains it again
    state, detail = existing_state(results, run_config("improved", "smoke", 0))
    assert state == "stale" and reason in detail


def test_a_copy_into_another_seed_folder_is_invalid_and_the_original_counts(results):
    """Issue 15: seed 0's record copied into seed 1's folder gave n = 2 with sd 0."""
    shutil.copy(path_of(results, "improved", 0), path_of(results, "improved", 1))
    frame = load_results("smoke", results)
    copy = frame[frame["path"] == str(path_of(results, "improved", 1))].iloc[0]
    assert copy["seed"] == 0  # what the copy says
    assert copy["status"] == "invalid" and "lies in smoke/improved/seed-1" in copy["reason"]
    assert row(frame, "improved", 0)["status"] == "complete"
    assert existing_state(results, run_config("improved", "smoke", 1))[0] == "stale"
    assert existing_state(results, run_config("improved", "smoke", 0))[0] == "complete"


def test_consistent_copies_are_duplicates_and_none_of_them_counts(results):
    """A copy made to claim another seed (identity, config and key rewritten) holds
    together on its own; only its iteration losses, equal to the original's, give it away.
    Which one is the original the records cannot say: both are left out."""
    copy = edit(results, "improved", 0, as_seed(2), to=2)
    original = path_of(results, "improved", 0)
    frame = load_results("smoke", results)
    for seed, other in ((0, copy), (2, original)):
        r = row(frame, "improved", seed)
        assert r["status"] == "invalid" and f"same iteration losses as {other}" in r["reason"]
    assert row(frame, "improved", 1)["status"] == "complete"
    assert existing_state(results, run_config("improved", "smoke", 2))[0] == "stale"
    assert existing_state(results, run_config("improved", "smoke", 1))[0] == "complete"


def test_overrides_name_the_config_a_test_ran(results):
    """Records run with an override (tests: epochs=1) are current for that override only."""

    def one_epoch(record):
        record["epochs"] = record["epochs"][:1]
        record["iteration_losses"] = record["iteration_losses"][:16]
        record["config"]["epochs"] = 1
        record["final_test_accuracy"] = record["best_test_accuracy"] = record["epochs"][0][
            "test_accuracy"
        ]
        record["result_key"] = validate.stored_config(record).result_key()

    edit(results, "resnet34_selu", 1, one_epoch)
    assert row(load_results("smoke", results), "resnet34_selu", 1)["status"] == "stale"
    frame = load_results("smoke", results, epochs=1)
    assert row(frame, "resnet34_selu", 1)["status"] == "complete"
    assert row(frame, "resnet34_selu", 0)["status"] == "stale"  # 2 epochs: not this config


def test_every_committed_record_is_valid():
    """The records under results/ (cpu profile, the paper campaign so far) hold together."""
    for profile in ("cpu", "paper", "smoke"):
        frame = load_results(profile)
        bad = frame[frame["status"].isin(["invalid", "malformed"])]
        assert bad.empty, bad[["path", "reason"]].to_string()
