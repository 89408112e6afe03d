import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lib.model.conv import Conv2d, as_defined, tap_index

# (in channels, out channels, map size, kernel, stride, padding): every tiny-map case of
# the model family, plus odd ones (7x7 and 5x5 kernels; 3x3/2 on 3x3: unconnected pairs)
TINY = [
    (8, 16, 1, 3, 1, 1),  # layer4 of the 7x7-stem arms
    (8, 16, 2, 3, 1, 1),  # layer3
    (8, 16, 2, 3, 2, 1),  # layer4's first conv: 2x2 -> 1x1
    (8, 16, 3, 3, 1, 1),
    (8, 16, 3, 3, 2, 1),
    (8, 16, 1, 1, 1, 0),
    (8, 16, 1, 1, 2, 0),
    (4, 4, 1, 7, 2, 3),
    (4, 6, 2, 5, 1, 2),
]


def _pair(c_in, c_out, size, kernel, stride, padding, channels_last, dtype=torch.float64):
    torch.manual_seed(0)
    reference = nn.Conv2d(c_in, c_out, kernel, stride, padding, bias=False).to(dtype)
    dense = Conv2d(c_in, c_out, kernel, stride, padding, bias=False).to(dtype)
    dense.load_state_dict(reference.state_dict())
    layout = torch.channels_last if channels_last else torch.contiguous_format
    x = torch.randn(5, c_in, size, size, dtype=dtype).contiguous(memory_format=layout)
    return reference.to(memory_format=layout), dense.to(memory_format=layout), x


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("shape", TINY)
def test_dense_path_equals_the_convolution_with_its_gradients(shape, channels_last):
    reference, dense, x = _pair(*shape, channels_last)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    y1, y2 = reference(x1), dense(x2)
    grad = torch.randn_like(y1)
    y1.backward(grad)
    y2.backward(grad)
    assert y2.shape == y1.shape
    torch.testing.assert_close(y2, y1)
    torch.testing.assert_close(x2.grad, x1.grad)
    torch.testing.assert_close(dense.weight.grad, reference.weight.grad)


def test_dense_path_runs_where_the_map_fits_the_kernel():
    _, dense, x = _pair(8, 16, 2, 3, 1, 1, channels_last=True)
    with FlopCounterMode(display=False) as counter:
        dense(x)
    assert set(map(str, counter.get_flop_counts()["Global"])) == {"aten.mm"}
    # 2x2 map: 4 input pixels of 9 taps, so 4/9 of the convolution's multiplications
    with FlopCounterMode(display=False) as nominal:
        as_defined(dense)(x)
    assert set(map(str, nominal.get_flop_counts()["Global"])) == {"aten.convolution"}
    assert counter.get_total_flops() * 9 == nominal.get_total_flops() * 4


def test_larger_maps_use_the_convolution():
    torch.manual_seed(0)
    conv = Conv2d(4, 4, 3, 1, 1, bias=False)
    with FlopCounterMode(display=False) as counter:
        conv(torch.randn(2, 4, 4, 4))  # 16 pixels > 9 taps
    assert set(map(str, counter.get_flop_counts()["Global"])) == {"aten.convolution"}


@pytest.mark.parametrize(
    "conv",
    [
        Conv2d(4, 4, 3, padding=1, groups=2, bias=False),
        Conv2d(4, 4, 3, padding=1, bias=True),
        Conv2d(4, 4, 3, padding=2, dilation=2, bias=False),
        Conv2d(4, 4, 3, padding=1, padding_mode="circular", bias=False),
    ],
    ids=["groups", "bias", "dilation", "circular"],
)
def test_other_convolutions_keep_the_convolution(conv):
    x = torch.randn(2, 4, 2, 2)
    with FlopCounterMode(display=False) as counter:
        y = conv(x)
    assert set(map(str, counter.get_flop_counts()["Global"])) == {"aten.convolution"}
    torch.testing.assert_close(y, nn.Conv2d.forward(conv, x))


def test_output_keeps_the_input_layout():
    for channels_last in (False, True):
        _, dense, x = _pair(8, 16, 2, 3, 1, 1, channels_last)
        y = dense(x)
        assert y.is_contiguous(
            memory_format=torch.channels_last if channels_last else torch.contiguous_format
        )


def test_bf16_autocast_stays_close_to_fp32():
    reference, dense, x = _pair(64, 64, 2, 3, 1, 1, True, dtype=torch.float32)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = dense(x)
    assert y.dtype == torch.bfloat16
    expected = F.conv2d(x, reference.weight, padding=1)
    torch.testing.assert_close(y.float(), expected, atol=0.1, rtol=0.02)


def test_tap_index_marks_unconnected_pairs():
    # 2x2 map, 3x3 kernel, padding 1: output pixel (0, 0) sees the input through the
    # kernel's lower-right taps 4, 5, 7, 8; output pixel (1, 1) through the upper-left ones
    taps, out_size, all_connected = tap_index((2, 2), (3, 3), (1, 1), (1, 1), torch.device("cpu"))
    assert out_size == (2, 2) and all_connected
    assert taps.view(4, 4)[0].tolist() == [4, 5, 7, 8]
    assert taps.view(4, 4)[3].tolist() == [0, 1, 3, 4]
    # 2x2 map, 1x1 kernel, stride 1: pixel q sees only pixel q; the rest is "tap 1" (zero)
    taps, out_size, all_connected = tap_index((2, 2), (1, 1), (1, 1), (0, 0), torch.device("cpu"))
    assert out_size == (2, 2) and not all_connected
    assert taps.view(4, 4).tolist() == [[0 if p == q else 1 for p in range(4)] for q in range(4)]
