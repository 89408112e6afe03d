"""lib.config: RunConfig validates itself, round-trips, and keys results by what they compute."""

from __future__ import annotations

import dataclasses

import pytest

from lib.config import NON_RESULT_FIELDS, RunConfig


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
