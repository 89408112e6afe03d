"""Training one model: Adam + cross-entropy on device-resident Fashion-MNIST.

One ``RunConfig`` in, one run record (a plain dict, see ``lib.core.records``) out. Batches
are sliced from uint8 tensors that already live on the training device, so there is no
per-sample DataLoader; bf16 autocast and channels_last are used where the hardware
supports them, fp32 when exactness matters (tests). The epoch loop itself is
``lib.training.loop.run_epochs``, shared with the fused engine (``lib.training.fused``): this module
gives it the ``Engine`` of one model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import torch
import torch.nn.functional as F

from lib.core.config import RunConfig
from lib.model import data as data_module
from lib.model.augment import crop_and_flip, epoch_draws
from lib.model.resnet import build_model
from lib.training.budget import Budget
from lib.training.loop import run_epochs

EVAL_BATCH = 1000  # images per forward pass at evaluation (memory only, no effect on results)


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


def augmentation_draws(config: RunConfig, epoch: int, device) -> torch.Tensor | None:
    """The epoch's crop and flip draws per training image on ``device`` (None: no augmentation)."""
    return epoch_draws(config, epoch).to(device) if config.augment else None


def execution_settings(
    precision: str, device: torch.device
) -> tuple[torch.memory_format, Callable[[], torch.autocast]]:
    """(memory format, autocast factory) for an effective precision: bf16 autocast when
    ``precision`` is bf16; channels_last with bf16 and on every CPU, where it is at least as
    fast in fp32 too (one thread, batch 128, on a CPU without AVX-512: resnet34 177-183
    images/s against 130-151 contiguous, resnet34_inception 10.2-10.7 against 9.8-10.5;
    ``make bench`` times this step on the machine at hand)."""
    fast = precision == "bf16"
    nhwc = fast or device.type == "cpu"
    memory_format = torch.channels_last if nhwc else torch.contiguous_format

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
    """The set-up every engine shares (lib.training.train, lib.training.fused,
    lib.training.bench)."""
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
def evaluate(model, data, autocast, memory_format, models: int = 1) -> list[tuple[float, float]]:
    """Per model: (mean cross-entropy, accuracy in %) on the full test set.

    ``models`` > 1: the fused N-wide model (``lib.training.fused``), which reads model n's images
    from input channel n and returns logits [N, batch, classes]."""
    model.eval()
    device = data.test_labels.device
    loss_sums, correct = [0.0] * models, torch.zeros(models, dtype=torch.long, device=device)
    for images, labels in zip(
        data.test_images.split(EVAL_BATCH), data.test_labels.split(EVAL_BATCH), strict=True
    ):
        x = (
            data.normalise(images)
            .expand(-1, models, -1, -1)
            .contiguous(memory_format=memory_format)
        )
        with autocast():
            logits = model(x).view(models, len(labels), -1)
        for m in range(models):
            loss_sums[m] += F.cross_entropy(logits[m].float(), labels, reduction="sum").item()
        correct += (logits.argmax(2) == labels).sum(1)
    model.train()
    n = len(data.test_labels)
    return [
        (loss / n, 100.0 * hits / n) for loss, hits in zip(loss_sums, correct.tolist(), strict=True)
    ]


class Engine:
    """What the epoch loop (``lib.training.loop``) trains: N models of configs that differ only in
    seed, with one optimizer and LR schedule. Subclasses say how a batch and an
    evaluation run: ``SingleEngine`` (N = 1) and ``lib.training.fused.FusedEngine``."""

    name = ""  # the record's ``engine``

    def __init__(self, configs: list[RunConfig], model: torch.nn.Module, setup: Setup):
        self.configs, self.setup = configs, setup
        self.draws = None  # the epoch's augmentation draws (lib.model.augment), set by batches()
        self.model = model.to(setup.device, memory_format=setup.memory_format)
        self.optimizer = adam(self.model, configs[0])
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda e: lr_factor(configs[0], e)
        )

    def batches(self, epoch: int) -> list[torch.Tensor]:
        """Index tensors of the epoch's steps (the device moves them)."""
        raise NotImplementedError

    def step(self, index: torch.Tensor) -> torch.Tensor:
        """One Adam step; the N models' detached losses (no host synchronisation)."""
        raise NotImplementedError

    def evaluate(self) -> list[tuple[float, float]]:
        s = self.setup
        return evaluate(self.model, s.data, s.autocast, s.memory_format, len(self.configs))

    def state_dict(self) -> dict:
        """What a checkpoint must hold to go on (besides the loop's progress and RNG)."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])


class SingleEngine(Engine):
    """One model of one config."""

    name = "single"

    def __init__(self, config: RunConfig, data: data_module.FashionMNIST | None = None):
        super().__init__([config], initial_model(config), set_up(config, data))

    def batches(self, epoch: int) -> list[torch.Tensor]:
        self.draws = augmentation_draws(self.configs[0], epoch, self.setup.device)
        return training_batches(self.configs[0], epoch)

    def step(self, index: torch.Tensor) -> torch.Tensor:
        s = self.setup
        images, labels = s.train_images[index], s.train_labels[index]
        if self.draws is not None:
            images = crop_and_flip(images, self.draws[:, index])
        loss = training_step(
            self.model, self.optimizer, s.data, images, labels, s.memory_format, s.autocast
        )
        return loss.view(1)


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
    ``checkpoint``: a file saved after every epoch (and inside long ones) and resumed from
    when it continues this config; ``budget``: raise ``lib.training.budget.Paused`` instead of
    starting a step that would end after it (the checkpoint keeps the run).
    """
    engine = SingleEngine(config, data)
    return run_epochs(engine, progress, on_epoch, checkpoint, budget)[0]
