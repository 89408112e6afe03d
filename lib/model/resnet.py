"""The ResNet-34 family of the paper, readable in one file.

Body (paper Table 1): four stages of 3, 4, 6, 3 basic blocks with 64, 128, 256, 512
channels, global average pooling and a linear classifier. Three switches select the
paper's changes:

* ``stem``: how the 28x28 grey image enters the body

  - ``resnet``: the traditional 7x7 stride-2 conv + BN + act + 3x3 stride-2 max-pool (-> 7x7)
  - ``resnet_nopool``: the same conv without the max-pool (-> 14x14)
  - ``inception``: paper Fig. 3, three branches of three stacked 3x3 convs
    (4->8->16, 4->8->16, 8->16->32 channels) concatenated to 64; stride 1 keeps 28x28,
    stride 2 plus a 3x3 stride-2 max-pool matches the traditional stem's 7x7; at width < 1
    the branches keep these widths and a 1x1 conv projects their 64 channels to the body's
    (``inception_branches``)
  - ``plain``: one 3x3 stride-1 conv to 64 channels: full resolution without Inception

* ``activation``: ``relu`` | ``selu`` inside every block (conv-BN-act-conv-BN-add-act, Fig. 2)
* ``shortcut`` where channels double and maps halve: ``zeropad`` (ResNet option A,
  parameter-free) | ``projection`` (option B, 1x1 stride-2 conv + BN; paper "improvement 1")
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from lib.core.config import RunConfig
from lib.model.conv import Conv2d, as_defined  # Conv2d: a matmul on maps <= its kernel

STAGE_BLOCKS = (3, 4, 6, 3)  # ResNet-34
STAGE_CHANNELS = (64, 128, 256, 512)
INCEPTION_BRANCHES = ((4, 8, 16), (4, 8, 16), (8, 16, 32))  # paper Fig. 3, sums to 64
NUM_CLASSES = 10


def scaled(channels: int, width: float) -> int:
    return max(1, round(channels * width))


def activation_layer(name: str) -> nn.Module:
    return {"relu": nn.ReLU, "selu": nn.SELU}[name](inplace=True)


def conv_bn_act(c_in: int, c_out: int, kernel: int, stride: int, act: str) -> nn.Sequential:
    return nn.Sequential(
        Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, bias=False),
        nn.BatchNorm2d(c_out),
        activation_layer(act),
    )


class ZeroPadShortcut(nn.Module):
    """ResNet option A: take every second pixel and append zero channels. No parameters."""

    def __init__(self, c_in: int, c_out: int, stride: int):
        super().__init__()
        self.extra_channels, self.stride = c_out - c_in, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))


def shortcut(kind: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    if kind == "zeropad":
        return ZeroPadShortcut(c_in, c_out, stride)
    return nn.Sequential(  # option B: the paper's matrix W as a 1x1 convolution
        Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
    )


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, act: str, shortcut_kind: str):
        super().__init__()
        self.conv1 = Conv2d(c_in, c_out, 3, stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = Conv2d(c_out, c_out, 3, 1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.act = activation_layer(act)
        self.shortcut = shortcut(shortcut_kind, c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act(out + self.shortcut(x))


class InceptionStem(nn.Module):
    """Paper Fig. 3: the 7x7 conv split into stacks of three 3x3 convs, in three branches."""

    def __init__(self, width: float, act: str, stride: int):
        super().__init__()
        self.branches = nn.ModuleList()
        for widths in INCEPTION_BRANCHES:
            layers, c_in = [], 1
            for i, c in enumerate(widths):
                c_out = scaled(c, width)
                layers.append(conv_bn_act(c_in, c_out, 3, stride if i == 0 else 1, act))
                c_in = c_out
            self.branches.append(nn.Sequential(*layers))
        # stride 2 reproduces the traditional stem's total downsampling by 4 (28 -> 7)
        self.pool = nn.MaxPool2d(3, 2, padding=1) if stride == 2 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(torch.cat([branch(x) for branch in self.branches], dim=1))


def build_stem(config: RunConfig) -> nn.Module:
    c = scaled(STAGE_CHANNELS[0], config.width)
    if config.stem == "inception":
        # Scaled by 1/4, each branch would start with a one- or two-channel conv + ReLU that
        # throttles the very arm under test: by default they keep the paper's widths.
        width = config.width if config.inception_branches == "scaled" else max(config.width, 1.0)
        stem = InceptionStem(width, config.activation, config.stem_stride)
        c_stem = sum(scaled(b[-1], width) for b in INCEPTION_BRANCHES)
        if c_stem == c:
            return stem
        return nn.Sequential(stem, conv_bn_act(c_stem, c, 1, 1, config.activation))
    if config.stem == "resnet":
        return nn.Sequential(
            conv_bn_act(1, c, 7, 2, config.activation), nn.MaxPool2d(3, 2, padding=1)
        )
    if config.stem == "resnet_nopool":
        return conv_bn_act(1, c, 7, 2, config.activation)
    if config.stem == "plain":
        return conv_bn_act(1, c, 3, 1, config.activation)
    raise ValueError(f"unknown stem {config.stem!r}")


class ResNet34(nn.Module):
    def __init__(self, config: RunConfig):
        super().__init__()
        self.stem = build_stem(config)
        stages, c_in = [], scaled(STAGE_CHANNELS[0], config.width)
        for i, (blocks, channels) in enumerate(zip(STAGE_BLOCKS, STAGE_CHANNELS, strict=True)):
            c_out = scaled(channels, config.width)
            stage = []
            for b in range(blocks):
                stride = 2 if i > 0 and b == 0 else 1
                stage.append(BasicBlock(c_in, c_out, stride, config.activation, config.shortcut))
                c_in = c_out
            stages.append(nn.Sequential(*stage))
        self.stages = nn.Sequential(*stages)
        self.head = nn.Linear(c_in, NUM_CLASSES)
        self._init_weights()

    def _init_weights(self) -> None:
        # torchvision's ResNet initialisation for every arm (the paper states none):
        # He-normal (fan-out) convolutions, BN weight 1 and bias 0, default linear layer.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stages(self.stem(x))
        return self.head(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build_model(config: RunConfig) -> ResNet34:
    return ResNet34(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def training_flops_per_image(config: RunConfig) -> float:
    """Forward + backward FLOPs for one 28x28 training image (torch.utils.flop_counter).

    The nominal count of the architecture: every convolution as defined, padding taps
    included, even where ``lib.model.conv`` computes a tiny map with fewer multiplications.
    """
    from torch.utils.flop_counter import FlopCounterMode

    model = as_defined(build_model(config.replace(device="cpu")))
    batch = 2  # BatchNorm in training mode needs two values per channel on 1x1 maps
    x = torch.randn(batch, 1, 28, 28)
    with FlopCounterMode(display=False) as counter:
        model(x).sum().backward()
    return counter.get_total_flops() / batch
