"""lib.model.wide: N models as one wide model and back, exactly."""

from __future__ import annotations

import torch

from lib.core.arms import run_config
from lib.model.wide import fuse, unfuse
from lib.training.train import initial_model


def test_fuse_unfuse_round_trip():
    """Three models fused and split again give back every tensor of each."""
    configs = [run_config("improved", "smoke", seed) for seed in (0, 1, 2)]
    models = [initial_model(c) for c in configs]
    back = unfuse(fuse(models, configs[0]), configs[0], 3)
    for model, copy in zip(models, back, strict=True):
        for a, b in zip(model.state_dict().values(), copy.state_dict().values(), strict=True):
            assert torch.equal(a, b)
