"""Aggregation: records -> one DataFrame; malformed and stale records are named, never averaged."""

import json

import pytest

from lib import records
from lib.results import complete, load_results
from lib.runner import run_batch


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    run_batch("smoke", ["resnet34_selu"], [0, 1], executor="direct", results_dir=results)
    return results


def test_one_row_per_run_with_metrics_and_provenance(two_runs):
    frame = load_results("smoke", two_runs)
    assert list(frame["seed"]) == [0, 1] and set(frame["status"]) == {"complete"}
    row = frame.iloc[0]
    assert row["final_test_accuracy"] == row["test_accuracy"][-1]
    assert row["best_test_accuracy"] >= row["final_test_accuracy"]
    assert row["git_commit"] and row["device_name"] and row["torch"]
    assert len(row["iteration_losses"]) > 0
    # every field the book shows, so that nothing reads a record again
    record = records.read_record(row["path"])
    for column in ["python", "torchvision", "cuda", "torch_threads", "host", "platform"]:
        assert row[column] == record["provenance"][column], column
    assert row["dataset_sha256"] == record["dataset_sha256"]
    assert row["normalisation"] == record["normalisation"]


def test_malformed_record_is_named_and_excluded(two_runs, tmp_path):
    import shutil

    shutil.copytree(two_runs, tmp_path, dirs_exist_ok=True)
    bad = records.record_path(tmp_path, "smoke", "resnet34_selu", 1)
    bad.write_text(bad.read_text()[:200])  # a half-written file, as a crash without rename would
    frame = load_results("smoke", tmp_path)
    row = frame[frame["seed"] == 1].iloc[0]
    assert row["status"] == "malformed" and str(bad) in row["reason"]
    assert list(complete(frame)["seed"]) == [0]


def test_record_of_another_config_is_stale(two_runs, tmp_path):
    import shutil

    shutil.copytree(two_runs, tmp_path, dirs_exist_ok=True)
    path = records.record_path(tmp_path, "smoke", "resnet34_selu", 0)
    record = json.loads(path.read_text())
    record["config"]["width"] = 0.5  # as if produced by an older registry
    record["result_key"] = "0" * 16
    records.write_record(record, path)
    frame = load_results("smoke", tmp_path)
    assert frame.set_index("seed").loc[0, "status"] == "stale"
    assert list(complete(frame)["seed"]) == [1]
