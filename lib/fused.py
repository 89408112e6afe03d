"""The fused engine: N seeds of one arm trained at once, as one N-wide model.

Each seed's ordinary ``ResNet34`` (``lib.models``) becomes one *group* of a wide copy of
the same network, so one kernel launch computes all N models and small kernels (the 7x7-stem
arms see 7x7 to 1x1 maps) become N times bigger:

* every convolution gets ``groups=N`` (model n's channels are the n-th contiguous block of
  every feature map; the 1-channel input becomes N channels, channel n carrying model n's
  own batch);
* every BatchNorm covers N*C channels: its statistics are per channel, hence per model,
  in training (batch statistics) and in evaluation (running statistics);
* the linear head is a batched matmul over models, giving logits ``[N, batch, classes]``;
* the parameter-free zero-padding shortcut and the Inception stem's concatenation act per
  group, so each model's channels stay contiguous and in the order of the ordinary model.

The fused model's ``state_dict`` has the ordinary model's keys, each tensor being the N
models' tensors concatenated along dim 0 (``fuse`` and ``unfuse`` convert both ways), so
initialisation is exactly ``lib.train``'s: seed, build the ordinary model, copy it in.

The loss is the sum over models of each model's mean cross-entropy: a model's parameters
get exactly its own gradient, and Adam is elementwise, so N-at-once equals N separate
``lib.train.train`` runs (each with its own initialisation and data order) up to
floating-point order; ``tests/test_fused.py`` checks this in fp32.
"""

from __future__ import annotations

import copy
import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from lib import data as data_module
from lib.augment import crop_and_flip
from lib.budget import Budget
from lib.config import RunConfig
from lib.loop import run_epochs
from lib.models import BasicBlock, InceptionStem, ResNet34, ZeroPadShortcut, build_model
from lib.train import Engine, augmentation_draws, initial_model, set_up, training_batches

# Fields that may differ between the configs of one fused batch (everything else must match).
PER_MODEL_FIELDS = ("seed",)


# --- the N-wide model ------------------------------------------------------------------


def _is_channels_last(x: torch.Tensor) -> bool:
    return x.dim() == 4 and x.stride(1) == 1 and x.shape[1] > 1


def _grouped_view(x: torch.Tensor, groups: int, channels_last: bool):
    """``x`` [B, N*C, H, W] as a 5-D view with a per-group channel axis.

    Returns (view, channel axis, function turning a view of the same layout back to 4-D).
    The channels_last path stays in NHWC order, so no layout conversion is needed.
    """
    if channels_last:
        view = x.permute(0, 2, 3, 1).unflatten(3, (groups, -1))  # [B, H, W, N, C]
        return view, 4, lambda v: v.flatten(3).permute(0, 3, 1, 2)
    return x.unflatten(1, (groups, -1)), 2, lambda v: v.flatten(1, 2)  # [B, N, C, H, W]


class GroupedZeroPadShortcut(nn.Module):
    """ResNet option A per model: subsample, then append zero channels to every group."""

    def __init__(self, groups: int, extra_channels: int, stride: int):
        super().__init__()
        self.groups, self.extra_channels, self.stride = groups, extra_channels, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        view, axis, back = _grouped_view(
            x[:, :, :: self.stride, :: self.stride], self.groups, _is_channels_last(x)
        )
        pad = [0, 0] * (view.dim() - 1 - axis) + [0, self.extra_channels]
        return back(F.pad(view, pad))


class GroupedInceptionStem(nn.Module):
    """``InceptionStem`` with grouped branches, concatenated per model (not per branch)."""

    def __init__(self, groups: int, branches: nn.ModuleList, pool: nn.Module):
        super().__init__()
        self.groups, self.branches, self.pool = groups, branches, pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = [branch(x) for branch in self.branches]
        channels_last = _is_channels_last(outs[0])
        views = [_grouped_view(out, self.groups, channels_last) for out in outs]
        _, axis, back = views[0]
        return self.pool(back(torch.cat([view for view, _, _ in views], dim=axis)))


