from __future__ import annotations

import torch

from lib.core.arms import run_config
from lib.core.config import RunConfig
from lib.core.records import read_record, record_path
from lib.core.repo import RESULTS_DIR
from lib.model.augment import PAD, crop_and_flip, epoch_draws
from lib.training.fused import FusedEngine
from lib.training.train import SingleEngine

IMAGE = torch.arange(28 * 28).remainder(251).add(1).to(torch.uint8).view(1, 28, 28)  # no zeros


def draws(row: int, col: int, flip: int) -> torch.Tensor:
    return torch.tensor([[row], [col], [flip]])


def test_the_centred_crop_is_the_image_and_the_flip_mirrors_it():
    assert torch.equal(crop_and_flip(IMAGE, draws(PAD, PAD, 0)), IMAGE)
    assert torch.equal(crop_and_flip(IMAGE, draws(PAD, PAD, 1)), IMAGE.flip(-1))


def test_an_offset_crop_shifts_the_image_and_fills_zeros():
    down_right = crop_and_flip(IMAGE, draws(0, 0, 0))  # the window's corner in the padding
    assert torch.equal(down_right[0, PAD:, PAD:], IMAGE[0, :-PAD, :-PAD])
    assert down_right[0, :PAD].eq(0).all() and down_right[0, :, :PAD].eq(0).all()
    up_left = crop_and_flip(IMAGE, draws(2 * PAD, 2 * PAD, 0))
    assert torch.equal(up_left[0, :-PAD, :-PAD], IMAGE[0, PAD:, PAD:])
    assert up_left[0, -PAD:].eq(0).all()


def test_each_image_of_a_batch_gets_its_own_draw():
    batch = torch.cat([IMAGE, IMAGE])
    out = crop_and_flip(batch, torch.tensor([[PAD, PAD], [PAD, PAD], [0, 1]]))
    assert torch.equal(out[0], IMAGE[0]) and torch.equal(out[1], IMAGE[0].flip(-1))


def test_draws_depend_on_seed_and_epoch_only_and_cover_every_offset():
    config = run_config("resnet34_augment", "smoke", 0)
    first = epoch_draws(config, 0)
    assert torch.equal(first, epoch_draws(config, 0))  # a resumed run draws the same
    assert not torch.equal(first, epoch_draws(config, 1))
    assert not torch.equal(first, epoch_draws(config.replace(seed=1), 0))
    assert first.shape == (3, config.train_subset)
    assert set(first[0].tolist()) == set(range(2 * PAD + 1)) and set(first[2].tolist()) == {0, 1}


def test_records_made_before_the_field_read_as_unaugmented_with_their_key():
    """lib.core.config.ADDED_FIELDS: a stored config without ``augment`` keeps its result key."""
    baseline = RunConfig()
    stored = {k: v for k, v in baseline.to_dict().items() if k != "augment"}
    assert RunConfig.from_dict(stored) == baseline
    committed = read_record(record_path(RESULTS_DIR, "paper", "resnet34", 0))
    assert "augment" not in committed["config"]
    assert run_config("resnet34", "paper", 0).result_key() == committed["result_key"]
    assert baseline.replace(augment=True).result_key() != baseline.result_key()


def test_the_engines_train_on_augmented_images_and_agree_on_them():
    configs = [run_config("resnet34_augment", "smoke", seed, precision="fp32") for seed in (0, 1)]
    single = SingleEngine(configs[1])
    fused = FusedEngine(configs, compile=False)
    index_single = single.batches(0)[0]
    index_fused = fused.batches(0)[0]
    assert torch.equal(index_fused[:, 1], index_single)
    # the fused engine hands model 1 the images the single engine of seed 1 trains on
    seeds = torch.arange(2)
    per_model = fused.draws[seeds, :, index_fused].permute(2, 0, 1)
    images = crop_and_flip(single.setup.train_images[index_fused], per_model)[:, 1]
    expected = crop_and_flip(single.setup.train_images[index_single], single.draws[:, index_single])
    assert torch.equal(images, expected)
    assert not torch.equal(expected, single.setup.train_images[index_single])
