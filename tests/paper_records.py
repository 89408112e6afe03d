"""Paper-profile records for the campaign's tests, made from a real record (no training)."""

from __future__ import annotations

import json
from pathlib import Path

from lib.core import records
from lib.core.arms import run_config
from lib.core.repo import REPO
from lib.runs import estimates
from lib.training.train import training_batches

CPU_RECORD = REPO / "results" / "cpu" / "resnet34_selu" / "seed-0" / "record.json"


def other_precision(arm: str = "resnet34") -> str:
    """The precision this machine does not train in (records of it give it no speed)."""
    return {"bf16": "fp32", "fp32": "bf16"}[estimates.precision_here(run_config(arm, "paper", 0))]


def put_record(results: Path, arm: str, seed: int, **changes) -> Path:
    """A copy of a real record, rewritten as the paper-profile record of (arm, seed)."""
    record = json.loads(CPU_RECORD.read_text())
    config = run_config(arm, "paper", seed)
    record.update(arm=arm, seed=seed, profile="paper", config=config.to_dict())
    record.update(result_key=config.result_key(), wall_time_s=3600.0 * config.epochs / 10)
    record.update(precision=estimates.precision_here(config))  # as trained on this machine
    record["provenance"]["torch_threads"] = 1
    epochs = [  # 360 s each
        dict(record["epochs"][0], epoch=e + 1, elapsed_s=360.0 * (e + 1))
        for e in range(config.epochs)
    ]
    steps = len(training_batches(config, 0)) * config.epochs
    records.finish_record(record, epochs, [2.0 + seed] * steps, record["wall_time_s"], 1.0)
    record.update(changes)
    path = records.record_path(results, "paper", arm, seed)
    records.write_record(record, path)
    return path
