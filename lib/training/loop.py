"""The one epoch loop: any engine (one model, or N seeds fused), one record per model.

Per epoch: the engine's batches and steps under a progress bar, the non-finite-loss check
(a model whose loss is NaN or infinite fails at the end of that epoch; the others train
on), the LR schedule, the evaluation on the full test set, the metrics; after every epoch
a checkpoint (of the one model, or of all N fused ones). Inside an epoch, ``StepPolicy``
decides before every step whether to checkpoint (the time budget would not hold the step,
or ``SAVE_EVERY_S`` have passed) and whether to pause. What a resumed run needs besides
the tensors is ``ModelProgress`` (per model) and ``Clock`` (the run's); the records are
built by ``lib.core.records``.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from lib.core import records
from lib.core.config import run_name
from lib.training import checkpoint as checkpoints
from lib.training.budget import EPOCH_MARGIN, Budget, Paused
from lib.training.provenance import provenance

# An epoch of a full-resolution arm can take over an hour on a small CPU in fp32: a kill loses
# at most this much of it (a full-width checkpoint, about 250 MB, takes seconds to write)
SAVE_EVERY_S = 15 * 60
# Before a step, the budget must hold this many steps: the step itself, a checkpoint, slack
STEP_MARGIN = 3


def _from_dict(cls, values: dict):
    """``cls`` from a checkpoint's dict: fields it lacks (older checkpoints) keep their
    defaults, keys of the other class (the checkpoint keeps both in one dict) are left out."""
    names = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class ModelProgress:
    """One model's training so far: what its record needs besides the tensors."""

    epochs: list[dict] = field(default_factory=list)  # each epoch's metrics
    iteration_losses: list[float] = field(default_factory=list)
    train_seconds: float = 0.0  # in training steps, for images/s
    images_seen: int = 0
    failure: str = ""  # why the model stopped training (a non-finite loss), else empty

    def add_epoch(self, losses: torch.Tensor, epoch: int, seconds: float, images: int) -> bool:
        """Add one epoch (iteration losses, time, images); False, with ``failure`` said,
        when a loss is not finite."""
        self.train_seconds += seconds
        self.images_seen += images
        self.iteration_losses += losses.tolist()
        bad = (~torch.isfinite(losses)).nonzero()
        if len(bad):
            at = len(self.iteration_losses) - len(losses) + int(bad[0])
            self.failure = f"non-finite training loss at iteration {at} (epoch {epoch + 1})"
            return False
        return True


@dataclass
class Clock:
    """The run's time, one for all its models (they train in the same steps); elapsed and CPU
    seconds add up over the segments of a run that was paused and resumed."""

    elapsed_s: float = 0.0
    cpu_s: float = 0.0
    epoch_seconds: list[float] = field(default_factory=list)  # one per epoch done
    evaluation_s: float | None = None  # the last evaluation's seconds
    resumed_after_epochs: list[float] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)  # the code of each segment, in order
    partial: dict | None = None  # the steps of an epoch in progress that a checkpoint holds


class StepPolicy:
    """Before each step of an epoch: whether to checkpoint now (the budget would not hold the
    step, or ``SAVE_EVERY_S`` have passed since the last save) and whether to pause (the
    budget would not hold it). Seconds per step: the last epoch's until this segment has timed
    its own steps (the first carries one-off costs); the last step also needs the evaluation
    (as long as the last one; the first is projected from the steps)."""

    def __init__(self, budget: Budget | None, steps: int, first: int, clock: Clock):
        self.budget, self.steps, self.first = budget, steps, first
        self.evaluation = clock.evaluation_s
        last = clock.epoch_seconds[-1] - (self.evaluation or 0.0) if clock.epoch_seconds else 0.0
        self.per_step = last / steps
        self.saved(first)

    def saved(self, step: int) -> None:
        """The checkpoint now holds the steps before ``step``."""
        self.saved_step, self.saved_time = step, time.perf_counter()

    def check(self, step: int) -> tuple[bool, bool]:
        """(checkpoint now, pause now) before ``step``."""
        now = time.perf_counter()
        if step == self.first + 1:
            self.timed_from = now
        if step > self.first + 1:
            self.per_step = (now - self.timed_from) / (step - self.first - 1)
        needed = self.per_step * STEP_MARGIN
        if step == self.steps - 1:
            needed += self.evaluation or self.per_step * self.steps * (EPOCH_MARGIN - 1)
        over = self.budget is not None and not self.budget.allows(needed)
        due = now - self.saved_time >= SAVE_EVERY_S
        return (over or due) and step > self.saved_step, over


