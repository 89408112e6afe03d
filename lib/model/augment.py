"""Training-time augmentation (``RunConfig.augment``): random 28x28 crops of the image
zero-padded by 4 pixels, and horizontal flips, the usual regulariser for small-image ResNets.

The paper states no augmentation; this is one reading of what it left unstated. Every
draw is a function of (seed, epoch, image), so a resumed run sees the same images.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from lib.core.config import RunConfig

PAD = 4  # pixels of zeros (the images' black background) on every side before the crop
STREAM = 7_919  # keeps these draws apart from the epoch order's generator (lib.training.train)


def epoch_draws(config: RunConfig, epoch: int) -> torch.Tensor:
    """[3, train_subset] int64: each training image's crop row and column offset in
    [0, 2 * PAD] (PAD = no shift) and its flip bit (1 = mirror left to right)."""
    generator = torch.Generator().manual_seed(config.seed * 1_000_003 + epoch + STREAM)
    offsets = torch.randint(0, 2 * PAD + 1, (2, config.train_subset), generator=generator)
    flips = torch.randint(0, 2, (1, config.train_subset), generator=generator)
    return torch.cat([offsets, flips])


def crop_and_flip(images: torch.Tensor, draws: torch.Tensor) -> torch.Tensor:
    """uint8 images [..., H, W] -> the same shape, each cropped from its zero-padded copy at
    its offsets and mirrored where its flip bit is set; ``draws`` [3, ...] matches the
    leading dimensions (two gathers: one for rows, one for columns and the flip)."""
    height, width = images.shape[-2:]
    rows, cols, flips = draws.to(images.device)
    padded = F.pad(images, (PAD, PAD, PAD, PAD))
    row_index = rows[..., None] + torch.arange(height, device=images.device)
    ascending = torch.arange(width, device=images.device)
    col_index = cols[..., None] + torch.where(
        flips[..., None].bool(), width - 1 - ascending, ascending
    )
    picked_rows = padded.gather(
        -2, row_index[..., :, None].expand(*row_index.shape, padded.shape[-1])
    )
    return picked_rows.gather(-1, col_index[..., None, :].expand(*row_index.shape, width))
