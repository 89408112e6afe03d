"""The fused engine: N seeds of one arm trained at once, as one N-wide model
(``lib.model.wide``: grouped convolutions, one group per seed).

The loss is the sum over models of each model's mean cross-entropy: a model's parameters
get exactly its own gradient, and Adam is elementwise, so N-at-once equals N separate
``lib.training.train.train`` runs (each with its own initialisation and data order) up to
floating-point order; ``tests/training/test_fused.py`` checks this in fp32.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib.core.config import RunConfig
from lib.model import data as data_module
from lib.model.augment import crop_and_flip
from lib.model.wide import fuse
from lib.training.budget import Budget
from lib.training.loop import run_epochs
from lib.training.train import Engine, augmentation_draws, initial_model, set_up, training_batches

# Fields that may differ between the configs of one fused batch (everything else must match).
PER_MODEL_FIELDS = ("seed",)


# --- training ------------------------------------------------------------------------


def fused_batch(data, images: torch.Tensor, labels: torch.Tensor, memory_format):
    """uint8 images [B, N, 28, 28] and labels [B, N] (column n: model n's batch) -> input
    [B, N, 28, 28] and labels [N, B]."""
    x = data.normalise(images).squeeze(1).contiguous(memory_format=memory_format)
    return x, labels.T


def fused_step(model, optimizer, x, labels, autocast) -> torch.Tensor:
    """One Adam step of all N models; returns the N detached losses (no synchronisation)."""
    with autocast():
        logits = model(x)  # [N, B, K]
        losses = F.cross_entropy(
            logits.float().flatten(0, 1), labels.flatten(), reduction="none"
        ).view_as(labels)
    losses = losses.mean(1)  # each model's mean cross-entropy, as in lib.training.train
    optimizer.zero_grad(set_to_none=True)
    losses.sum().backward()  # model n's parameters get exactly d(loss_n)
    optimizer.step()
    return losses.detach()


def check_configs(configs: list[RunConfig]) -> None:
    if not configs:
        raise ValueError("train_fused needs at least one config")
    reference = {k: v for k, v in configs[0].to_dict().items() if k not in PER_MODEL_FIELDS}
    for config in configs[1:]:
        values = {k: v for k, v in config.to_dict().items() if k not in PER_MODEL_FIELDS}
        if values != reference:
            differ = sorted(k for k in values if values[k] != reference[k])
            raise ValueError(f"fused configs may differ only in seed; they differ in {differ}")
    seeds = [c.seed for c in configs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"fused configs need distinct seeds, got {seeds}")


class CompiledStep:
    """torch.compile'd training forward with a safe fallback to eager.

    The first step of every batch shape runs after a snapshot of the model and optimizer;
    should compilation fail there, the snapshot is restored and training continues eagerly.
    """

    def __init__(self, model: nn.Module, optimizer, enabled: bool):
        self.model, self.optimizer = model, optimizer
        self.forward = torch.compile(model, dynamic=False) if enabled else model
        self.enabled, self.shapes = enabled, set()

    def step(self, x, labels, autocast) -> torch.Tensor:
        if not self.enabled or x.shape in self.shapes:
            return fused_step(self.forward, self.optimizer, x, labels, autocast)
        snapshot = copy.deepcopy((self.model.state_dict(), self.optimizer.state_dict()))
        try:
            losses = fused_step(self.forward, self.optimizer, x, labels, autocast)
        except Exception as error:  # compiler failures come in many types
            warnings.warn(f"torch.compile failed, training eagerly: {error}", stacklevel=2)
            self.model.load_state_dict(snapshot[0])
            self.optimizer.load_state_dict(snapshot[1])
            self.forward, self.enabled = self.model, False
            return fused_step(self.model, self.optimizer, x, labels, autocast)
        self.shapes.add(x.shape)
        return losses


class FusedEngine(Engine):
    """N seeds of one arm as one N-wide model (see the module's docstring)."""

    name = "fused"

    def __init__(self, configs: list[RunConfig], data=None, compile: bool | None = None):
        check_configs(configs)
        setup = set_up(configs[0], data)
        super().__init__(configs, fuse([initial_model(c) for c in configs], configs[0]), setup)
        enabled = setup.device.type == "cuda" if compile is None else compile
        self.compiled = CompiledStep(self.model, self.optimizer, enabled)

    def batches(self, epoch: int) -> list[torch.Tensor]:
        """[B, N] index tensors: column n is model n's own batch (its seed's data order)."""
        if self.configs[0].augment:  # [N, 3, images]: each seed's own draws
            draws = [augmentation_draws(c, epoch, self.setup.device) for c in self.configs]
            self.draws = torch.stack(draws)
        per_model = (training_batches(c, epoch) for c in self.configs)
        return [torch.stack(batch, dim=1) for batch in zip(*per_model, strict=True)]

    def step(self, index: torch.Tensor) -> torch.Tensor:
        s = self.setup
        images = s.train_images[index]
        if self.draws is not None:  # model n's draws for its column: [3, B, N]
            seeds = torch.arange(len(self.configs), device=index.device)
            images = crop_and_flip(images, self.draws[seeds, :, index].permute(2, 0, 1))
        x, labels = fused_batch(s.data, images, s.train_labels[index], s.memory_format)
        return self.compiled.step(x, labels, s.autocast)


def train_fused(
    configs: list[RunConfig],
    data: data_module.FashionMNIST | None = None,
    progress: bool = True,
    *,
    compile: bool | None = None,
    checkpoint: Path | None = None,
    budget: Budget | None = None,
) -> list[dict]:
    """Train N configs that differ only in seed as one N-wide model; one record per seed.

    Records are those of ``lib.training.train.train`` (``engine`` ``fused``, ``seeds_at_once`` N):
    per-epoch metrics on the full test set, per-iteration losses, status ``complete`` or
    ``failed``. A model whose loss becomes non-finite fails at the end of that epoch while
    the others train on (their gradients are independent). ``images_per_s`` is per seed;
    the engine's throughput is N times it. ``compile``: torch.compile the training forward
    (default: on CUDA only; on failure: eager). ``checkpoint`` and ``budget`` as in
    ``lib.training.train.train``: one checkpoint holds all N models and continues exactly these N.
    """
    engine = FusedEngine(configs, data, compile)
    return run_epochs(engine, progress, checkpoint=checkpoint, budget=budget)
