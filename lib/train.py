"""The training loop: Adam + cross-entropy on device-resident Fashion-MNIST.

One ``RunConfig`` in, one run record (a plain dict, see ``lib.records``) out. Batches
are sliced from uint8 tensors that already live on the training device, so there is no
per-sample DataLoader; bf16 autocast and channels_last are used where the hardware
supports them, fp32 when exactness matters (tests).
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F
from tqdm import tqdm

from lib import checkpoint as checkpoints
from lib import data as data_module
from lib.budget import EPOCH_MARGIN, Budget, Paused
from lib.config import RunConfig
from lib.models import build_model

EVAL_BATCH = 1000  # images per forward pass at evaluation (memory only, no effect on results)
# Steps timed at the start of an epoch to project its length when no epoch has been timed yet
PROBE_STEPS = 5


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or infinite: the run stops as failed."""


def resolve_device(name: str) -> torch.device:
    """``auto`` = CUDA when present, else CPU; an unusable device is an error before compute."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ValueError(f"unknown device {name!r}: {error}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} requested but CUDA is not available here")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"device {name!r} is not supported (use auto, cpu or cuda[:N])")
    return device


def effective_precision(precision: str, device: torch.device) -> str:
    """bf16 only where the hardware computes it natively; otherwise fp32 (and say so)."""
    if precision != "bf16":
        return "fp32"
    if device.type == "cuda":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
    return "bf16" if torch.cpu._is_avx512_bf16_supported() else "fp32"


def lr_factor(config: RunConfig, epoch: int) -> float:
    """LR multiplier during 0-based ``epoch``.

    exponential and step depend only on the epoch (a 20-epoch run contains the 10-epoch
    run exactly); cosine anneals to zero over ``config.epochs`` and so depends on it.
    """
    if config.schedule == "constant":
        return 1.0
    if config.schedule == "exponential":
        return config.lr_gamma**epoch
    if config.schedule == "step":
        return 0.1 ** (epoch // config.lr_step_epochs)
    if config.schedule == "cosine":
        return 0.5 * (1.0 + math.cos(math.pi * epoch / config.epochs))
    raise ValueError(f"unknown schedule {config.schedule!r}")


def epoch_order(config: RunConfig, epoch: int) -> torch.Tensor:
    """The training-image order of one epoch: a function of (seed, epoch) only."""
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch)
    return torch.randperm(config.train_subset, generator=generator)


def training_batches(config: RunConfig, epoch: int) -> list[torch.Tensor]:
    """Index batches of one epoch; a last batch of one image is dropped (BatchNorm)."""
    batches = list(epoch_order(config, epoch).split(config.batch_size))
    return batches if len(batches[-1]) > 1 else batches[:-1]


def execution_settings(
    precision: str, device: torch.device
) -> tuple[torch.memory_format, Callable[[], torch.autocast]]:
    """(memory format, autocast factory) for an effective precision: channels_last and bf16
    autocast when ``precision`` is bf16, contiguous fp32 otherwise."""
    fast = precision == "bf16"
    memory_format = torch.channels_last if fast else torch.contiguous_format

    def autocast() -> torch.autocast:
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=fast)

    return memory_format, autocast


class Setup(NamedTuple):
    """Where and how a run computes, and its training data already on that device."""

    device: torch.device
    precision: str  # the effective one: bf16 only where the hardware supports it
    memory_format: torch.memory_format
    autocast: Callable[[], torch.autocast]
    data: data_module.FashionMNIST  # on ``device``
    train_images: torch.Tensor  # the config's training subset
    train_labels: torch.Tensor


def set_up(config: RunConfig, data: data_module.FashionMNIST | None = None) -> Setup:
    """The set-up every engine shares (lib.train, lib.fused, lib.bench)."""
    device = resolve_device(config.device)
    precision = effective_precision(config.precision, device)
    memory_format, autocast = execution_settings(precision, device)
    data = (data or data_module.load()).to(device)
    subset = slice(config.train_subset)
    return Setup(
        device,
        precision,
        memory_format,
        autocast,
        data,
        data.train_images[subset],
        data.train_labels[subset],
    )


def initial_model(config: RunConfig) -> torch.nn.Module:
    """The run's model at initialisation (on the CPU): a function of the config's seed."""
    torch.manual_seed(config.seed)
    return build_model(config)


def adam(model: torch.nn.Module, config: RunConfig) -> torch.optim.Adam:
    """The run's optimizer. ``fused``: one kernel over all parameters instead of a dozen
    elementwise passes (measured 10-20 % of a CPU step); the same update up to rounding."""
    return torch.optim.Adam(model.parameters(), lr=config.lr, fused=True)


def training_step(model, optimizer, data, images, labels, memory_format, autocast) -> torch.Tensor:
    """One Adam step on a uint8 batch: normalise, forward under autocast, backward, update.

    Returns the detached loss (no host synchronisation)."""
    x = data.normalise(images).contiguous(memory_format=memory_format)
    with autocast():
        loss = F.cross_entropy(model(x).float(), labels)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def evaluate(model, data, autocast, memory_format) -> tuple[float, float]:
    """(mean cross-entropy, accuracy in %) on the full test set."""
    model.eval()
    loss_sum, correct = 0.0, 0
    for images, labels in zip(
        data.test_images.split(EVAL_BATCH), data.test_labels.split(EVAL_BATCH), strict=True
    ):
        x = data.normalise(images).contiguous(memory_format=memory_format)
        with autocast():
            logits = model(x)
        loss_sum += F.cross_entropy(logits.float(), labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
    model.train()
    n = len(data.test_labels)
    return loss_sum / n, 100.0 * correct / n


def train(
    config: RunConfig,
    data: data_module.FashionMNIST | None = None,
    progress: bool = True,
    on_epoch: Callable[[dict], None] | None = None,
    checkpoint: Path | None = None,
    budget: Budget | None = None,
) -> dict:
    """Train one run and return its record (status ``complete`` or ``failed``).

    ``data`` may be preloaded on any device (it is moved to the training device);
    ``on_epoch`` is called with each epoch's metrics (notebooks use it to plot live);
    ``checkpoint``: a file saved after every epoch and resumed from when it continues this
    config; ``budget``: raise ``Paused`` instead of starting an epoch that would end after
    it (the checkpoint keeps the run).
    """
    from lib import records

    device, precision, memory_format, autocast, data, train_images, train_labels = set_up(
        config, data
    )

    model = initial_model(config).to(device, memory_format=memory_format)
    optimizer = adam(model, config)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: lr_factor(config, e))
    # Everything a resumed run needs besides the tensors; elapsed and CPU seconds add up
    # over the segments of a run that was stopped and resumed.
    state = {
        "epochs": [],
        "iteration_losses": [],
        "train_seconds": 0.0,
        "images_seen": 0,
        "elapsed_s": 0.0,
        "cpu_s": 0.0,
        "epoch_seconds": [],
        "resumed_after_epochs": [],
    }
    saved = checkpoints.load(checkpoint, config)
    if saved:
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        checkpoints.restore_rng_states(saved["rng"])
        state = saved["progress"]
        state["resumed_after_epochs"].append(len(state["epochs"]))
        _log(f"{config.arm} seed {config.seed}: resumed after epoch {len(state['epochs'])}")

    record = records.new_record(config, device, precision, engine="single", data=data)
    started, cpu_started = time.perf_counter() - state["elapsed_s"], time.process_time()
    try:
        for epoch in range(len(state["epochs"]), config.epochs):
            epoch_started = time.perf_counter()
            estimate = state["epoch_seconds"][-1] if state["epoch_seconds"] else None
            if budget and not budget.allows(estimate or 0.0):
                raise Paused(epoch, config.epochs)
            lr = optimizer.param_groups[0]["lr"]
            batches = training_batches(config, epoch)
            bar = tqdm(
                batches,
                desc=f"{config.arm} seed {config.seed} epoch {epoch + 1}/{config.epochs}",
                disable=not progress,
                leave=False,
                file=sys.__stderr__,  # the terminal, also from a papermill kernel
            )
            losses = []
            for step, index in enumerate(bar):
                if budget and estimate is None and step == PROBE_STEPS:
                    spent = time.perf_counter() - epoch_started
                    projected = spent / step * len(batches) * EPOCH_MARGIN
                    if not budget.allows(projected - spent):
                        bar.close()
                        raise Paused(epoch, config.epochs)
                index = index.to(device)
                images, labels = train_images[index], train_labels[index]
                losses.append(
                    training_step(model, optimizer, data, images, labels, memory_format, autocast)
                )
                state["images_seen"] += len(index)
            epoch_losses = torch.stack(losses).float().cpu()
            if device.type == "cuda":
                torch.cuda.synchronize()
            state["train_seconds"] += time.perf_counter() - epoch_started
            bad = (~torch.isfinite(epoch_losses)).nonzero()
            state["iteration_losses"] += epoch_losses.tolist()
            if len(bad):
                at = len(state["iteration_losses"]) - len(epoch_losses) + int(bad[0])
                raise NonFiniteLoss(
                    f"non-finite training loss at iteration {at} (epoch {epoch + 1})"
                )
            scheduler.step()
            test_loss, test_accuracy = evaluate(model, data, autocast, memory_format)
            metrics = {
                "epoch": epoch + 1,
                "lr": lr,
                "train_loss": float(epoch_losses.mean()),
                "test_loss": test_loss,
                "test_accuracy": test_accuracy,
                "elapsed_s": time.perf_counter() - started,
            }
            state["epochs"].append(metrics)
            bar.close()
            _log(
                f"{config.arm} seed {config.seed} epoch {epoch + 1}/{config.epochs}: "
                f"train loss {metrics['train_loss']:.4f}, test acc {test_accuracy:.2f} %"
            )
            state["epoch_seconds"].append(time.perf_counter() - epoch_started)
            if checkpoint and epoch + 1 < config.epochs:
                state["elapsed_s"] = time.perf_counter() - started
                state["cpu_s"] += time.process_time() - cpu_started
                cpu_started = time.process_time()
                checkpoints.save(
                    checkpoint,
                    config,
                    {
                        "model": model.state_dict(),
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "progress": state,
                    },
                )
            if on_epoch:
                on_epoch(metrics)
    except NonFiniteLoss as error:
        record.update(status="failed", reason=str(error))
    record.update(
        resumed_after_epochs=state["resumed_after_epochs"],
        cpu_time_s=state["cpu_s"] + time.process_time() - cpu_started,
    )
    records.finish_record(
        record,
        epochs=state["epochs"],
        iteration_losses=state["iteration_losses"],
        wall_time_s=time.perf_counter() - started,
        images_per_s=state["images_seen"] / state["train_seconds"]
        if state["train_seconds"]
        else 0.0,
    )
    return record


def _log(line: str) -> None:
    """One line per epoch on the terminal (also from a papermill kernel) and in run logs."""
    tqdm.write(line, file=sys.__stderr__)
