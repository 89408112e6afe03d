"""lib.core.validate: a readable record that does not hold together is named, and so is a copy."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from test_records import (  # tests/core/test_records.py: one record's makings
    CONFIG,
    DATA,
    PROVENANCE,
    metrics,
)

from lib.core import records, validate
from lib.core.records import record_path


@pytest.mark.parametrize("subset, batch", [(2000, 128), (8000, 128), (60000, 128), (129, 128)])
def test_steps_per_epoch_are_the_trainers(subset, batch):
    from lib.training.train import training_batches

    config = CONFIG.replace(train_subset=subset, batch_size=batch)
    assert validate.iterations_per_epoch(config) == len(training_batches(config, 0))


def test_problems_of_a_record_that_holds_together_and_of_one_that_does_not(tmp_path):
    from lib.model.data import FILES

    pinned = SimpleNamespace(**{**vars(DATA), "sha256": {n: s for n, (s, _) in FILES.items()}})
    record = records.new_record(CONFIG, PROVENANCE, "fp32", engine="single", data=pinned)
    losses = [1.0] * 2 * validate.iterations_per_epoch(CONFIG)
    records.finish_record(record, [metrics(1, 50.0), metrics(2, 60.0)], losses, 3.0, 100.0)
    path = record_path(tmp_path, "smoke", "resnet34", 2)
    assert validate.problems(record, path) == []
    assert validate.problems(record) == []  # no folder to compare with
    elsewhere = record_path(tmp_path, "smoke", "resnet34", 3)
    assert validate.problems(record, elsewhere) == [
        "lies in smoke/resnet34/seed-3 but is the record of smoke/resnet34/seed-2 (copied or moved)"
    ]
    record["config"]["bogus"] = 1
    assert "not a valid run config" in validate.problems(record, path)[0]


def test_duplicates_name_every_copy_within_an_arm():
    runs = [("a0", "a", [1.0, 2.0]), ("a1", "a", [1.0, 2.0]), ("a2", "a", [1.0, 2.5]),
            ("b0", "b", [1.0, 2.0]), ("a3", "a", []), ("a4", "a", [])]  # fmt: skip
    assert validate.duplicates(runs) == {"a0": ["a1"], "a1": ["a0"]}
