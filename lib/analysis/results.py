"""Aggregation: every record of a profile in one DataFrame, the single entry point of the book.

A record counts only when it is well formed, holds together by meaning, is complete and
was made from the config the registry gives today; anything else is listed with its
reason, never averaged in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from lib.core import records, validate
from lib.core.arms import ARMS, PROFILES, run_config
from lib.core.repo import RESULTS_DIR

COLUMNS = [
    "arm",
    "seed",
    "profile",
    "status",
    "reason",
    "final_test_accuracy",
    "best_test_accuracy",
    "best_epoch",
    "epochs_run",
    "wall_time_s",
    "cpu_time_s",
    "core_seconds",
    "images_per_s",
    "engine",
    "executor",
    "precision",
    "device_name",
    "torch",
    "torchvision",
    "cuda",
    "python",
    "torch_threads",
    "host",
    "platform",
    "dataset_sha256",
    "normalisation",
    "git_commit",
    "git_dirty",
    "result_key",
    "path",
]


def load_results(profile: str, results_dir: Path = RESULTS_DIR, **overrides) -> pd.DataFrame:
    """One row per record under ``results_dir/profile``.

    ``status`` is the record's (complete | failed) or, set here, ``malformed`` (unreadable),
    ``invalid`` (readable but not holding together: ``validate.problems``, or a copy of
    another record of its arm, ``validate.duplicates``) or ``stale`` (consistent, but made
    with another config than ``run_config(arm, profile, seed, **overrides)`` gives today;
    tests pass the overrides they ran with, e.g. ``epochs=1``); ``reason`` says why.
    Columns ``test_accuracy`` and ``iteration_losses`` hold the per-epoch accuracies (%)
    and per-iteration training losses as lists; the provenance and data columns
    (``dataset_sha256`` and ``normalisation`` as dicts) spare the book from reading any
    record again.
    """
    rows = []
    for path in sorted(Path(results_dir, profile).glob("*/seed-*/record.json")):
        try:
            record = records.read_record(path)
            rows.append(_row(record, path, overrides))
        except (records.MalformedRecord, KeyError, TypeError, AttributeError) as error:
            arm, seed = path.parent.parent.name, path.parent.name.removeprefix("seed-")
            reason = str(error)
            if not isinstance(error, records.MalformedRecord):
                reason = f"{path}: not a record ({type(error).__name__}: {error})"
            rows.append(
                {
                    "arm": arm,
                    "seed": int(seed) if seed.isdigit() else -1,
                    "profile": profile,
                    "status": "malformed",
                    "reason": reason,
                    "path": str(path),
                }
            )
    counted = [r for r in rows if r["status"] == "complete"]
    copies = validate.duplicates([(r["path"], r["arm"], r["iteration_losses"]) for r in counted])
    for row in counted:
        if row["path"] in copies:
            others = ", ".join(copies[row["path"]])
            row["status"] = "invalid"
            row["reason"] = f"duplicate: the same iteration losses as {others}"
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "test_accuracy", "iteration_losses"])
    # A malformed row has no thread count: keep the others integers rather than floats.
    frame["torch_threads"] = frame["torch_threads"].astype("Int64")
    return frame.sort_values(["arm", "seed"], ignore_index=True)


def _state(record: dict, path: Path, overrides: dict) -> tuple[str, str | None]:
    """(status, reason): invalid before stale before the record's own status."""
    found = validate.problems(record, path)
    if found:
        return "invalid", "; ".join(found)
    arm, profile, seed = record["arm"], record["profile"], record["seed"]
    if arm not in ARMS or profile not in PROFILES:
        return "stale", f"arm {arm!r} or profile {profile!r} no longer exists"
    today = run_config(arm, profile, seed, **overrides).result_key()
    if validate.stored_config(record).result_key() != today:
        return "stale", "made with a config that differs from today's registry"
    return record["status"], record.get("reason")


def _row(record: dict, path: Path, overrides: dict) -> dict:
    prov = record["provenance"]
    status, reason = _state(record, path, overrides)
    arm, profile, seed = record.get("arm"), record.get("profile"), record.get("seed")
    return {
        "arm": arm,
        "seed": seed,
        "profile": profile,
        "status": status,
        "reason": reason,
        "final_test_accuracy": record.get("final_test_accuracy"),
        "best_test_accuracy": record.get("best_test_accuracy"),
        "best_epoch": record.get("best_epoch"),
        "epochs_run": len(record["epochs"]),
        "wall_time_s": record.get("wall_time_s"),
        "cpu_time_s": record.get("cpu_time_s"),  # records since the campaign measures it
        "core_seconds": records.core_seconds(record),
        "images_per_s": record.get("images_per_s"),
        "engine": record.get("engine"),
        "executor": record.get("executor"),
        "precision": record.get("precision"),
        "device_name": prov.get("device_name"),
        "torch": prov.get("torch"),
        "torchvision": prov.get("torchvision"),
        "cuda": prov.get("cuda"),
        "python": prov.get("python"),
        "torch_threads": prov.get("torch_threads"),
        "host": prov.get("host"),
        "platform": prov.get("platform"),
        "dataset_sha256": record.get("dataset_sha256"),
        "normalisation": record.get("normalisation"),
        "git_commit": prov.get("git_commit"),
        "git_dirty": prov.get("git_dirty"),
        "result_key": record["result_key"],
        "path": str(path),
        "test_accuracy": [e["test_accuracy"] for e in record["epochs"]],
        "iteration_losses": record.get("iteration_losses", []),
    }


def complete(frame: pd.DataFrame) -> pd.DataFrame:
    """Only the runs that count: complete records of today's config."""
    return frame[frame["status"] == "complete"]
