"""lib.core.arms: the registry of arms and profiles, and the paper's reported numbers."""

from __future__ import annotations

import pytest

from lib.core.arms import ARMS, IMPROVED, PROFILES, get_arm, get_profile, run_config
from lib.core.config import RunConfig
from lib.training.train import lr_factor

# In campaign order: the paper's table arms first, then the controls (issue 6).
ARM_NAMES = [
    "resnet34",
    "resnet34_lr",
    "resnet34_selu",
    "resnet34_inception",
    "improved",
    "resnet34_plainstem",
    "resnet34_projection",
    "improved_no_lr",
    "improved_no_selu",
    "improved_no_inception",
    "improved_no_projection",
    "resnet34_inception_s2",
    "resnet34_nopool",
    "resnet34_augment",
    "resnet34_batch32",
    "resnet34_lr_step",
    "resnet34_lr_cosine",
]

# paper-reported mean test accuracy (%) by epochs
PAPER = {
    "resnet34": {10: 93.12, 20: 94.21},
    "resnet34_lr": {10: 93.22, 20: 94.82},
    "resnet34_selu": {10: 93.35},
    "resnet34_inception": {10: 94.88},
    "improved": {10: 96.04},
}

LEAVE_ONE_OUT = {
    "improved_no_lr": "schedule",
    "improved_no_selu": "activation",
    "improved_no_inception": "stem",
    "improved_no_projection": "shortcut",
}


def test_exactly_the_named_arms():
    assert list(ARMS) == ARM_NAMES


@pytest.mark.parametrize("name", ARM_NAMES)
def test_arm_is_described(name):
    arm = get_arm(name)
    assert arm.name == name
    assert arm.description.strip() and arm.question.strip()
    assert set(arm.switches) <= set(RunConfig.__dataclass_fields__)


def test_paper_values():
    assert {name: arm.paper_accuracy for name, arm in ARMS.items() if arm.paper_accuracy} == PAPER


def test_improved_switches_all_four_changes():
    config = run_config("improved", "paper", 0)
    assert (config.stem, config.stem_stride, config.activation, config.shortcut) == (
        "inception",
        1,
        "selu",
        "projection",
    )
    assert config.schedule == "exponential" and config.lr_gamma == 0.8
    assert IMPROVED == {
        "stem": "inception",
        "activation": "selu",
        "shortcut": "projection",
        "schedule": "exponential",
    }


@pytest.mark.parametrize("name, field", LEAVE_ONE_OUT.items())
def test_leave_one_out_differs_from_improved_in_exactly_one_field(name, field):
    improved = run_config("improved", "paper", 0).to_dict()
    ablated = run_config(name, "paper", 0).to_dict()
    differ = {k for k in improved if k != "arm" and improved[k] != ablated[k]}
    assert differ == {field}
    assert ablated[field] == getattr(RunConfig(), field)  # back to the baseline's value


@pytest.mark.parametrize(
    "name, switches",
    [
        ("resnet34", {}),
        ("resnet34_lr", {"schedule": "exponential"}),
        ("resnet34_selu", {"activation": "selu"}),
        ("resnet34_inception", {"stem": "inception"}),
        ("resnet34_projection", {"shortcut": "projection"}),
        ("resnet34_plainstem", {"stem": "plain"}),
        ("resnet34_inception_s2", {"stem": "inception", "stem_stride": 2}),
        ("resnet34_nopool", {"stem": "resnet_nopool"}),
        ("resnet34_lr_step", {"schedule": "step"}),
        ("resnet34_lr_cosine", {"schedule": "cosine"}),
    ],
)
def test_baseline_arms_differ_from_the_baseline_in_their_switches_only(name, switches):
    baseline = run_config("resnet34", "paper", 0).to_dict()
    config = run_config(name, "paper", 0).to_dict()
    ignore = ("arm", "epochs")
    differ = {k: v for k, v in config.items() if k not in ignore and v != baseline[k]}
    assert differ == switches


@pytest.mark.parametrize("profile", list(PROFILES))
@pytest.mark.parametrize("name", ARM_NAMES)
def test_long_horizon_arms_run_twice_the_epochs(name, profile):
    arm, p = get_arm(name), get_profile(profile)
    config = run_config(name, profile, 3)
    assert config.epochs == p.epochs * (2 if arm.long_horizon else 1)
    assert (config.arm, config.profile, config.seed) == (name, profile, 3)
    assert (config.width, config.train_subset) == (p.width, p.train_subset)


def test_which_arms_are_long_horizon():
    long = {name for name, arm in ARMS.items() if arm.long_horizon}
    readings = {"resnet34_augment", "resnet34_batch32"}  # 10- and 20-epoch cells, one run
    assert long == {"resnet34", "resnet34_lr", "resnet34_lr_step"} | readings
    # every arm with a paper number at 20 epochs runs 20 epochs under the paper profile
    assert {name for name, arm in ARMS.items() if 20 in arm.paper_accuracy} <= long


@pytest.mark.parametrize("name", ["resnet34", "resnet34_lr", "resnet34_lr_step"])
def test_long_horizon_schedules_contain_the_short_run(name):
    """Their epoch-10 metrics are the 10-epoch run: the LR never depends on the run length."""
    long = run_config(name, "paper", 0)
    short = long.replace(epochs=long.epochs // 2)
    assert [lr_factor(long, e) for e in range(short.epochs)] == [
        lr_factor(short, e) for e in range(short.epochs)
    ]


def test_paper_profile_is_the_paper_protocol():
    paper = get_profile("paper")
    assert (paper.width, paper.train_subset, paper.epochs) == (1.0, 60_000, 10)
    assert paper.seeds == tuple(range(10))
    config = run_config("resnet34_selu", "paper", 0)
    assert (config.batch_size, config.width, config.train_subset, config.epochs) == (
        128,
        1.0,
        60_000,
        10,
    )


def test_smoke_profile_is_small():
    smoke = get_profile("smoke")
    assert smoke.width <= 0.25 and smoke.train_subset <= 5_000 and smoke.epochs <= 2


def test_overrides_win():
    config = run_config("improved", "smoke", 1, epochs=1, lr=0.01, device="cpu")
    assert (config.epochs, config.lr, config.device) == (1, 0.01, "cpu")
    assert config.stem == "inception"
    with pytest.raises(ValueError, match="epochs"):
        run_config("resnet34", "smoke", 0, epochs=0)


def test_unknown_arm_lists_the_known_arms():
    with pytest.raises(KeyError) as error:
        run_config("resnet50", "smoke", 0)
    message = str(error.value)
    assert "resnet50" in message and all(name in message for name in ARM_NAMES)


def test_unknown_profile_lists_the_known_profiles():
    with pytest.raises(KeyError) as error:
        run_config("resnet34", "gpu", 0)
    message = str(error.value)
    assert "gpu" in message and all(name in message for name in ("smoke", "cpu", "paper"))
