"""A run's folder, ``results/<profile>/<arm>/seed-<k>/``: what it holds (the state of its
record), who trains it now (its lock), and how a finished run's outcome lands there (the
record and the executed notebook, where the child did not write them itself; the spent
checkpoint removed).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from lib.core import records, validate
from lib.core.config import RunConfig
from lib.runs.execute import Outcome
from lib.training import checkpoint


def run_dir(results_dir: Path, config: RunConfig) -> Path:
    return records.record_path(results_dir, config.profile, config.arm, config.seed).parent


def existing_state(results_dir: Path, config: RunConfig) -> tuple[str, str]:
    """(state, detail) of the record on disk: missing | complete | stale | failed | malformed."""
    path = records.record_path(results_dir, config.profile, config.arm, config.seed)
    if not path.exists():
        return "missing", ""
    try:
        record = records.read_record(path)
    except records.MalformedRecord as error:
        return "malformed", str(error)
    # A record that does not hold together, or a copy of a sibling's, is stale: rerun it.
    found = validate.problems(record, path) + validate.sibling_copies(record, path)
    if found:
        return "stale", "invalid record: " + "; ".join(found)
    if record["result_key"] != config.result_key():
        return "stale", f"config changed (record {record['result_key']} != {config.result_key()})"
    if record["status"] != "complete":
        return "failed", record.get("reason") or ""
    return "complete", ""


def save(results_dir: Path, outcome: Outcome) -> None:
    """Write the outcome's record and notebook into the run folder, unless the child wrote
    them there itself; a paused run has none (its checkpoint holds it). The checkpoint is
    spent once the training loop itself ended the run."""
    if outcome.status == "paused":
        return
    folder = run_dir(results_dir, outcome.config)
    if not outcome.in_place:
        if outcome.notebook is not None:
            tmp = folder / ".run.ipynb.tmp"
            tmp.write_bytes(outcome.notebook)
            os.replace(tmp, folder / "run.ipynb")
        records.write_record(outcome.record, folder / "record.json")
    if records.ended_by_training(outcome.record):
        checkpoint.discard(checkpoint.path_for(folder))


@contextlib.contextmanager
def run_lock(results_dir: Path, config: RunConfig):
    """Yields True if this batch owns the run; the OS drops the lock if we are killed."""
    folder = run_dir(results_dir, config)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def is_running(results_dir: Path, config: RunConfig) -> bool:
    """Whether some batch holds the run's lock now (it is training)."""
    lock = run_dir(results_dir, config) / ".lock"
    if not lock.exists():
        return False
    with open(lock) as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
    return False
