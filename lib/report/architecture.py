"""The models, live from lib.model.resnet on PyTorch's meta device: Table 1, costs, stems,
schedules.

The only report module that imports torch. Shapes, parameter counts and nominal FLOPs
come from the code that trained the runs, on the meta device (no memory, no
initialisation); tests/report/test_report_architecture.py checks them against the real models.
"""

from __future__ import annotations

import html

import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from lib.core.arms import ARMS, run_config
from lib.core.config import RunConfig
from lib.model.conv import as_defined
from lib.model.resnet import (
    INCEPTION_BRANCHES,
    STAGE_BLOCKS,
    STAGE_CHANNELS,
    build_model,
    count_parameters,
    training_flops_per_image,
)
from lib.report.formatting import code, made_by
from lib.report.results import Results
from lib.training.train import lr_factor

TORCH_VERSION = torch.__version__
STEMS = [
    ("7×7/2 conv + 3×3/2 max-pool (baseline)", "resnet34"),
    ("7×7/2 conv, no max-pool", "resnet34_nopool"),
    ("Inception, stride 1 (ours)", "resnet34_inception"),
    ("Inception, stride 2 + max-pool", "resnet34_inception_s2"),
    ("3×3/1 conv (plain control)", "resnet34_plainstem"),
]
SCHEDULE_ARMS = ["resnet34", "resnet34_lr", "resnet34_lr_step", "resnet34_lr_cosine"]
IMAGE = (1, 1, 28, 28)  # one grey Fashion-MNIST image


def meta_model(config: RunConfig) -> nn.Module:
    """The arm's model from ``lib.model.resnet.build_model`` on the meta device.

    Its parameter counts, output shapes and nominal FLOP counts (every convolution as
    defined, ``lib.model.conv.as_defined``) equal those of the real model.
    """
    with torch.device("meta"):
        return as_defined(build_model(config.replace(device="cpu")))


def meta_training_flops(config: RunConfig) -> float:
    """``lib.model.resnet.training_flops_per_image`` computed on the meta device (no memory)."""
    with torch.device("meta"):
        return training_flops_per_image(config)


def forward_flops(module: nn.Module, image: torch.Tensor) -> int:
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(image)
    return counter.get_total_flops()


def _shapes(config: RunConfig, model: nn.Module | None = None) -> dict[str, tuple]:
    """Output shape (C, H, W) of the stem and of each stage for one 28x28 image."""
    model = (model or meta_model(config)).eval()
    shapes, hooks = {}, []
    parts = [("stem", model.stem)] + [(f"conv{i + 2}", s) for i, s in enumerate(model.stages)]
    for name, module in parts:
        hooks.append(
            module.register_forward_hook(
                lambda _m, _i, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))
            )
        )
    with torch.no_grad():
        model(torch.zeros(IMAGE, device=next(model.parameters()).device))
    for h in hooks:
        h.remove()
    return shapes


def _shape(s: tuple) -> str:
    return f"{s[0]} × {s[1]} × {s[2]}"


def facts() -> dict[str, str]:
    """The body's numbers as the reading chapter states them (from lib.model.resnet)."""
    return {
        "branches": "; ".join("→".join(str(c) for c in b) for b in INCEPTION_BRANCHES),
        "stem_channels": str(sum(b[-1] for b in INCEPTION_BRANCHES)),
        "blocks": ", ".join(str(b) for b in STAGE_BLOCKS),
    }


@made_by
def architecture_table() -> pd.DataFrame:
    """Paper Table 1 at full width, with output sizes under our stems."""
    shapes = {a: _shapes(run_config(a, "paper", 0)) for a in ["resnet34", "resnet34_inception"]}
    branches = " + ".join("→".join(str(c) for c in b) for b in INCEPTION_BRANCHES)

    def row(layer: str, paper: str, ours: str, name: str | None) -> dict:
        return {
            "Layer": layer,
            "Paper Table 1": paper,
            "Ours": ours,
            "Output, 7×7 stem (C × H × W)": _shape(shapes["resnet34"][name]) if name else "10",
            "Output, Inception stem": _shape(shapes["resnet34_inception"][name]) if name else "10",
        }

    rows = [
        row(
            "stem",
            "7×7 conv + pooling; improved: Inception 3×3",
            f"7×7/2 conv + 3×3/2 max-pool; Inception: three 3×3 stacks ({branches})",
            "stem",
        )
    ]
    for i, (blocks, channels) in enumerate(zip(STAGE_BLOCKS, STAGE_CHANNELS, strict=True)):
        name = f"conv{i + 2}"
        ours = f"{blocks} basic blocks, {channels} channels"
        rows.append(
            row(
                name,
                f"[3×3, {channels}; 3×3, {channels}] × {blocks}",
                ours + ("" if i == 0 else ", first block stride 2"),
                name,
            )
        )
    rows.append(
        row(
            "head",
            "average pool, fully connected, softmax",
            "global average pool, linear to 10 classes (softmax in the loss)",
            None,
        )
    )
    return pd.DataFrame(rows)


