"""Run records: one JSON file per run, with full provenance, written atomically; torch-free
(the provenance comes from ``lib.training.provenance``).

A record holds the config, per-epoch metrics, per-iteration training losses, the final
and best test accuracy, timing and where and with what it ran. ``load_results`` turns a
profile's records into the one DataFrame the book reads.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import tempfile
from pathlib import Path

from lib.core.config import RunConfig

SCHEMA = 1
REQUIRED = ("schema", "config", "result_key", "status", "epochs", "provenance")


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _identity(config: RunConfig, status: str, reason: str | None) -> dict:
    """The fields every record starts with: which run it is and how it ended."""
    return {
        "schema": SCHEMA,
        "arm": config.arm,
        "seed": config.seed,
        "profile": config.profile,
        "config": config.to_dict(),
        "result_key": config.result_key(),
        "status": status,
        "reason": reason,
    }


def new_record(config: RunConfig, provenance: dict, precision: str, engine: str, data) -> dict:
    """A record in progress: status ``running`` until ``finish_record``.

    ``precision`` is the one that runs. Where the hardware turned a requested bf16 into fp32,
    the stored config says fp32 (what a reader of the record looks at) and
    ``precision_requested`` keeps the request, which the result key is computed from: the
    experiment is the same one, whatever the machine could do.
    """
    identity = _identity(config, "running", None)
    if precision != config.precision:
        identity["config"]["precision"] = precision
        identity["precision_requested"] = config.precision
    return {
        **identity,
        "engine": engine,  # the training loop: single | fused (several seeds in one model)
        "executor": "direct",  # who ran it: direct | papermill (set by the runner)
        "precision": precision,
        "dataset_sha256": data.sha256,
        "dataset_source": data.source,
        "normalisation": {"mean": data.mean, "std": data.std},
        "provenance": provenance,  # lib.training.provenance: where and with what it ran
        "started_at": _now(),
    }


def finish_record(
    record: dict,
    epochs: list[dict],
    iteration_losses: list[float],
    wall_time_s: float,
    images_per_s: float,
) -> dict:
    """Fill in results; a run that did not fail and finished every epoch is complete."""
    planned = record["config"]["epochs"]
    if record["status"] == "running":
        if len(epochs) == planned:
            record["status"] = "complete"
        else:
            record.update(status="failed", reason=f"stopped after {len(epochs)}/{planned} epochs")
    accuracies = [e["test_accuracy"] for e in epochs]
    best = max(range(len(accuracies)), key=accuracies.__getitem__) if accuracies else None
    record.update(
        epochs=epochs,
        iteration_losses=iteration_losses,
        final_test_accuracy=accuracies[-1] if accuracies else None,
        best_test_accuracy=accuracies[best] if accuracies else None,  # test-set selected
        best_epoch=epochs[best]["epoch"] if accuracies else None,
        wall_time_s=wall_time_s,
        images_per_s=images_per_s,
        finished_at=_now(),
    )
    return record


def ended_by_training(record: dict) -> bool:
    """Whether the training loop itself ended the run (complete, or failed on a NaN loss)
    rather than a process that died or raised: only then is the run's checkpoint spent."""
    return "iteration_losses" in record


def failed_record(config: RunConfig, reason: str, executor: str, provenance: dict) -> dict:
    """The record of a run that died before it could write its own (exception, kill)."""
    return {
        **_identity(config, "failed", reason),
        "executor": executor,
        "epochs": [],
        "provenance": provenance,
        "finished_at": _now(),
    }


def core_seconds(record: dict) -> float | None:
    """The compute a run took, in one-core seconds: its measured CPU time where the record has
    one (records since the campaign), else wall time x torch threads (an upper bound: the
    threads may have waited); None for a record with neither (a run that never started).
    A run trained fused with others (``seeds_at_once`` N) gets its share, 1/N of the
    process's, so that the records of a group add up to what the group took."""
    share = 1 / record.get("seeds_at_once", 1)
    if record.get("cpu_time_s") is not None:
        return float(record["cpu_time_s"]) * share
    wall, threads = record.get("wall_time_s"), record["provenance"].get("torch_threads")
    return None if wall is None or threads is None else float(wall) * threads * share


def record_path(results_dir: Path, profile: str, arm: str, seed: int) -> Path:
    return Path(results_dir) / profile / arm / f"seed-{seed}" / "record.json"


def strict_json(value):
    """``value`` with every non-finite float (a diverged run's losses) as None: JSON has no
    NaN, and strict parsers (jq, JavaScript's JSON.parse) reject the literal."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: strict_json(v) for key, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


def write_record(record: dict, path: Path) -> Path:
    """Write as strict JSON (``strict_json``), atomically: a temp file in the same folder,
    fsync, then rename over ``path``.

    Readers see the old record or the new one, never half of one, even if the writer is
    killed or another batch writes the same path at the same time.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".record-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(strict_json(record), f, indent=1, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


class MalformedRecord(ValueError):
    pass


def read_record(path: Path) -> dict:
    """A record, or ``MalformedRecord`` naming the file and what is wrong with it."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise MalformedRecord(f"{path}: not readable JSON ({error})") from error
    if not isinstance(record, dict):
        raise MalformedRecord(f"{path}: not a JSON object")
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise MalformedRecord(f"{path}: missing {', '.join(missing)}")
    if record["status"] == "complete" and len(record["epochs"]) != record["config"]["epochs"]:
        raise MalformedRecord(f"{path}: complete but has {len(record['epochs'])} epochs")
    return record
