"""The one epoch loop: any engine (one model, or N seeds fused), one record per model.

Per epoch: the engine's batches and steps under a progress bar, the non-finite-loss check
(a model whose loss is NaN or infinite fails at the end of that epoch; the others train
on), the LR schedule, the evaluation on the full test set, the metrics; after every epoch
a checkpoint (of the one model, or of all N fused ones). Before every step the time
budget is asked whether the step (and, after the last one, the evaluation) ends in time;
when it does not, the steps done so far are checkpointed and the run pauses. Long epochs
are also checkpointed every ``SAVE_EVERY_S``. The records are written by ``lib.records``.
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

# An epoch of a full-resolution arm can take over an hour on a small CPU in fp32: a kill loses
# at most this much of it (a full-width checkpoint, about 250 MB, takes seconds to write)
SAVE_EVERY_S = 15 * 60
# Before a step, the budget must hold this many steps: the step itself, a checkpoint, slack
STEP_MARGIN = 3


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
    after every epoch (and inside long ones), resumed from when it continues the same
    configs; ``budget``: checkpoint and raise ``Paused`` rather than start a step that
    would end after it.
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
        states[0]["resumed_after_epochs"].append(round(done, 4))
        _log(f"{run_name(configs)}: resumed after {done:.4g} epochs")
    alive = [not state.get("failure") for state in states]
    timing = states[0]  # one clock for all models: they train in the same steps
    # The code that trained each segment: a resume by other code adds one
    commits = timing.setdefault("commits", [])
    if runs[0]["provenance"]["git_commit"] not in commits[-1:]:
        commits.append(runs[0]["provenance"]["git_commit"])
    started, cpu_started = time.perf_counter() - timing["elapsed_s"], time.process_time()

    def save(epoch_state: dict | None = None) -> None:
        """Checkpoint the models after the last complete epoch and, with ``epoch_state``,
        the steps of the epoch in progress."""
        nonlocal cpu_started
        timing["elapsed_s"] = time.perf_counter() - started
        timing["cpu_s"] += time.process_time() - cpu_started
        cpu_started = time.process_time()
        progress = {"progress": {**timing, "partial": epoch_state}, "more_progress": states[1:]}
        checkpoints.save(checkpoint, configs, setup.precision, {**engine.state_dict(), **progress})

    for epoch in range(len(timing["epoch_seconds"]), base.epochs):
        partial = timing.pop("partial", None) or {}  # the steps of this epoch a checkpoint holds
        lr = engine.optimizer.param_groups[0]["lr"]
        batches = engine.batches(epoch)
        first = partial.get("steps", 0)
        losses = list(partial["losses"].to(setup.device)) if partial else []
        images = partial.get("images", 0)
        epoch_started = time.perf_counter() - partial.get("seconds", 0.0)
        saved_at = (first, time.perf_counter())  # (step, when): what the checkpoint holds
        # Seconds per step: the last epoch's until this segment has timed its own steps;
        # after the last step the evaluation (as long as the last one; first: projected)
        evaluation = timing.get("evaluation_s")  # (older checkpoints lack it)
        steps_s = (
            timing["epoch_seconds"][-1] - (evaluation or 0.0) if timing["epoch_seconds"] else 0.0
        )
        per_step = steps_s / len(batches)
        bar = tqdm(
            total=len(batches),
            initial=first,
            desc=f"{run_name(configs)} epoch {epoch + 1}/{base.epochs}",
            disable=not progress,
            leave=False,
            file=sys.__stderr__,  # the terminal, also from a papermill kernel
        )
        for step in range(first, len(batches)):
            if step == first + 1:  # step ``first`` carries one-off costs (warm-up, compile)
                timed_from = time.perf_counter()
            if step > first + 1:
                per_step = (time.perf_counter() - timed_from) / (step - first - 1)
            needed = per_step * STEP_MARGIN  # the step, a checkpoint, slack
            if step == len(batches) - 1:
                needed += evaluation or per_step * len(batches) * (EPOCH_MARGIN - 1)
            over = budget is not None and not budget.allows(needed)
            due = time.perf_counter() - saved_at[1] >= SAVE_EVERY_S
            if checkpoint and (over or due) and step > saved_at[0]:
                seconds = time.perf_counter() - epoch_started
                losses_so_far = torch.stack(losses).cpu()
                save({"steps": step, "of": len(batches), "losses": losses_so_far,
                      "images": images, "seconds": seconds})  # fmt: skip
                saved_at = (step, time.perf_counter())
            if over:
                bar.close()
                raise Paused(epoch + step / len(batches), base.epochs)
            losses.append(engine.step(batches[step].to(setup.device)))
            images += len(batches[step])
            bar.update()
        epoch_losses = torch.stack(losses).float().cpu()  # [steps, N]
        if setup.device.type == "cuda":
            torch.cuda.synchronize()
        trained = time.perf_counter()
        seconds = trained - epoch_started
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
        timing["evaluation_s"] = time.perf_counter() - trained
        timing["epoch_seconds"].append(time.perf_counter() - epoch_started)
        if checkpoint and epoch + 1 < base.epochs:
            save()
        for metrics in finished:  # after the checkpoint: a callback that raises loses nothing
            if on_epoch:
                on_epoch(metrics)
    cpu_s = timing["cpu_s"] + time.process_time() - cpu_started
    for record, state in zip(runs, states, strict=True):
        record.update(resumed_after_epochs=timing["resumed_after_epochs"], cpu_time_s=cpu_s)
        if len(commits) > 1:  # a run resumed by other code than began it says so
            record["provenance"]["trained_by_commits"] = commits
        if state.get("failure"):  # (older checkpoints lack the key)
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


def _log(line: str) -> None:
    """One line per epoch on the terminal (also from a papermill kernel) and in run logs."""
    tqdm.write(line, file=sys.__stderr__)
