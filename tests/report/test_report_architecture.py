"""lib.report.architecture: shapes, parameters and FLOPs on the meta device equal the real ones."""

from __future__ import annotations

from lib.core.arms import ARMS, run_config
from lib.model.resnet import build_model, count_parameters, training_flops_per_image
from lib.report import architecture
from lib.training.train import lr_factor


def test_meta_flops_equal_lib_flops():
    for arm in ["resnet34", "improved"]:
        config = run_config(arm, "smoke", 0)
        assert architecture.meta_training_flops(config) == training_flops_per_image(config)
        assert count_parameters(architecture.meta_model(config)) == count_parameters(
            build_model(config)
        )


def test_our_projection_resnet34_is_torchvisions():
    table, same = architecture.torchvision_check()
    assert same
    assert list(table["Same parameter shapes as torchvision"]) == ["yes", "yes", "no"]


def test_table1_and_stems_at_full_width():
    table = architecture.architecture_table().set_index("Layer")
    assert table.loc["stem", "Output, 7×7 stem (C × H × W)"] == "64 × 7 × 7"
    assert table.loc["stem", "Output, Inception stem"] == "64 × 28 × 28"
    assert table.loc["conv5", "Output, 7×7 stem (C × H × W)"] == "512 × 1 × 1"
    stems = architecture.stems_table()
    assert len(stems) == len(architecture.STEMS)
    assert architecture.facts() == {
        "branches": "4→8→16; 4→8→16; 8→16→32",
        "stem_channels": "64",
        "blocks": "3, 4, 6, 3",
    }


def test_costs_of_every_arm_at_the_shown_profile(smoke):
    costs = architecture.arm_costs(smoke)
    assert len(costs) == len(ARMS) and "Params (smoke)" in costs
    config = run_config("resnet34", "smoke", 0)
    assert costs["Params (smoke)"][0] == f"{count_parameters(build_model(config)):,}"


def test_lr_schedules_follow_the_training_loop(smoke):
    schedules = architecture.lr_schedules(smoke)
    assert list(schedules) == [
        "resnet34 (constant)",
        "resnet34_lr (exponential)",
        "resnet34_lr_step (step)",
        "resnet34_lr_cosine (cosine)",
    ]
    config = run_config("resnet34_lr", "smoke", 0)
    expected = [lr_factor(config, e) for e in range(config.epochs)]
    assert schedules["resnet34_lr (exponential)"] == expected