@made_by
def arm_costs(results: Results) -> pd.DataFrame:
    """Parameters and training FLOPs per image of every arm, at full width and at ours."""
    profile = results.model_profile
    cache: dict[tuple, tuple[int, float]] = {}

    def cost(config: RunConfig) -> tuple[int, float]:
        key = (config.stem, config.stem_stride, config.activation, config.shortcut, config.width)
        if key not in cache:
            cache[key] = (count_parameters(meta_model(config)), meta_training_flops(config))
        return cache[key]

    rows = []
    for name, arm in ARMS.items():
        ours = run_config(name, profile, 0)
        p_full, f_full = cost(run_config(name, "paper", 0))
        p_ours, f_ours = cost(ours)
        switches = ", ".join(f"{k}={v}" for k, v in arm.switches.items()) or "(baseline)"
        rows.append(
            {
                "Arm": code(name),
                "Switches": html.escape(switches),
                "Params (full width)": f"{p_full:,}",
                "Train GFLOP/image (full width)": f"{f_full / 1e9:.3f}",
                f"Params ({profile})": f"{p_ours:,}",
                f"Train MFLOP/image ({profile})": f"{f_ours / 1e6:.1f}",
                f"Epochs ({profile})": ours.epochs,
            }
        )
    return pd.DataFrame(rows)


def torchvision_check() -> tuple[pd.DataFrame, bool]:
    """Our ResNet-34 with projection shortcuts against torchvision's (1 input channel)."""
    import torchvision  # here only: importing it pulls in torch._dynamo (seconds per kernel)

    with torch.device("meta"):
        tv = torchvision.models.resnet34(num_classes=10)
        tv.conv1 = torch.nn.Conv2d(1, 64, 7, 2, 3, bias=False)  # grey images
    ours = meta_model(run_config("resnet34_projection", "paper", 0))
    base = meta_model(run_config("resnet34", "paper", 0))

    def shapes(model):
        return sorted(tuple(p.shape) for p in model.parameters())

    rows = []
    for label, model in [
        ("torchvision resnet34 (1-channel conv1, 10 classes)", tv),
        ("ours, projection shortcuts (resnet34_projection)", ours),
        ("ours, zero-padding shortcuts (resnet34, the baseline)", base),
    ]:
        flops = forward_flops(model.eval(), torch.zeros(IMAGE, device="meta"))
        rows.append(
            {
                "Model": html.escape(label),
                "Parameters": f"{count_parameters(model):,}",
                "Parameter tensors": len(list(model.parameters())),
                "Forward MFLOP (28×28)": f"{flops / 1e6:.1f}",
                "Same parameter shapes as torchvision": "yes"
                if shapes(model) == shapes(tv)
                else "no",
            }
        )
    same = shapes(ours) == shapes(tv) and count_parameters(ours) == count_parameters(tv)
    return pd.DataFrame(rows), same


def _describe_stem(stem: nn.Module) -> list[str]:
    """One line per conv chain (an Inception branch, or the single conv) and per pool."""

    def chain(module) -> str:
        convs = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
        channels = "→".join([str(convs[0].in_channels)] + [str(c.out_channels) for c in convs])
        k, stride = convs[0].kernel_size[0], convs[0].stride[0]
        return f"conv {k}×{k} {channels} (first stride {stride})"

    branches = getattr(stem, "branches", None)
    lines = [f"branch {i + 1}: " + chain(b) for i, b in enumerate(branches)] if branches else []
    if not branches:
        lines.append(chain(stem))
    pools = [m for m in stem.modules() if isinstance(m, nn.MaxPool2d)]
    lines += [f"max-pool {p.kernel_size}×{p.kernel_size}/{p.stride}" for p in pools]
    return lines


@made_by
def stems_table() -> pd.DataFrame:
    """The stems at full width: layers, output, parameters, forward FLOPs of the whole net."""
    rows = []
    for label, arm in STEMS:
        config = run_config(arm, "paper", 0)
        model = meta_model(config).eval()
        flops = forward_flops(model.stem, torch.zeros(IMAGE, device="meta"))
        shapes = _shapes(config, model)
        rows.append(
            {
                "Stem": html.escape(label),
                "Arm": code(arm),
                "Conv / pool layers": "<br>".join(
                    html.escape(x) for x in _describe_stem(model.stem)
                ),
                "Into conv2 (C × H × W)": _shape(shapes["stem"]),
                "Stem params": f"{count_parameters(model.stem):,}",
                "Stem forward MFLOP": f"{flops / 1e6:.2f}",
                "Output of conv5 (C × H × W)": _shape(shapes["conv5"]),
            }
        )
    return pd.DataFrame(rows)


def lr_factors(config: RunConfig, epochs: int) -> list[float]:
    """The LR multiplier (``lib.training.train.lr_factor``) of each of the first ``epochs``
    epochs."""
    return [lr_factor(config, e) for e in range(epochs)]


# Fields that say how long and with which LR multipliers a run trains, not what it is.
SCHEDULE_FIELDS = ("arm", "epochs", "schedule", "lr_gamma", "lr_step_epochs")


def trains_identically(arm: str, other: str, profile: str, epochs: int) -> bool:
    """Whether two arms' runs compute the same thing through ``epochs`` epochs: every
    field but the schedule's equal and the same LR multiplier in each of those epochs
    (step decay before its first step is the constant LR)."""
    a, b = run_config(arm, profile, 0), run_config(other, profile, 0)

    def model(config: RunConfig) -> dict:
        return {k: v for k, v in config.to_dict().items() if k not in SCHEDULE_FIELDS}

    return model(a) == model(b) and lr_factors(a, epochs) == lr_factors(b, epochs)


def lr_schedules(results: Results) -> dict[str, list[float]]:
    """The LR multiplier per epoch under each schedule reading, labelled by arm and schedule."""
    configs = [run_config(arm, results.model_profile, 0) for arm in SCHEDULE_ARMS]
    return {f"{c.arm} ({c.schedule})": lr_factors(c, c.epochs) for c in configs}
