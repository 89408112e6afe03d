"""Run records: one JSON file per run, with full provenance, written atomically.

A record holds the config, per-epoch metrics, per-iteration training losses, the final
and best test accuracy, timing and where and with what it ran. ``load_results`` turns a
profile's records into the one DataFrame the book reads.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from lib.config import RunConfig

SCHEMA = 1
REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "results"
REQUIRED = ("schema", "config", "result_key", "status", "epochs", "provenance")


def git_output(*args: str) -> str:
    """git's output in this checkout, or "" where git fails (no repository, no git)."""
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


# CPU features that decide a run's precision and speed: AVX-512 BF16 (bf16 autocast runs
# natively, else fp32) and AMX (matrix tiles). The model name alone does not tell them apart.
SPEED_FLAGS = ("avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu_flags() -> list[str]:
    """The ``SPEED_FLAGS`` this CPU has, from /proc/cpuinfo (empty where it cannot be read)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                return [flag for flag in SPEED_FLAGS if flag in present]
    except OSError:
        pass
    return []


def source_commit() -> tuple[str, bool]:
    """(commit, whether the code differs from it). Without a repository (a device machine
    gets a copy of the working tree) the commit comes from the manifest that
    ``lib.remote.pack`` wrote, checked file by file; with neither, it is "unknown" and dirty."""
    if commit := git_output("rev-parse", "HEAD"):
        # Results folders change while a campaign runs; they do not make the code dirty.
        return commit, bool(
            git_output("status", "--porcelain", "--untracked-files=no", "--", ".", ":!results")
        )
    if manifest := os.environ.get("LIB_MANIFEST"):
        return verify_manifest(Path(manifest))
    return "unknown", True


def verify_manifest(manifest_path: Path, repo: Path = REPO) -> tuple[str, bool]:
    """(the manifest's commit, whether this copy differs from it in any file)."""
    listed = json.loads(Path(manifest_path).read_text())
    dirty = any(
        not (repo / path).is_file() or blob_hash(repo / path) != blob
        for path, blob in listed["files"].items()
    )
    return listed["commit"], dirty


def blob_hash(path: Path) -> str:
    """What ``git hash-object`` prints for the file: sha1 of "blob <size>\\0" + content."""
    content = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def provenance(device: torch.device) -> dict:
    import torchvision

    commit, dirty = source_commit()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.version.cuda,
        "device": str(device),
        "device_name": device_name(device),
        "cpu_flags": cpu_flags(),
        "torch_threads": torch.get_num_threads(),
        "host": platform.node(),
        "platform": platform.platform(),
    }


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


def new_record(config: RunConfig, device, precision: str, engine: str, data) -> dict:
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
        "provenance": provenance(device),
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


def failed_record(config: RunConfig, reason: str, executor: str) -> dict:
    """The record of a run that died before it could write its own (exception, kill)."""
    return {
        **_identity(config, "failed", reason),
        "executor": executor,
        "epochs": [],
        "provenance": provenance(torch.device("cpu")),
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
