"""The one epoch loop: any engine (one model, or N seeds fused), one record per model.

Per epoch: the engine's batches and steps under a progress bar, the non-finite-loss check
(a model whose loss is NaN or infinite fails at the end of that epoch; the others train
on), the LR schedule, the evaluation on the full test set, the metrics; after every epoch
a checkpoint (of the one model, or of all N fused ones) and, before every epoch, the time
budget's question whether it can end in time. The records are written by ``lib.records``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from tqdm import tqdm

from lib import checkpoint as checkpoints
from lib import records
from lib.budget import EPOCH_MARGIN, Budget, Paused
from lib.config import run_name

# Steps timed at the start of an epoch to project its length when no epoch has been timed yet
PROBE_STEPS = 5


def new_progress() -> dict:
    """Everything a resumed run needs besides the tensors; elapsed and CPU seconds add up
    over the segments of a run that was stopped and resumed."""
    return {
        "epochs": [],
        "iteration_losses": [],
        "train_seconds": 0.0,
        "images_seen": 0,
        "elapsed_s": 0.0,
        "cpu_s": 0.0,
        "epoch_seconds": [],
        "resumed_after_epochs": [],
        "failure": "",  # why the model stopped training (a non-finite loss), else empty
    }


def run_epochs(
    engine,
    progress: bool = True,
    on_epoch: Callable[[dict], None] | None = None,
    checkpoint: Path | None = None,
    budget: Budget | None = None,
) -> list[dict]:
    """Train ``engine`` (a ``lib.train.Engine``) to its configs' epoch count; one record
    per model (status ``complete`` or ``failed``).

    ``on_epoch``: called with each model's metrics after each epoch; ``checkpoint``: saved
    after every epoch, resumed from when it continues the same configs; ``budget``: raise
    ``Paused`` rather than start an epoch that would end after it.
    """
    configs, setup = engine.configs, engine.setup
    base, n = configs[0], len(configs)
    runs = [
        records.new_record(c, setup.device, setup.precision, engine.name, setup.data)
        for c in configs
    ]
    states = [new_progress() for _ in configs]
    if checkpoint:
        checkpoints.remove_torn_writes(checkpoint)
    saved = checkpoints.load(checkpoint, configs, setup.precision)
    if saved:
        engine.load_state_dict(saved)
        checkpoints.restore_rng_states(saved["rng"])
        states = [saved["progress"], *saved.get("more_progress", [])]
        done = checkpoints.epochs_done(saved)
        states[0]["resumed_after_epochs"].append(done)
        _log(f"{run_name(configs)}: resumed after epoch {done}")
    alive = [not state.get("failure") for state in states]
    timing = states[0]  # one clock for all models: they train in the same steps
    started, cpu_started = time.perf_counter() - timing["elapsed_s"], time.process_time()
    for epoch in range(len(timing["epoch_seconds"]), base.epochs):
        epoch_started = time.perf_counter()
        estimate = timing["epoch_seconds"][-1] if timing["epoch_seconds"] else None
        if budget and not budget.allows(estimate or 0.0):
            raise Paused(epoch, base.epochs)
        lr = engine.optimizer.param_groups[0]["lr"]
        batches = engine.batches(epoch)
        bar = tqdm(
            batches,
            desc=f"{run_name(configs)} epoch {epoch + 1}/{base.epochs}",
            disable=not progress,
            leave=False,
            file=sys.__stderr__,  # the terminal, also from a papermill kernel
        )
        losses, images = [], 0
        for step, index in enumerate(bar):
            # No epoch timed yet: project this one from PROBE_STEPS steps after step 0
            # (which carries one-off costs: compilation, allocator and kernel warm-up).
            if budget and estimate is None and step == 1:
                probe_started = _clock(setup.device)
            if budget and estimate is None and step == 1 + PROBE_STEPS:
                per_step = (_clock(setup.device) - probe_started) / PROBE_STEPS
                if not budget.allows(per_step * (len(batches) - step) * EPOCH_MARGIN):
                    bar.close()
                    raise Paused(epoch, base.epochs)
            losses.append(engine.step(index.to(setup.device)))
            images += len(index)
        epoch_losses = torch.stack(losses).float().cpu()  # [steps, N]
        if setup.device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - epoch_started
        bar.close()
        for m, state in enumerate(states):
            if alive[m]:
                alive[m] = _add_losses(state, epoch_losses[:, m], epoch, seconds, images)
        if not any(alive):
            break
        engine.scheduler.step()
        finished = []
        for m, (test_loss, test_accuracy) in enumerate(engine.evaluate()):
            if not alive[m]:
                continue
            metrics = {
                "epoch": epoch + 1,
                "lr": lr,
                "train_loss": float(epoch_losses[:, m].mean()),
                "test_loss": test_loss,
                "test_accuracy": test_accuracy,
                "elapsed_s": time.perf_counter() - started,
            }
            states[m]["epochs"].append(metrics)
            _log(
                f"{run_name(configs[m])} epoch {epoch + 1}/{base.epochs}: "
                f"train loss {metrics['train_loss']:.4f}, test acc {test_accuracy:.2f} %"
                + (f" (fused x{n})" if n > 1 else "")
            )
            finished.append(metrics)
        timing["epoch_seconds"].append(time.perf_counter() - epoch_started)
        if checkpoint and epoch + 1 < base.epochs:
            timing["elapsed_s"] = time.perf_counter() - started
            timing["cpu_s"] += time.process_time() - cpu_started
            cpu_started = time.process_time()
            progress = {"progress": timing, "more_progress": states[1:]}
            checkpoints.save(
                checkpoint, configs, setup.precision, {**engine.state_dict(), **progress}
            )
        for metrics in finished:  # after the checkpoint: a callback that raises loses nothing
            if on_epoch:
                on_epoch(metrics)
    cpu_s = timing["cpu_s"] + time.process_time() - cpu_started
    for record, state in zip(runs, states, strict=True):
        record.update(resumed_after_epochs=timing["resumed_after_epochs"], cpu_time_s=cpu_s)
        if state.get("failure"):  # (checkpoints written before 2026-11-30 lack the key)
            record.update(status="failed", reason=state["failure"])
        if n > 1:
            record["seeds_at_once"] = n
        records.finish_record(
            record,
            epochs=state["epochs"],
            iteration_losses=state["iteration_losses"],
            wall_time_s=time.perf_counter() - started,
            images_per_s=state["images_seen"] / state["train_seconds"]
            if state["train_seconds"]
            else 0.0,
        )
    return runs


def _add_losses(state, losses, epoch: int, seconds: float, images: int) -> bool:
    """Add one model's epoch (iteration losses, time, images); False, with the state's
    ``failure`` said, when a loss is not finite."""
    state["train_seconds"] += seconds
    state["images_seen"] += images
    state["iteration_losses"] += losses.tolist()
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        at = len(state["iteration_losses"]) - len(losses) + int(bad[0])
        state["failure"] = f"non-finite training loss at iteration {at} (epoch {epoch + 1})"
        return False
    return True


def _clock(device: torch.device) -> float:
    """perf_counter once the device has run every queued step (CUDA runs them later)."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter()


def _log(line: str) -> None:
    """One line per epoch on the terminal (also from a papermill kernel) and in run logs."""
    tqdm.write(line, file=sys.__stderr__)
