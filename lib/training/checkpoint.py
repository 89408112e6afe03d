"""Epoch checkpoints: a run killed or paused at any moment goes on from its last epoch.

After every epoch the training loop saves everything it needs to continue: model,
optimizer and scheduler state, the RNG states and the metrics so far; inside a long epoch,
and when the time budget ends in one, also the steps done of it (their losses, images and
seconds: the epoch's batch order is a function of seed and epoch). A rerun of the same
config resumes there and produces the record an uninterrupted run would have produced
(same accuracies, losses and iteration losses). A checkpoint of another config, of another
effective precision (bf16 epochs must not continue in fp32 on a CPU without bf16, or the
record would misstate how its first epochs ran), or one that cannot be read, is reported by
name and ignored: the run restarts from epoch 0.

At most one checkpoint exists per run, next to its record (``.checkpoint.pt``, git-ignored);
whoever writes the run's final record deletes it. N seeds trained as one fused model
(``lib.training.fused``) share one checkpoint, next to the first seed's record, that continues
exactly those N configs. Each save also leaves a spare outside the work tree
(``spare_for``): the checkpoint is git-ignored, so a checkout laid anew at the same path
loses it, and the run then resumes from the spare.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import torch

from lib.core.config import RunConfig, run_name

FORMAT = 1
FILENAME = ".checkpoint.pt"
# Spares live here, outside any checkout (tests point it at a temporary folder)
SPARES_ENV = "LIB_CHECKPOINT_SPARES"
DEFAULT_SPARES = Path.home() / ".cache" / "fmnist-resnet34-replication" / "checkpoints"


def path_for(run_dir: Path) -> Path:
    """The one checkpoint of the run whose record lives in ``run_dir``."""
    return Path(run_dir) / FILENAME


def spare_for(path: Path) -> Path:
    """The spare of the checkpoint at ``path``: under ``$LIB_CHECKPOINT_SPARES`` (default
    ``~/.cache/fmnist-resnet34-replication/checkpoints``) at the checkpoint's absolute path,
    so that a checkout laid anew in the same place finds it, and no other checkout does.
    Its result key and precision are checked on load like the checkpoint's own."""
    root = Path(os.environ.get(SPARES_ENV) or DEFAULT_SPARES)
    return root.joinpath(*Path(path).absolute().parts[1:])


def rng_states() -> dict:
    states = {"torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def restore_rng_states(states: dict) -> None:
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def key(configs: Sequence[RunConfig]) -> str:
    """What a checkpoint continues: one run's result key, or the keys of N fused runs."""
    return "+".join(c.result_key() for c in configs)


def epochs_done(payload: dict) -> float:
    """The epochs a checkpoint holds (every model of a fused one trained them all): whole
    epochs, plus the fraction of steps of one in progress (a checkpoint inside an epoch)."""
    progress = payload["progress"]
    partial = progress.get("partial") or {}
    whole = len(progress["epoch_seconds"])
    return whole + partial["steps"] / partial["of"] if partial else whole


def save(path: Path, configs: Sequence[RunConfig], precision: str, state: dict) -> None:
    """Write ``state`` (model, optimizer, scheduler, progress ...) of the run(s) of
    ``configs``, trained in the effective ``precision`` (bf16 or fp32), atomically: a temp
    file in the same folder, fsync, rename. A kill leaves the previous checkpoint or this
    one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "result_key": key(configs),
        "config": configs[0].to_dict(),
        "seeds": [c.seed for c in configs],
        "precision": precision,
        "rng": rng_states(),
        **state,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".checkpoint-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(payload, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _keep_spare(path)


def _keep_spare(path: Path) -> None:
    """Point the spare at the checkpoint just saved: a hard link (no copy) where both lie on
    one file system, else a copy; atomic like the save. A spare that cannot be written costs
    only the spare: the run goes on, and says so."""
    spare = spare_for(path)
    tmp = spare.with_name(f".checkpoint-{os.getpid()}.tmp")
    try:
        spare.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        os.replace(tmp, spare)
    except OSError as error:
        _to_stderr(f"checkpoint {path}: no spare at {spare} ({error})")


def _to_stderr(line: str) -> None:
    # The real stderr: under papermill, sys.stderr is the notebook's cell output
    print(line, file=sys.__stderr__, flush=True)


def load(path: Path | None, configs: Sequence[RunConfig], precision: str, log=None) -> dict | None:
    """The checkpoint at ``path`` if it continues the run(s) of ``configs`` in the effective
    ``precision``, else None.

    Missing, with no spare (``spare_for``) either: None, silently; missing with a spare: the
    spare, said on ``log`` (default stderr). Unreadable, of another config or precision, or
    inconsistent: None, with a line naming the file and the reason, so the run restarts from
    epoch 0 instead of crashing or mixing two experiments.
    """
    if path is None:
        return None
    log = log or _to_stderr
    if not Path(path).exists():
        spare = spare_for(path)
        if not spare.exists():
            return None
        log(f"checkpoint {path}: missing; its spare {spare} stands in")
        path = spare
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
        problem = _problem(payload, configs, precision)
    except Exception as error:  # truncated zip, bad pickle, wrong types: all unusable
        problem = f"unreadable ({type(error).__name__}: {error})"
    if problem:
        log(f"checkpoint {path}: {problem}; ignored, {run_name(configs)} restarts")
        return None
    return payload


def _problem(payload, configs: Sequence[RunConfig], precision: str) -> str:
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return "not a checkpoint of this format"
    if payload.get("result_key") != key(configs):
        return f"made for another config (key {payload.get('result_key')}, this run {key(configs)})"
    if payload.get("precision") != precision:
        trained = payload.get("precision") or "an unrecorded precision"
        return f"trained in {trained}, this run trains in {precision}"
    done, epochs = epochs_done(payload), configs[0].epochs
    if not 0 < done < epochs:
        return f"holds {done} epochs of {epochs}"
    if len(payload.get("more_progress", [])) != len(configs) - 1:
        return "holds another number of models"
    return ""


def discard(path: Path | None) -> None:
    """Delete the checkpoint at ``path``, its spare, and their torn writes."""
    if path is not None:
        Path(path).unlink(missing_ok=True)
        spare_for(path).unlink(missing_ok=True)
        remove_torn_writes(path)


def remove_torn_writes(path: Path) -> None:
    """Temp files of saves of the checkpoint at ``path`` (or of its spare) that a kill
    interrupted. Only the run that owns the checkpoint may call this (the runner's lock makes
    it the only one writing there), never a reader: it would delete a save in progress."""
    for folder in (Path(path).parent, spare_for(path).parent):
        for torn in folder.glob(".checkpoint-*.tmp"):
            torn.unlink(missing_ok=True)
