"""lib.core.records: records carry provenance, are written atomically and read back whole."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from lib.core import records
from lib.core.config import RunConfig
from lib.core.records import MalformedRecord, read_record, record_path, write_record

CONFIG = RunConfig(arm="resnet34", seed=2, profile="smoke", epochs=2, width=0.125)
PROVENANCE = {"git_commit": "0" * 40, "git_dirty": False, "torch_threads": 2}
DATA = SimpleNamespace(
    sha256={"train-images-idx3-ubyte": "abc"}, source="/data", mean=0.286, std=0.353
)


def metrics(epoch: int, accuracy: float) -> dict:
    return {"epoch": epoch, "lr": 1e-3, "train_loss": 1.0, "test_loss": 1.0,
            "test_accuracy": accuracy, "elapsed_s": 1.0}  # fmt: skip


def finished(epochs: list[dict], config: RunConfig = CONFIG) -> dict:
    record = records.new_record(config, PROVENANCE, "fp32", engine="single", data=DATA)
    return records.finish_record(record, epochs, [2.3, 1.2], wall_time_s=3.0, images_per_s=100.0)


def tmp_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name != "record.json"]


def test_new_record_holds_config_data_and_provenance():
    record = records.new_record(CONFIG, PROVENANCE, "fp32", engine="single", data=DATA)
    assert record["status"] == "running" and record["reason"] is None
    # CONFIG asks for bf16 and this run trained in fp32: the stored config says what ran, the
    # key and precision_requested what was asked
    assert record["config"] == CONFIG.replace(precision="fp32").to_dict()
    assert record["result_key"] == CONFIG.result_key() and record["precision_requested"] == "bf16"
    assert (record["arm"], record["seed"], record["profile"]) == ("resnet34", 2, "smoke")
    assert record["dataset_sha256"] == DATA.sha256 and record["dataset_source"] == "/data"
    assert record["normalisation"] == {"mean": 0.286, "std": 0.353}
    assert all(key in record for key in records.REQUIRED if key != "epochs")


def test_a_run_in_the_precision_it_asked_for_stores_its_config_as_it_is():
    asked = CONFIG.replace(precision="fp32")
    record = records.new_record(asked, PROVENANCE, "fp32", engine="single", data=DATA)
    assert record["config"] == asked.to_dict() and "precision_requested" not in record


def test_finish_record_complete_and_best_epoch():
    record = finished([metrics(1, 80.0), metrics(2, 70.0)])
    assert record["status"] == "complete" and record["reason"] is None
    assert record["final_test_accuracy"] == 70.0
    assert (record["best_test_accuracy"], record["best_epoch"]) == (80.0, 1)
    assert record["iteration_losses"] == [2.3, 1.2]
    assert (record["wall_time_s"], record["images_per_s"]) == (3.0, 100.0)
    assert "finished_at" in record


def test_finish_record_with_missing_epochs_is_failed():
    record = finished([metrics(1, 80.0)])
    assert record["status"] == "failed" and record["reason"] == "stopped after 1/2 epochs"


def test_finish_record_keeps_an_earlier_failure():
    record = records.new_record(CONFIG, PROVENANCE, "fp32", engine="single", data=DATA)
    record.update(status="failed", reason="non-finite training loss at iteration 3 (epoch 1)")
    records.finish_record(record, [], [1.0, float("nan")], wall_time_s=1.0, images_per_s=0.0)
    assert record["status"] == "failed" and "non-finite" in record["reason"]
    assert record["final_test_accuracy"] is None and record["best_epoch"] is None


def test_failed_record_is_readable(tmp_path):
    record = records.failed_record(CONFIG, "killed by signal SIGKILL", "papermill", PROVENANCE)
    assert (record["status"], record["reason"], record["executor"]) == (
        "failed",
        "killed by signal SIGKILL",
        "papermill",
    )
    path = write_record(record, tmp_path / "record.json")
    assert read_record(path) == record


def test_record_path_layout(tmp_path):
    assert record_path(tmp_path, "cpu", "improved", 3) == (
        tmp_path / "cpu" / "improved" / "seed-3" / "record.json"
    )


def test_write_and_read_round_trip(tmp_path):
    record = finished([metrics(1, 80.0), metrics(2, 81.0)])
    record["iteration_losses"] += [float("nan"), float("inf")]  # a diverged run's losses
    path = write_record(record, tmp_path / "a" / "b" / "record.json")
    assert path == tmp_path / "a" / "b" / "record.json"
    back = read_record(path)
    assert back["epochs"] == record["epochs"] and back["config"] == record["config"]
    assert back["iteration_losses"] == [2.3, 1.2, None, None]  # strict JSON: null


def test_records_are_strict_json(tmp_path):
    record = finished([metrics(1, 80.0)])
    record["epochs"][0]["train_loss"] = float("nan")
    path = write_record(record, tmp_path / "record.json")

    def reject(literal):
        raise ValueError(f"non-standard JSON literal {literal}")

    back = json.loads(path.read_text(), parse_constant=reject)
    assert back["epochs"][0]["train_loss"] is None
    assert math.isnan(record["epochs"][0]["train_loss"])  # the caller's record is untouched
    assert oct(path.stat().st_mode & 0o777) == oct(0o644)
    assert tmp_files(path.parent) == []


def test_write_replaces_by_rename_of_a_complete_temp_file(tmp_path, monkeypatch):
    path = write_record(finished([metrics(1, 80.0), metrics(2, 81.0)]), tmp_path / "record.json")
    new = finished([metrics(1, 90.0), metrics(2, 91.0)])
    real_replace, seen = os.replace, {}

    def spy(src, dst):
        seen["src"], seen["dst"] = Path(src), Path(dst)
        seen["temp"] = json.loads(Path(src).read_text())
        seen["target"] = json.loads(Path(dst).read_text())
        real_replace(src, dst)

    monkeypatch.setattr(records.os, "replace", spy)
    write_record(new, path)
    assert seen["dst"] == path and seen["src"].parent == path.parent and seen["src"] != path
    assert seen["temp"]["final_test_accuracy"] == 91.0  # the whole new record, before rename
    assert seen["target"]["final_test_accuracy"] == 81.0  # the old one still in place
    assert read_record(path)["final_test_accuracy"] == 91.0
    assert tmp_files(tmp_path) == []


@pytest.mark.parametrize("error", [OSError("disk full"), KeyboardInterrupt()])
def test_interrupted_write_keeps_the_old_record_and_no_temp_file(tmp_path, monkeypatch, error):
    old = finished([metrics(1, 80.0), metrics(2, 81.0)])
    path = write_record(old, tmp_path / "record.json")
    before = path.read_bytes()

    def broken_dump(obj, f, **kwargs):
        f.write(json.dumps(obj)[:50])  # half a record reaches the temp file, then the writer dies
        raise error

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(type(error)):
        write_record(finished([metrics(1, 90.0), metrics(2, 91.0)]), path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert read_record(path) == json.loads(before)
    assert tmp_files(tmp_path) == []


def test_interrupted_first_write_leaves_nothing(tmp_path, monkeypatch):
    def broken_dump(obj, f, **kwargs):
        f.write("{")
        raise OSError("disk full")

    monkeypatch.setattr(json, "dump", broken_dump)
    with pytest.raises(OSError):
        write_record(finished([metrics(1, 80.0), metrics(2, 81.0)]), tmp_path / "record.json")
    assert list(tmp_path.iterdir()) == []


def _malformed(path: Path, match: str) -> None:
    with pytest.raises(MalformedRecord) as error:
        read_record(path)
    assert str(path) in str(error.value)
    assert match in str(error.value)


def test_invalid_json_is_malformed(tmp_path):
    path = tmp_path / "record.json"
    text = json.dumps(finished([metrics(1, 80.0), metrics(2, 81.0)]))
    path.write_text(text[: len(text) // 2])
    _malformed(path, "not readable JSON")


def test_missing_file_is_malformed(tmp_path):
    _malformed(tmp_path / "record.json", "not readable JSON")


def test_non_object_is_malformed(tmp_path):
    path = tmp_path / "record.json"
    path.write_text("[1, 2]")
    _malformed(path, "not a JSON object")


@pytest.mark.parametrize("key", records.REQUIRED)
def test_missing_key_is_malformed(tmp_path, key):
    record = finished([metrics(1, 80.0), metrics(2, 81.0)])
    del record[key]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    _malformed(path, f"missing {key}")


def test_complete_record_with_too_few_epochs_is_malformed(tmp_path):
    record = finished([metrics(1, 80.0), metrics(2, 81.0)])
    record["epochs"] = record["epochs"][:1]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    _malformed(path, "complete but has 1 epochs")


def test_failed_record_with_few_epochs_is_valid(tmp_path):
    record = finished([metrics(1, 80.0)])
    path = write_record(record, tmp_path / "record.json")
    assert read_record(path)["status"] == "failed"


def test_core_seconds_prefer_the_measured_cpu_time():
    record = {"wall_time_s": 100.0, "provenance": {"torch_threads": 2}}
    assert records.core_seconds(record) == 200.0  # no CPU time: wall x threads
    assert records.core_seconds({**record, "cpu_time_s": 150.0}) == 150.0
    assert records.core_seconds({**record, "wall_time_s": None}) is None  # never ran
    fused = {**record, "cpu_time_s": 150.0, "seeds_at_once": 3}  # one of 3 seeds in a process
    assert records.core_seconds(fused) == 50.0
