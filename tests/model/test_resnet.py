"""lib.model.resnet: the ResNet-34 family matches torchvision, and each switch changes only its
part."""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lib.core.arms import ARMS, run_config
from lib.core.config import RunConfig
from lib.model.resnet import (
    BasicBlock,
    ZeroPadShortcut,
    build_model,
    build_stem,
    count_parameters,
    training_flops_per_image,
)

pytestmark = pytest.mark.usefixtures("one_thread")

DOWNSAMPLING_SHORTCUTS = {"stages.1.0.shortcut", "stages.2.0.shortcut", "stages.3.0.shortcut"}


def on_meta(config: RunConfig) -> nn.Module:
    """A full-width model without allocating or initialising real weights (shapes only)."""
    with torch.device("meta"):
        return build_model(config)


def shapes(model: nn.Module, skip: str | None = None) -> dict[str, tuple[int, ...]]:
    return {
        name: tuple(t.shape)
        for name, t in model.state_dict().items()
        if skip is None or not name.startswith(skip)
    }


def module_types(model: nn.Module) -> dict[str, type]:
    return {name: type(m) for name, m in model.named_modules()}


def test_projection_resnet34_has_torchvision_parameters():
    ours = on_meta(run_config("resnet34_projection", "paper", 0))
    with torch.device("meta"):
        reference = torchvision.models.resnet34(num_classes=10)
        reference.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    assert count_parameters(ours) == count_parameters(reference) == 21_283_530
    assert sorted(tuple(p.shape) for p in ours.parameters()) == sorted(
        tuple(p.shape) for p in reference.parameters()
    )


def test_zeropad_shortcut_is_parameter_free_and_pads_channels():
    module = ZeroPadShortcut(4, 8, 2)
    assert count_parameters(module) == 0 and not list(module.buffers())
    x = torch.randn(2, 4, 6, 6)
    out = module(x)
    assert out.shape == (2, 8, 3, 3)
    assert torch.equal(out[:, :4], x[:, :, ::2, ::2])
    assert torch.equal(out[:, 4:], torch.zeros(2, 4, 3, 3))


def test_shortcut_switch_changes_only_the_three_downsampling_shortcuts():
    config = RunConfig(width=0.25)
    zeropad, projection = build_model(config), build_model(config.replace(shortcut="projection"))
    zeropad_types, projection_types = module_types(zeropad), module_types(projection)
    differ = {
        name
        for name in zeropad_types.keys() | projection_types.keys()
        if zeropad_types.get(name) != projection_types.get(name)
    }
    assert {name for name in differ if name.count(".") == 3} == DOWNSAMPLING_SHORTCUTS
    assert all(any(name.startswith(s) for s in DOWNSAMPLING_SHORTCUTS) for name in differ)
    assert all(zeropad_types[s] is ZeroPadShortcut for s in DOWNSAMPLING_SHORTCUTS)

    extra = set(shapes(projection)) - set(shapes(zeropad))
    assert {".".join(name.split(".")[:4]) for name in extra} == DOWNSAMPLING_SHORTCUTS
    assert not set(shapes(zeropad)) - set(shapes(projection))
    shortcut_params = sum(
        count_parameters(projection.get_submodule(s)) for s in DOWNSAMPLING_SHORTCUTS
    )
    assert shortcut_params > 0
    assert count_parameters(projection) - count_parameters(zeropad) == shortcut_params


def test_baseline_shortcuts_have_no_parameters():
    model = build_model(RunConfig(width=0.25))
    for name, module in model.named_modules():
        if name.endswith("shortcut"):
            assert count_parameters(module) == 0, name


def test_activation_switch_swaps_relu_for_selu_only():
    config = RunConfig(width=0.25)
    relu, selu = build_model(config), build_model(config.replace(activation="selu"))
    assert count_parameters(relu) == count_parameters(selu)
    assert shapes(relu) == shapes(selu)
    relu_types, selu_types = module_types(relu), module_types(selu)
    differ = {name for name in relu_types if relu_types[name] != selu_types[name]}
    assert differ and all(relu_types[n] is nn.ReLU and selu_types[n] is nn.SELU for n in differ)
    assert nn.SELU not in relu_types.values() and nn.ReLU not in selu_types.values()
    # one activation per block and one in the stem
    assert sum(t is nn.ReLU for t in relu_types.values()) == 3 + 4 + 6 + 3 + 1


