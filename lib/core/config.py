"""The one typed object that describes a run: data -> model -> train -> record -> book.

Arms (``lib.core.arms``) set the model and schedule switches, profiles set the
protocol (width, data subset, epochs, seeds); ``RunConfig`` is their merge for one seed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Stem = Literal["resnet", "resnet_nopool", "inception", "plain"]
Activation = Literal["relu", "selu"]
Shortcut = Literal["zeropad", "projection"]
Schedule = Literal["constant", "exponential", "step", "cosine"]
Precision = Literal["bf16", "fp32"]
InceptionBranches = Literal["paper", "scaled"]

# Fields that change where a run executes, not what it computes.
NON_RESULT_FIELDS = ("device",)
# Fields added after records existed, with the value those records ran with: a stored
# config without the field gets it, and the key leaves the field out at that value.
ADDED_FIELDS = {"inception_branches": "scaled", "augment": False}


@dataclass(frozen=True)
class RunConfig:
    # --- identity -------------------------------------------------------------
    arm: str = "resnet34"
    seed: int = 0  # fixes initialisation and the data order
    profile: str = "smoke"

    # --- model (lib.model.resnet.build_model) ---------------------------------------
    stem: Stem = "resnet"  # resnet = 7x7/2 conv + 3x3/2 max-pool: 28x28 -> 7x7
    stem_stride: int = 1  # inception stem only: 1 keeps 28x28, 2 (+ pool) gives 7x7
    activation: Activation = "relu"  # in every residual block (paper Fig. 2)
    shortcut: Shortcut = "zeropad"  # at channel doubling: ResNet option A or B
    width: float = 1.0  # channel multiplier; 1.0 = 64-128-256-512 (paper Table 1)
    # inception stem only. paper: Fig. 3's branch widths at every width, a 1x1 conv projects
    # their 64 channels to a narrower body; scaled: narrowed with the body (at width 1/4 a
    # branch starts with a one-channel conv + ReLU), what older cpu-profile records used
    inception_branches: InceptionBranches = "paper"

    # --- optimisation (lib.training.train) ---------------------------------------------
    epochs: int = 10  # paper: "only 10 iterations" (= epochs)
    batch_size: int = 128  # paper silent; the common default for Adam on MNIST-like data
    lr: float = 1e-3  # Adam's default; paper silent
    # "decays with the iteration count" (paper, improvement 2): exponential per epoch,
    # so the LR at epoch e does not depend on the run length (20-epoch runs give 10-epoch cells)
    schedule: Schedule = "constant"
    lr_gamma: float = 0.8  # exponential: lr * 0.8**epoch (0.13x at epoch 9, 0.014x at epoch 19)
    lr_step_epochs: int = 5  # step: lr * 0.1**(epoch // 5)
    train_subset: int = 60_000  # first N training images (a fixed, class-balanced-enough prefix)
    # paper silent: random crops of the 4-pixel zero-padded image + horizontal flips
    # (lib.model.augment)
    augment: bool = False

    # --- execution --------------------------------------------------------------
    precision: Precision = "bf16"  # bf16 autocast where supported; fp32 for exactness tests
    device: str = "auto"  # auto = cuda if present, else cpu

    def __post_init__(self) -> None:
        if self.epochs <= 0:
            raise ValueError(f"epochs must be positive, got {self.epochs}")
        if self.batch_size <= 1:
            raise ValueError(f"batch_size must be at least 2 (BatchNorm), got {self.batch_size}")
        if not 0 < self.width <= 4:
            raise ValueError(f"width must be in (0, 4], got {self.width}")
        if self.stem_stride not in (1, 2):
            raise ValueError(f"stem_stride must be 1 or 2, got {self.stem_stride}")
        if not 2 <= self.train_subset <= 60_000:
            raise ValueError(f"train_subset must be in [2, 60000], got {self.train_subset}")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> RunConfig:
        values = {**ADDED_FIELDS, **values}
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown config fields: {sorted(unknown)}")
        return cls(**values)

    def replace(self, **changes) -> RunConfig:
        return dataclasses.replace(self, **changes)

    def result_key(self) -> str:
        """Hash of every field that changes the numbers a run produces.

        Two records with the same key are the same experiment; a record whose key
        differs from the current config's is stale.
        """
        values = {k: v for k, v in self.to_dict().items() if k not in NON_RESULT_FIELDS}
        for field, before in ADDED_FIELDS.items():
            if values[field] == before:
                del values[field]
        if self.stem != "inception":
            values.pop("inception_branches", None)  # no effect on other stems
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:16]


def run_name(configs: RunConfig | Sequence[RunConfig]) -> str:
    """How logs name a run, or a fused group of seeds of one arm: 'improved seed 0,1,2'."""
    configs = [configs] if isinstance(configs, RunConfig) else list(configs)
    return f"{configs[0].arm} seed {','.join(str(c.seed) for c in configs)}"
