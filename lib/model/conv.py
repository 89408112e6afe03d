"""``Conv2d``: ``nn.Conv2d`` that computes maps no larger than its kernel as one matmul.

In the 7x7-stem arms the last stages run on 2x2 and 1x1 maps, where a 3x3 convolution
with padding 1 spends most of its multiplications on the zero padding (8 of 9 taps on a
1x1 map) and oneDNN's backward pass is slow for such shapes. On a map of H*W <= kh*kw
pixels every output pixel is a linear function of the whole (tiny) input map, so the
convolution is exactly one dense matmul: input [N, H*W*C] times a weight matrix whose
entries are the kernel taps that connect each (output pixel, input pixel) pair, gathered
from the convolution's own weight (zero where the pair is not connected). Same function,
same parameters and state_dict, fewer FLOPs; larger maps use ``nn.Conv2d`` unchanged.
"""

from __future__ import annotations

from functools import cache

import torch
import torch.nn.functional as F
from torch import nn


@cache
def tap_index(
    in_size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
    device: torch.device,
) -> tuple[torch.Tensor, tuple[int, int], bool]:
    """For each (output pixel, input pixel) pair, the kernel tap joining them.

    Returns (taps as a flat tensor on ``device`` in (output pixel, input pixel) order, where
    ``kh*kw`` marks an unconnected pair; the output size; whether every pair is connected).
    """
    (h, w), (kh, kw), (sh, sw), (ph, pw) = in_size, kernel, stride, padding
    out_h, out_w = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    row = torch.arange(h).view(1, 1, -1, 1) - sh * torch.arange(out_h).view(-1, 1, 1, 1) + ph
    col = torch.arange(w).view(1, 1, 1, -1) - sw * torch.arange(out_w).view(1, -1, 1, 1) + pw
    connected = (row >= 0) & (row < kh) & (col >= 0) & (col < kw)
    taps = torch.where(connected, row * kw + col, kh * kw)
    return taps.flatten().to(device), (out_h, out_w), bool(connected.all())


class Conv2d(nn.Conv2d):
    """``nn.Conv2d``; on maps of at most kh*kw pixels computed as one dense matmul.

    ``dense_small_maps = False`` forces the convolution (see ``as_defined``).
    """

    dense_small_maps = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        kh, kw = self.kernel_size
        if not (
            self.dense_small_maps
            and h * w <= kh * kw
            and self.groups == 1
            and self.dilation == (1, 1)
            and self.padding_mode == "zeros"
            and not isinstance(self.padding, str)
            and self.bias is None
        ):
            return super().forward(x)
        taps, (out_h, out_w), all_connected = tap_index(
            (h, w), self.kernel_size, self.stride, self.padding, x.device
        )
        o = self.out_channels
        # [O, kh*kw, C] is the channels_last weight's own memory order: no copy there
        weight = self.weight.permute(0, 2, 3, 1).reshape(o, kh * kw, c)
        if not all_connected:
            weight = F.pad(weight, (0, 0, 0, 1))  # tap kh*kw: zero
        # [O * out pixels, in pixels * C]: row (o, q) holds the taps from every input pixel
        matrix = weight.index_select(1, taps).reshape(o * out_h * out_w, h * w * c)
        y = F.linear(x.permute(0, 2, 3, 1).reshape(n, h * w * c), matrix)
        layout = torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else None
        y = y.view(n, o, out_h, out_w)
        return y.contiguous(memory_format=layout) if layout else y


def as_defined(model: nn.Module) -> nn.Module:
    """``model`` with every ``Conv2d`` computed as the convolution it defines, so that FLOP
    counters see the architecture's nominal FLOPs (padding taps included). In place."""
    for module in model.modules():
        if isinstance(module, Conv2d):
            module.dense_small_maps = False
    return model