@pytest.mark.parametrize(
    "stem, stride, size",
    [
        ("resnet", 1, 7),
        ("resnet_nopool", 1, 14),
        ("inception", 1, 28),
        ("inception", 2, 7),
        ("plain", 1, 28),
    ],
)
@pytest.mark.parametrize("width", [1.0, 0.125])
def test_stem_output_channels_and_resolution(stem, stride, size, width):
    module = build_stem(RunConfig(stem=stem, stem_stride=stride, width=width)).eval()
    with torch.no_grad():
        out = module(torch.randn(2, 1, 28, 28))
    assert out.shape == (2, round(64 * width), size, size)


@pytest.mark.parametrize(
    "stem, stride", [("resnet_nopool", 1), ("inception", 1), ("inception", 2), ("plain", 1)]
)
def test_stem_switch_changes_only_the_stem(stem, stride):
    config = RunConfig(width=0.25)
    baseline, switched = (
        build_model(config),
        build_model(config.replace(stem=stem, stem_stride=stride)),
    )
    assert shapes(baseline, skip="stem.") == shapes(switched, skip="stem.")
    assert shapes(baseline, skip="stages.") != shapes(switched, skip="stages.")
    assert repr(baseline.stages) == repr(switched.stages)
    assert repr(baseline.head) == repr(switched.head)


def test_inception_stem_follows_paper_figure_3():
    stem = build_stem(RunConfig(stem="inception"))
    widths = [[layer[0].out_channels for layer in branch] for branch in stem.branches]
    assert widths == [[4, 8, 16], [4, 8, 16], [8, 16, 32]]
    kernels = {layer[0].kernel_size for branch in stem.branches for layer in branch}
    assert kernels == {(3, 3)}


def test_unknown_stem_is_an_error():
    with pytest.raises(ValueError, match="unknown stem"):
        build_model(RunConfig(stem="nope"))  # type: ignore[arg-type]


def _arms_with_distinct_models() -> list[str]:
    """One arm per model architecture (arms that differ only in the LR schedule share one)."""
    seen = {}
    for name in ARMS:
        c = run_config(name, "smoke", 0)
        seen.setdefault((c.stem, c.stem_stride, c.activation, c.shortcut), name)
    return list(seen.values())


@pytest.mark.parametrize("arm", _arms_with_distinct_models())
def test_every_architecture_maps_28x28_images_to_10_logits(arm):
    model = build_model(run_config(arm, "smoke", 0)).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


@pytest.mark.parametrize("arm", ["resnet34", "resnet34_projection", "resnet34_inception_s2"])
def test_small_map_matmuls_leave_the_model_function_unchanged(arm):
    """Whole model, training mode, float64: the dense small-map path (lib.model.conv) gives the
    logits and every gradient of the same model computed with convolutions only."""
    import copy

    from lib.model.conv import as_defined

    torch.manual_seed(0)
    model = build_model(run_config(arm, "smoke", 0)).double()
    reference = as_defined(copy.deepcopy(model))
    x = torch.randn(8, 1, 28, 28, dtype=torch.float64)
    with FlopCounterMode(display=False) as counter:
        model(x)
    assert "aten.mm" in map(str, counter.get_flop_counts()["Global"])  # the path is taken
    for m in (model, reference):
        m(x).square().sum().backward()
    torch.testing.assert_close(model(x), reference(x))
    for (name, p), q in zip(model.named_parameters(), reference.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, msg=name)


def test_flop_count_on_meta_equals_the_real_count():
    config = run_config("resnet34", "smoke", 0)
    real = training_flops_per_image(config)
    with torch.device("meta"):
        assert training_flops_per_image(config) == real > 0


def test_training_flops_per_image():
    with torch.device("meta"):
        resnet = training_flops_per_image(run_config("resnet34", "paper", 0))
        inception = training_flops_per_image(run_config("resnet34_inception", "paper", 0))
        inception_s2 = training_flops_per_image(run_config("resnet34_inception_s2", "paper", 0))
    assert 0.40e9 < resnet < 0.43e9
    assert 5.4e9 < inception < 5.8e9
    assert inception > 10 * resnet
    assert 0.40e9 < inception_s2 < 0.45e9  # same 7x7 resolution as the resnet stem