def run_epochs(
    engine,
    progress: bool = True,
    on_epoch: Callable[[dict], None] | None = None,
    checkpoint: Path | None = None,
    budget: Budget | None = None,
) -> list[dict]:
    """Train ``engine`` (a ``lib.training.train.Engine``) to its configs' epoch count; one record
    per model (status ``complete`` or ``failed``).

    ``on_epoch``: called with each model's metrics after each epoch; ``checkpoint``: saved
    after every epoch (and inside long ones), resumed from when it continues the same
    configs; ``budget``: checkpoint and raise ``Paused`` rather than start a step that
    would end after it.
    """
    configs, setup = engine.configs, engine.setup
    base = configs[0]
    facts = provenance(setup.device)
    runs = [records.new_record(c, facts, setup.precision, engine.name, setup.data) for c in configs]
    models, clock = _resume(engine, checkpoint)
    if facts["git_commit"] not in clock.commits[-1:]:  # a resume by other code adds one
        clock.commits.append(facts["git_commit"])
    alive = [not m.failure for m in models]
    started, cpu_started = time.perf_counter() - clock.elapsed_s, time.process_time()

    def save(partial: dict | None = None) -> None:
        """Checkpoint the models after the last complete epoch and, with ``partial``, the
        steps of the epoch in progress."""
        nonlocal cpu_started
        clock.elapsed_s = time.perf_counter() - started
        clock.cpu_s += time.process_time() - cpu_started
        cpu_started = time.process_time()
        first, *more = [dataclasses.asdict(m) for m in models]
        state = {"progress": {**first, **dataclasses.asdict(clock), "partial": partial}}
        state["more_progress"] = more
        checkpoints.save(checkpoint, configs, setup.precision, {**engine.state_dict(), **state})

    for epoch in range(len(clock.epoch_seconds), base.epochs):
        lr = engine.optimizer.param_groups[0]["lr"]
        epoch_losses, images, epoch_started = _train_epoch(
            engine, epoch, clock, budget, save if checkpoint else None, progress
        )
        trained = time.perf_counter()
        for m, model in enumerate(models):
            if alive[m]:
                alive[m] = model.add_epoch(
                    epoch_losses[:, m], epoch, trained - epoch_started, images
                )
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
            models[m].epochs.append(metrics)
            _log(
                f"{run_name(configs[m])} epoch {epoch + 1}/{base.epochs}: "
                f"train loss {metrics['train_loss']:.4f}, test acc {test_accuracy:.2f} %"
                + (f" (fused x{len(configs)})" if len(configs) > 1 else "")
            )
            finished.append(metrics)
        clock.evaluation_s = time.perf_counter() - trained
        clock.epoch_seconds.append(time.perf_counter() - epoch_started)
        if checkpoint and epoch + 1 < base.epochs:
            save()
        for metrics in finished:  # after the checkpoint: a callback that raises loses nothing
            if on_epoch:
                on_epoch(metrics)
    clock.cpu_s += time.process_time() - cpu_started
    for record, model in zip(runs, models, strict=True):
        _finish(record, model, clock, time.perf_counter() - started, len(configs))
    return runs


def _resume(engine, checkpoint: Path | None) -> tuple[list[ModelProgress], Clock]:
    """The models' progress and the run's clock: from ``checkpoint`` where it continues these
    configs (the engine's tensors and the RNG restored with them), else fresh."""
    configs, precision = engine.configs, engine.setup.precision
    if checkpoint:
        checkpoints.remove_torn_writes(checkpoint)
    saved = checkpoints.load(checkpoint, configs, precision)
    if not saved:
        return [ModelProgress() for _ in configs], Clock()
    engine.load_state_dict(saved)
    checkpoints.restore_rng_states(saved["rng"])
    states = [saved["progress"], *saved.get("more_progress", [])]
    clock = _from_dict(Clock, saved["progress"])
    done = checkpoints.epochs_done(saved)
    clock.resumed_after_epochs.append(round(done, 4))
    _log(f"{run_name(configs)}: resumed after {done:.4g} epochs")
    return [_from_dict(ModelProgress, s) for s in states], clock


def _train_epoch(engine, epoch: int, clock: Clock, budget: Budget | None, save, progress: bool):
    """One epoch's steps, from those a checkpoint holds (``clock.partial``): the losses
    [steps, N], the images seen, and when the epoch started (earlier segments counted).
    Checkpoints through ``save`` and raises ``Paused`` as the step policy says."""
    configs, setup = engine.configs, engine.setup
    partial = clock.partial or {}
    clock.partial = None  # a checkpoint's steps only ever continue this one epoch
    batches = engine.batches(epoch)
    first = partial.get("steps", 0)
    losses = list(partial["losses"].to(setup.device)) if partial else []
    images = partial.get("images", 0)
    epoch_started = time.perf_counter() - partial.get("seconds", 0.0)
    policy = StepPolicy(budget, len(batches), first, clock)
    bar = tqdm(
        total=len(batches),
        initial=first,
        desc=f"{run_name(configs)} epoch {epoch + 1}/{configs[0].epochs}",
        disable=not progress,
        leave=False,
        file=sys.__stderr__,  # the terminal, also from a papermill kernel
    )
    for step in range(first, len(batches)):
        save_now, pause = policy.check(step)
        if save and save_now:
            save({"steps": step, "of": len(batches), "losses": torch.stack(losses).cpu(),
                  "images": images, "seconds": time.perf_counter() - epoch_started})  # fmt: skip
            policy.saved(step)
        if pause:
            bar.close()
            raise Paused(epoch + step / len(batches), configs[0].epochs)
        losses.append(engine.step(batches[step].to(setup.device)))
        images += len(batches[step])
        bar.update()
    epoch_losses = torch.stack(losses).float().cpu()
    if setup.device.type == "cuda":
        torch.cuda.synchronize()
    bar.close()
    return epoch_losses, images, epoch_started


def _finish(record: dict, model: ModelProgress, clock: Clock, wall_s: float, n: int) -> None:
    """Fill one model's record from its progress and the run's clock."""
    record.update(resumed_after_epochs=clock.resumed_after_epochs, cpu_time_s=clock.cpu_s)
    if len(clock.commits) > 1:  # a run resumed by other code than began it says so
        record["provenance"]["trained_by_commits"] = clock.commits
    if model.failure:
        record.update(status="failed", reason=model.failure)
    if n > 1:
        record["seeds_at_once"] = n
    images_per_s = model.images_seen / model.train_seconds if model.train_seconds else 0.0
    records.finish_record(record, model.epochs, model.iteration_losses, wall_s, images_per_s)


def _log(line: str) -> None:
    """One line per epoch on the terminal (also from a papermill kernel) and in run logs."""
    tqdm.write(line, file=sys.__stderr__)
