"""Run records: one JSON file per run, with full provenance, written atomically.

A record holds the config, per-epoch metrics, per-iteration training losses, the final
and best test accuracy, timing and where and with what it ran. ``load_results`` turns a
profile's records into the one DataFrame the book reads.
"""

from __future__ import annotations

import datetime
import json
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


def _git(*args: str) -> str:
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


def provenance(device: torch.device) -> dict:
    import torchvision

    # Results folders change while a campaign runs; they do not make the code dirty.
    dirty = _git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!results")
    return {
        "git_commit": _git("rev-parse", "HEAD") or "unknown",
        "git_dirty": bool(dirty),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.version.cuda,
        "device": str(device),
        "device_name": device_name(device),
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
    """A record in progress: status ``running`` until ``finish_record``."""
    return {
        **_identity(config, "running", None),
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


def record_path(results_dir: Path, profile: str, arm: str, seed: int) -> Path:
    return Path(results_dir) / profile / arm / f"seed-{seed}" / "record.json"


def write_record(record: dict, path: Path) -> Path:
    """Write atomically: a temp file in the same folder, fsync, then rename over ``path``.

    Readers see the old record or the new one, never half of one, even if the writer is
    killed or another batch writes the same path at the same time.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".record-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(record, f, indent=1, allow_nan=True)
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


# --- validation by meaning ------------------------------------------------------------------
#
# ``read_record`` only says whether a file is a record at all. A readable record can still
# not hold together: a config edited under its stored key, an accuracy of 150 %, the record
# of seed 0 in seed 1's folder, files other than the pinned Fashion-MNIST. ``problems`` names
# every such inconsistency; ``lib.results.load_results`` marks those records ``invalid`` and
# the runner reruns them. Whether a consistent record is *current* (its config the one the
# registry gives today) is a separate question: ``stored_config`` gives what to compare.


def stored_config(record: dict) -> RunConfig:
    """The config the record says it ran (ValueError/TypeError when it is not one)."""
    if not isinstance(record.get("config"), dict):
        raise TypeError("config is not an object")
    return RunConfig.from_dict(record["config"])


def iterations_per_epoch(config: RunConfig) -> int:
    """Training steps in one epoch: batches of the subset, a last batch of one image dropped
    (as ``lib.train.training_batches`` does)."""
    full, rest = divmod(config.train_subset, config.batch_size)
    return full + (1 if rest > 1 else 0)


def _accuracy_ok(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100


def problems(record: dict, path: Path | None = None) -> list[str]:
    """What makes a readable record not hold together (empty list: nothing).

    The stored result key must be its config's; arm, seed and profile must agree with the
    config and, given ``path``, with the folder (``<profile>/<arm>/seed-<k>/record.json``);
    accuracies lie in [0, 100] and final/best are the epochs' own; a complete record has
    the config's epochs, numbered 1..n, and the steps they take; the data checksums are
    the pinned ones (``lib.data.FILES``).
    """
    from lib.data import FILES

    try:
        config = stored_config(record)
    except (TypeError, ValueError) as error:
        return [f"its config is not a valid run config ({error})"]
    found = []
    key = config.result_key()
    if record.get("result_key") != key:
        found.append(
            f"stored result_key {record.get('result_key')} is not its config's ({key}): "
            "the config or the key was edited"
        )
    for field in ("arm", "seed", "profile"):
        if record.get(field) != getattr(config, field):
            found.append(
                f"{field} {record.get(field)!r} differs from its config's "
                f"{getattr(config, field)!r}"
            )
    if path is not None:
        path = Path(path)
        where = (path.parent.parent.parent.name, path.parent.parent.name, path.parent.name)
        expected = (config.profile, config.arm, f"seed-{config.seed}")
        if where != expected:
            found.append(
                f"lies in {'/'.join(where)} but is the record of {'/'.join(expected)} "
                "(copied or moved)"
            )
    epochs = record.get("epochs")
    if not isinstance(epochs, list) or not all(isinstance(e, dict) for e in epochs):
        return [*found, "epochs is not a list of epoch metrics"]
    accuracies = [e.get("test_accuracy") for e in epochs]
    bad = [a for a in accuracies if not _accuracy_ok(a)]
    if bad:
        found.append(f"test accuracy {bad[0]!r} is not a percentage in [0, 100]")
    if [e.get("epoch") for e in epochs] != list(range(1, len(epochs) + 1)):
        found.append("its epochs are not numbered 1..n")
    status = record.get("status")
    if status == "complete" and len(epochs) != config.epochs:
        found.append(f"complete with {len(epochs)} epochs, its config has {config.epochs}")
    elif len(epochs) > config.epochs:
        found.append(f"{len(epochs)} epochs, more than its config's {config.epochs}")
    if accuracies and not bad:
        for name, value in (
            ("final", accuracies[-1]),
            ("best", max(accuracies)),
        ):
            stored = record.get(f"{name}_test_accuracy")
            if stored != value:
                found.append(
                    f"{name}_test_accuracy {stored!r} is not its epochs' {name} ({value!r})"
                )
    if status == "complete":
        losses = record.get("iteration_losses")
        steps = len(epochs) * iterations_per_epoch(config)
        if not isinstance(losses, list) or len(losses) != steps:
            count = len(losses) if isinstance(losses, list) else "no"
            found.append(f"{count} iteration losses, its {len(epochs)} epochs take {steps} steps")
    pinned = {name: sha for name, (sha, _) in FILES.items()}
    if "dataset_sha256" in record or status == "complete":
        if record.get("dataset_sha256") != pinned:
            found.append("its dataset checksums are not the pinned Fashion-MNIST ones")
    return found


def duplicates(runs: list[tuple[str, str, list]]) -> dict[str, list[str]]:
    """Records of one arm with identical iteration losses: {path: [the other paths]}.

    ``runs``: (path, arm, iteration losses) of the records to compare. Two seeds never
    train to the same losses, so such records are copies of one run; which of them is the
    original the records cannot tell, so every one of them is named.
    """
    groups: dict[tuple, list[str]] = {}
    for path, arm, losses in runs:
        if losses:
            groups.setdefault((arm, json.dumps(losses)), []).append(str(path))
    return {
        path: [other for other in paths if other != path]
        for paths in groups.values()
        if len(paths) > 1
        for path in paths
    }


def sibling_copies(record: dict, path: Path) -> list[str]:
    """``duplicates`` for one complete record among the valid complete records of its arm
    (the other ``seed-*`` folders beside its own), as problems naming each copy."""
    if record.get("status") != "complete" or not record.get("iteration_losses"):
        return []
    path = Path(path)
    runs = [(str(path), record.get("arm"), record["iteration_losses"])]
    for other in sorted(path.parent.parent.glob("seed-*/record.json")):
        if other == path:
            continue
        try:
            sibling = read_record(other)
        except MalformedRecord:
            continue
        if sibling["status"] == "complete" and not problems(sibling, other):
            runs.append((str(other), sibling.get("arm"), sibling.get("iteration_losses")))
    copies = duplicates(runs).get(str(path), [])
    return [f"the same iteration losses as {other}" for other in copies]
