"""N models of one arm as one N-wide model: the model half of the fused engine
(``lib.training.fused`` trains it).

Each seed's ordinary ``ResNet34`` (``lib.model.resnet``) becomes one *group* of a wide copy of
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
initialisation is exactly that of one model: seed, build the ordinary model, copy it in.
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import nn

from lib.core.config import RunConfig
from lib.model.resnet import BasicBlock, InceptionStem, ResNet34, ZeroPadShortcut, build_model


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