class GroupedLinear(nn.Module):
    """N independent linear layers: [B, N*C] -> logits [N, B, K].

    ``weight`` is [N*K, C] and ``bias`` [N*K]: the N models' tensors stacked along dim 0,
    like every other tensor of the fused model.
    """

    def __init__(self, groups: int, in_features: int, out_features: int):
        super().__init__()
        self.groups = groups
        self.weight = nn.Parameter(torch.empty(groups * out_features, in_features))
        self.bias = nn.Parameter(torch.empty(groups * out_features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.groups
        x = x.unflatten(1, (n, -1)).transpose(0, 1)  # [N, B, C]
        weight = self.weight.unflatten(0, (n, -1)).transpose(1, 2)  # [N, C, K]
        return torch.baddbmm(self.bias.unflatten(0, (n, 1, -1)), x, weight)


STATELESS = (nn.ReLU, nn.SELU, nn.MaxPool2d, nn.Identity)
CONTAINERS = (nn.Sequential, nn.ModuleList, BasicBlock, ResNet34)


def _widen(module: nn.Module, n: int) -> nn.Module | None:
    """The N-wide replacement of one module, or None for a container to recurse into."""
    if isinstance(module, nn.Conv2d):
        if module.groups != 1:
            raise TypeError("only ungrouped convolutions can be fused")
        return nn.Conv2d(
            n * module.in_channels,
            n * module.out_channels,
            module.kernel_size,
            module.stride,
            module.padding,
            module.dilation,
            groups=n,
            bias=module.bias is not None,
        )
    if isinstance(module, nn.BatchNorm2d):
        return nn.BatchNorm2d(n * module.num_features, module.eps, module.momentum)
    if isinstance(module, nn.Linear):
        return GroupedLinear(n, module.in_features, module.out_features)
    if isinstance(module, ZeroPadShortcut):
        return GroupedZeroPadShortcut(n, module.extra_channels, module.stride)
    if isinstance(module, InceptionStem):
        return GroupedInceptionStem(n, _widened(module.branches, n), _widened(module.pool, n))
    if isinstance(module, STATELESS):
        return copy.deepcopy(module)
    if isinstance(module, CONTAINERS):
        return None
    raise TypeError(f"the fused engine does not know how to widen {type(module).__name__}")


def _widened(module: nn.Module, n: int) -> nn.Module:
    wide = _widen(module, n)
    if wide is not None:
        return wide
    for name, child in list(module.named_children()):
        setattr(module, name, _widened(child, n))
    return module


def fused_model(config: RunConfig, n: int) -> nn.Module:
    """The N-wide architecture of ``config`` (values uninitialised: load a state into it)."""
    with torch.device("meta"):  # the template only gives the structure: allocate nothing
        template = build_model(config)
    model = _widened(template, n)
    leftover = [k for k, t in model.state_dict().items() if t.is_meta]
    if leftover:
        raise TypeError(f"not widened: {leftover}")
    return model


def fuse(models: list[nn.Module], config: RunConfig) -> nn.Module:
    """One N-wide model holding ``models`` (ordinary models of ``config``'s architecture)."""
    states = [m.state_dict() for m in models]
    wide = fused_model(config, len(models))
    wide.load_state_dict(
        {
            key: torch.cat([s[key] for s in states]) if value.dim() else value
            for key, value in states[0].items()  # num_batches_tracked (a scalar) is shared
        }
    )
    return wide


def unfuse(wide: nn.Module, config: RunConfig, n: int) -> list[nn.Module]:
    """The N ordinary models inside a fused model (copies, on the CPU)."""
    models = []
    for index in range(n):
        model = build_model(config)
        model.load_state_dict(
            {
                key: (value.chunk(n)[index] if value.dim() else value).detach().cpu().clone()
                for key, value in wide.state_dict().items()
            }
        )
        models.append(model)
    return models


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
    losses = losses.mean(1)  # each model's mean cross-entropy, as in lib.train
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

    Records are those of ``lib.train.train`` (``engine`` ``fused``, ``seeds_at_once`` N):
    per-epoch metrics on the full test set, per-iteration losses, status ``complete`` or
    ``failed``. A model whose loss becomes non-finite fails at the end of that epoch while
    the others train on (their gradients are independent). ``images_per_s`` is per seed;
    the engine's throughput is N times it. ``compile``: torch.compile the training forward
    (default: on CUDA only; on failure: eager). ``checkpoint`` and ``budget`` as in
    ``lib.train.train``: one checkpoint holds all N models and continues exactly these N.
    """
    engine = FusedEngine(configs, data, compile)
    return run_epochs(engine, progress, checkpoint=checkpoint, budget=budget)
