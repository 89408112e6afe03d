"""lib.core.config: RunConfig validates itself, round-trips, and keys results by what they
compute."""

from __future__ import annotations

import dataclasses

import pytest

from lib.core.arms import run_config
from lib.core.config import NON_RESULT_FIELDS, RunConfig, run_name


@pytest.mark.parametrize(
    "field, value",
    [
        ("epochs", 0),
        ("epochs", -3),
        ("batch_size", 1),
        ("width", 0.0),
        ("width", 4.5),
        ("stem_stride", 3),
        ("train_subset", 1),
        ("train_subset", 60_001),
    ],
)
def test_invalid_values_are_rejected_with_the_field_name(field, value):
    with pytest.raises(ValueError, match=field):
        RunConfig(**{field: value})


def test_boundary_values_are_accepted():
    config = RunConfig(epochs=1, batch_size=2, width=4.0, stem_stride=2, train_subset=2)
    assert (config.epochs, config.batch_size, config.width) == (1, 2, 4.0)
    assert RunConfig(train_subset=60_000).train_subset == 60_000


def test_defaults_are_the_paper_baseline():
    config = RunConfig()
    assert (config.stem, config.activation, config.shortcut, config.schedule) == (
        "resnet",
        "relu",
        "zeropad",
        "constant",
    )
    assert (config.width, config.epochs, config.batch_size, config.lr) == (1.0, 10, 128, 1e-3)


def test_config_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RunConfig().epochs = 3  # type: ignore[misc]


def test_dict_round_trip_and_unknown_fields():
    config = RunConfig(arm="improved", seed=7, stem="inception", activation="selu", lr=3e-4)
    assert RunConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="bogus"):
        RunConfig.from_dict({**config.to_dict(), "bogus": 1})


def test_replace_returns_a_new_validated_config():
    config = RunConfig()
    changed = config.replace(seed=3)
    assert changed.seed == 3 and config.seed == 0
    with pytest.raises(ValueError, match="epochs"):
        config.replace(epochs=0)


def test_result_key_ignores_the_device_only():
    base = RunConfig()
    assert NON_RESULT_FIELDS == ("device",)
    key = base.result_key()
    assert len(key) == 16 and int(key, 16) >= 0
    assert base.replace(device="cpu").result_key() == key
    assert RunConfig().result_key() == key  # stable, not object identity
    for change in ({"seed": 1}, {"lr": 2e-3}, {"epochs": 11}, {"precision": "fp32"}):
        assert base.replace(**change).result_key() != key, change


# Stored by a cpu run before ``inception_branches`` existed, with the key it was stored under.
INCEPTION_BEFORE = {
    "arm": "resnet34_inception", "seed": 0, "profile": "cpu", "stem": "inception",
    "stem_stride": 1, "activation": "relu", "shortcut": "zeropad", "width": 0.25, "epochs": 5,
    "batch_size": 128, "lr": 0.001, "schedule": "constant", "lr_gamma": 0.8,
    "lr_step_epochs": 5, "train_subset": 8000, "precision": "bf16", "device": "auto",
}  # fmt: skip
INCEPTION_BEFORE_KEY = "cc1b1257889ccad9"


def test_a_config_stored_before_a_field_existed_keeps_its_key_and_what_it_ran():
    config = RunConfig.from_dict(INCEPTION_BEFORE)
    assert config.inception_branches == "scaled"  # what that run built
    assert config.result_key() == INCEPTION_BEFORE_KEY
    # ... and today's registry runs the paper's branch widths: that record is stale
    today = run_config("resnet34_inception", "cpu", 0)
    assert today.inception_branches == "paper" and today.result_key() != INCEPTION_BEFORE_KEY


def test_inception_branches_key_only_the_inception_stem():
    for stem in ("resnet", "resnet_nopool", "plain"):
        paper, scaled = RunConfig(stem=stem), RunConfig(stem=stem, inception_branches="scaled")
        assert paper.result_key() == scaled.result_key(), stem
    inception = RunConfig(stem="inception", width=0.25)
    assert inception.result_key() != inception.replace(inception_branches="scaled").result_key()


def test_run_name_names_one_run_or_a_fused_group_of_seeds():
    improved = run_config("improved", "smoke", seed=2)
    assert run_name(improved) == "improved seed 2"
    group = [improved.replace(seed=s) for s in (0, 1, 2)]
    assert run_name(group) == "improved seed 0,1,2"
