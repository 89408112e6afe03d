"""The registry: named arms (what changes), profiles (what protocol), the paper's numbers.

An arm is a set of switches on top of the baseline; a profile fixes width, data and
epochs; ``run_config(arm, profile, seed)`` merges them into the one ``RunConfig``.
The paper's reported accuracies live here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.core.config import RunConfig

PAPER_RUNS = 10  # runs behind each accuracy the paper reports ("mean of 10 runs")


@dataclass(frozen=True)
class Arm:
    name: str
    description: str
    question: str  # the paper table or the question the arm answers
    switches: dict = field(default_factory=dict)  # RunConfig fields that differ from baseline
    # Paper-reported mean test accuracy (%) by epoch count, where the paper reports one:
    # each a mean of PAPER_RUNS runs.
    paper_accuracy: dict[int, float] = field(default_factory=dict)
    # Table 2 needs 10- and 20-epoch numbers: these arms run twice the profile's epochs and
    # their epoch-`epochs` metrics give the short cells (their LR at epoch e is independent
    # of the run length, so that is exact).
    long_horizon: bool = False


DECAY = {"schedule": "exponential"}  # our default reading of the paper's "LR decay"
IMPROVED = {"stem": "inception", "activation": "selu", "shortcut": "projection", **DECAY}


def _without(key: str) -> dict:
    baseline = RunConfig()
    return {**IMPROVED, key: getattr(baseline, key)}


# In the order a campaign runs them: the paper's table arms first, then its controls.
ARMS: dict[str, Arm] = {
    arm.name: arm
    for arm in [
        Arm(
            "resnet34",
            "Baseline: 7x7/2 conv + max-pool stem, ReLU, zero-padding shortcut, constant LR",
            "Tables 2-5 baseline",
            {},
            {10: 93.12, 20: 94.21},
            long_horizon=True,
        ),
        Arm(
            "resnet34_lr",
            "Baseline + LR decay (exponential, x0.8 per epoch)",
            "Table 2: does LR decay help at 10 and 20 epochs?",
            DECAY,
            {10: 93.22, 20: 94.82},
            long_horizon=True,
        ),
        Arm(
            "resnet34_selu",
            "Baseline with SELU instead of ReLU in every block",
            "Table 3 / Fig. 6: does SELU help and converge faster?",
            {"activation": "selu"},
            {10: 93.35},
        ),
        Arm(
            "resnet34_inception",
            "Baseline with the Inception stem (stride 1, full 28x28 resolution)",
            "Table 4: does the Inception stem help?",
            {"stem": "inception"},
            {10: 94.88},
        ),
        Arm(
            "improved",
            "All four changes: Inception stem, SELU, projection shortcut, LR decay",
            "Table 5: the combined model",
            IMPROVED,
            {10: 96.04},
        ),
        Arm(
            "resnet34_plainstem",
            "Baseline with one 3x3 stride-1 conv stem (full 28x28 resolution, no Inception)",
            "Control: is the Inception gain resolution or Inception structure?",
            {"stem": "plain"},
        ),
        Arm(
            "resnet34_projection",
            "Baseline with 1x1-conv projection shortcuts (option B)",
            "Improvement 1 alone, which the paper never ablates",
            {"shortcut": "projection"},
        ),
        Arm(
            "improved_no_lr",
            "Improved model with a constant LR",
            "Leave-one-out: what does LR decay add to the combination?",
            _without("schedule"),
        ),
        Arm(
            "improved_no_selu",
            "Improved model with ReLU",
            "Leave-one-out: what does SELU add to the combination?",
            _without("activation"),
        ),
        Arm(
            "improved_no_inception",
            "Improved model with the traditional 7x7 + max-pool stem",
            "Leave-one-out: what does the Inception stem add to the combination?",
            _without("stem"),
        ),
        Arm(
            "improved_no_projection",
            "Improved model with zero-padding shortcuts",
            "Leave-one-out: what does the projection shortcut add to the combination?",
            _without("shortcut"),
        ),
        Arm(
            "resnet34_inception_s2",
            "Baseline with the Inception stem at stride 2 + max-pool (7x7, like the 7x7 stem)",
            "Control: the Inception structure at the traditional stem's resolution",
            {"stem": "inception", "stem_stride": 2},
        ),
        Arm(
            "resnet34_nopool",
            "Baseline stem without its max-pool (7x7/2 conv only: 14x14 into the first stage)",
            "Reading: how did the paper's baseline treat 28x28 inputs?",
            {"stem": "resnet_nopool"},
        ),
        Arm(
            "resnet34_augment",
            "Baseline trained on random crops of the 4-pixel zero-padded image + horizontal flips",
            "Reading: does augmentation (unstated) keep the baseline improving to 20 epochs?",
            {"augment": True},
            long_horizon=True,
        ),
        Arm(
            "resnet34_batch32",
            "Baseline with batch size 32 (four times the Adam steps per epoch)",
            "Reading: does a smaller batch (unstated) reach the paper's baseline level?",
            {"batch_size": 32},
            long_horizon=True,
        ),
        Arm(
            "resnet34_lr_step",
            "Baseline + step LR decay (x0.1 every 5 epochs)",
            "Reading: Table 2 under a step decay",
            {"schedule": "step"},
            long_horizon=True,
        ),
        Arm(
            "resnet34_lr_cosine",
            "Baseline + cosine LR decay to 0 over the run (depends on the run length)",
            "Reading: Table 2 under a cosine decay (profile epochs only)",
            {"schedule": "cosine"},
        ),
    ]
}


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    epochs: int  # long-horizon arms run twice this
    seeds: tuple[int, ...]
    width: float = 1.0
    train_subset: int = 60_000


PROFILES: dict[str, Profile] = {
    p.name: p
    for p in [
        Profile(
            "smoke",
            "Tests and quick checks: width 1/8, 2,000 training images, 2 epochs, 2 seeds",
            epochs=2,
            seeds=(0, 1),
            width=0.125,
            train_subset=2_000,
        ),
        Profile(
            "cpu",
            "Reduced protocol for a 2-core CPU: width 1/4 (the Inception stem keeps the "
            "paper's branch widths), the first 8,000 training images, 5 epochs (10 for "
            "Table 2 arms), 3 seeds, full test set",
            epochs=5,
            seeds=(0, 1, 2),
            width=0.25,
            train_subset=8_000,
        ),
        Profile(
            "paper",
            "The paper's protocol: full width and data, batch 128, 10 epochs "
            "(20 for Table 2 arms), 10 seeds",
            epochs=10,
            seeds=tuple(range(10)),
        ),
    ]
}


def get_arm(name: str) -> Arm:
    if name not in ARMS:
        raise KeyError(f"unknown arm {name!r}; known arms: {', '.join(ARMS)}")
    return ARMS[name]


def get_profile(name: str) -> Profile:
    if name not in PROFILES:
        raise KeyError(f"unknown profile {name!r}; known profiles: {', '.join(PROFILES)}")
    return PROFILES[name]


def run_config(arm: str, profile: str, seed: int, **overrides) -> RunConfig:
    """The config of one run of ``arm`` under ``profile``; overrides win (e.g. epochs)."""
    a, p = get_arm(arm), get_profile(profile)
    config = RunConfig(
        arm=a.name,
        seed=seed,
        profile=p.name,
        width=p.width,
        train_subset=p.train_subset,
        epochs=p.epochs * (2 if a.long_horizon else 1),
        **a.switches,
    )
    return config.replace(**overrides) if overrides else config