# --- wiring: the same function as an independent implementation, weights copied -------------
# Parameter counts and shapes cannot see a dropped residual add or a misplaced activation;
# these tests compare eval-mode logits in float64 with code that is not ours: torchvision's
# ResNet-34 for option B (projection), and a block and network hand-wired below from
# torch.nn.functional calls for option A (zero padding), which torchvision does not have.


def randomise_batchnorm(model: nn.Module, seed: int) -> None:
    """Non-trivial running statistics and affine parameters in every BatchNorm, so that
    eval-mode BN is not the identity and no wiring error can hide behind it."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                c = m.num_features
                m.running_mean.copy_(0.2 * torch.randn(c, generator=generator))
                m.running_var.copy_(0.5 + torch.rand(c, generator=generator))
                m.weight.copy_(0.5 + torch.rand(c, generator=generator))
                m.bias.copy_(0.2 * torch.randn(c, generator=generator))


def torchvision_name_to_ours(name: str) -> str:
    """conv1/bn1 -> the stem's conv and BN, layerK -> stages.K-1, downsample -> shortcut,
    fc -> head; everything inside a block keeps its name."""
    name = re.sub(r"^conv1\.", "stem.0.0.", name)
    name = re.sub(r"^bn1\.", "stem.0.1.", name)
    name = re.sub(r"^layer(\d)\.", lambda m: f"stages.{int(m.group(1)) - 1}.", name)
    name = name.replace(".downsample.", ".shortcut.")
    return re.sub(r"^fc\.", "head.", name)


def assert_same_outputs(got: torch.Tensor, expected: torch.Tensor) -> None:
    assert got.dtype == expected.dtype == torch.float64
    # the reference's outputs differ between inputs: the comparison is not one of constants
    assert (expected - expected.mean(0)).abs().max() > 1e-2
    torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)


def test_projection_relu_model_computes_torchvision_resnet34():
    config = run_config("resnet34_projection", "paper", 0)
    assert (config.stem, config.activation, config.shortcut, config.width) == (
        "resnet",
        "relu",
        "projection",
        1.0,
    )
    torch.manual_seed(0)
    reference = torchvision.models.resnet34(num_classes=10)
    reference.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)  # grey images: one input channel
    randomise_batchnorm(reference, seed=1)
    reference = reference.double().eval()
    ours = build_model(config).double().eval()
    # strict: every tensor of either model has exactly one counterpart of the same shape
    ours.load_state_dict(
        {torchvision_name_to_ours(k): v for k, v in reference.state_dict().items()}
    )
    x = torch.randn(6, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        assert_same_outputs(ours(x), reference(x))


def _bn(x: torch.Tensor, p: dict[str, torch.Tensor], name: str) -> torch.Tensor:
    return F.batch_norm(
        x,
        p[f"{name}.running_mean"],
        p[f"{name}.running_var"],
        p[f"{name}.weight"],
        p[f"{name}.bias"],
        training=False,
        eps=1e-5,
    )


def hand_wired_block(x, p: dict[str, torch.Tensor], prefix: str, stride: int, act):
    """He et al. (2016) basic block, option A: conv3x3(stride)-BN-act-conv3x3-BN, plus the
    input taken at every ``stride``-th pixel with zero channels appended, then act."""
    out = act(
        _bn(F.conv2d(x, p[f"{prefix}conv1.weight"], stride=stride, padding=1), p, f"{prefix}bn1")
    )
    out = _bn(F.conv2d(out, p[f"{prefix}conv2.weight"], padding=1), p, f"{prefix}bn2")
    identity = x[:, :, ::stride, ::stride]
    extra = out.shape[1] - identity.shape[1]
    if extra:
        zeros = identity.new_zeros(identity.shape[0], extra, *identity.shape[2:])
        identity = torch.cat([identity, zeros], dim=1)
    return act(out + identity)


def hand_wired_resnet34(x, p: dict[str, torch.Tensor], act):
    """The 7x7-stem ResNet-34 with option-A shortcuts (paper Table 1), block by block."""
    x = act(_bn(F.conv2d(x, p["stem.0.0.weight"], stride=2, padding=3), p, "stem.0.1"))
    x = F.max_pool2d(x, 3, 2, padding=1)
    for stage, blocks in enumerate((3, 4, 6, 3)):
        for block in range(blocks):
            stride = 2 if stage > 0 and block == 0 else 1
            x = hand_wired_block(x, p, f"stages.{stage}.{block}.", stride, act)
    return F.linear(x.mean(dim=(2, 3)), p["head.weight"], p["head.bias"])


ACTIVATIONS = {"relu": F.relu, "selu": F.selu}


@pytest.mark.parametrize("act", ["relu", "selu"])
@pytest.mark.parametrize("c_in, c_out, stride", [(8, 16, 2), (16, 16, 1)])
def test_zeropad_block_computes_a_hand_wired_block(act, c_in, c_out, stride):
    generator = torch.Generator().manual_seed(0)

    def rand(*shape, low=-1.0, high=1.0):
        return low + (high - low) * torch.rand(*shape, generator=generator, dtype=torch.float64)

    p = {"conv1.weight": rand(c_out, c_in, 3, 3) / 3, "conv2.weight": rand(c_out, c_out, 3, 3) / 3}
    for bn in ("bn1", "bn2"):
        p |= {
            f"{bn}.weight": rand(c_out, low=0.5, high=1.5),
            f"{bn}.bias": rand(c_out, low=-0.3, high=0.3),
            f"{bn}.running_mean": rand(c_out, low=-0.3, high=0.3),
            f"{bn}.running_var": rand(c_out, low=0.5, high=1.5),
            f"{bn}.num_batches_tracked": torch.tensor(1),
        }
    ours = BasicBlock(c_in, c_out, stride, act, "zeropad").double().eval()
    ours.load_state_dict(p)  # strict: option A adds no parameters of its own
    x = torch.randn(4, c_in, 7, 7, dtype=torch.float64, generator=generator)
    with torch.no_grad():
        got = ours(x)
    expected = hand_wired_block(x, p, "", stride, ACTIVATIONS[act])
    assert got.shape == (4, c_out, 4 if stride == 2 else 7, 4 if stride == 2 else 7)
    assert_same_outputs(got.flatten(1), expected.flatten(1))


@pytest.mark.parametrize("arm", ["resnet34", "resnet34_selu"])
def test_zeropad_model_computes_a_hand_wired_resnet34(arm):
    config = run_config(arm, "paper", 0)
    assert (config.stem, config.shortcut, config.width) == ("resnet", "zeropad", 1.0)
    torch.manual_seed(0)
    ours = build_model(config)
    randomise_batchnorm(ours, seed=1)
    ours = ours.double().eval()
    x = torch.randn(6, 1, 28, 28, dtype=torch.float64)
    with torch.no_grad():
        got = ours(x)
        expected = hand_wired_resnet34(x, ours.state_dict(), ACTIVATIONS[config.activation])
    assert_same_outputs(got, expected)


@pytest.mark.parametrize("width", [0.125, 0.25, 1.0])
def test_inception_branches_keep_the_paper_widths_at_every_width(width):
    """Issue 12: scaled by 1/4 the branches began with 1-, 1- and 2-channel convs + ReLU."""
    config = RunConfig(stem="inception", width=width)
    stem = build_stem(config)
    inception = stem[0] if isinstance(stem, nn.Sequential) else stem
    assert [b[0][0].out_channels for b in inception.branches] == [4, 4, 8]  # paper Fig. 3
    assert [b[-1][0].out_channels for b in inception.branches] == [16, 16, 32]
    if width == 1.0:  # the paper's stem as it was: no projection
        assert not isinstance(stem, nn.Sequential)
    else:  # a 1x1 conv + BN + act projects the 64 channels onto the body's width
        conv = stem[1][0]
        assert (conv.in_channels, conv.out_channels, conv.kernel_size) == (
            64,
            round(64 * width),
            (1, 1),
        )


def test_scaled_inception_branches_rebuild_the_older_records_stem():
    stem = build_stem(RunConfig(stem="inception", width=0.25, inception_branches="scaled"))
    assert [b[0][0].out_channels for b in stem.branches] == [1, 1, 2]
    assert sum(b[-1][0].out_channels for b in stem.branches) == 16  # straight into the body
