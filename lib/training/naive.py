"""The textbook training loop that ``lib.training.bench`` measures lib's engines against:
torchvision's FashionMNIST dataset with per-sample transforms, a shuffling DataLoader, fp32,
eager mode, one model."""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F

from lib.core.config import RunConfig
from lib.core.dataset import FILES
from lib.model import data as data_module
from lib.training.train import initial_model

TORCHVISION_ROOT = data_module.DOWNLOAD_DIR  # torchvision reads ROOT/FashionMNIST/raw/<name>


def torchvision_files(root: Path = TORCHVISION_ROOT) -> Path:
    """Make ``root/FashionMNIST/raw`` hold the four uncompressed IDX files torchvision reads,
    written from lib.model.data's verified bytes. Returns ``root``."""
    raw = Path(root) / "FashionMNIST" / "raw"
    source = data_module.find_dir()
    raw.mkdir(parents=True, exist_ok=True)
    for name, (_, size) in FILES.items():
        target = raw / name
        if target.is_file() and target.stat().st_size == size:
            continue
        content = data_module.read_verified(source, name)
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(content)
        os.replace(tmp, target)
    return Path(root)


class NaiveEngine:
    """The reference loop: torchvision dataset + DataLoader, per-sample transforms, fp32."""

    name, compiled, seeds_at_once = "naive", False, 1
    precision, channels_last = "fp32", False

    def __init__(self, config: RunConfig, data, device: torch.device, root: Path):
        import torchvision
        from torchvision import transforms

        transform = transforms.Compose(
            [transforms.ToTensor(), transforms.Normalize((data.mean,), (data.std,))]
        )
        dataset = torchvision.datasets.FashionMNIST(root, train=True, transform=transform)
        self.loader = torch.utils.data.DataLoader(
            dataset,
            batch_size=config.batch_size,
            shuffle=True,
            generator=torch.Generator().manual_seed(config.seed),
        )
        self.device = device
        self.model = initial_model(config.replace(precision="fp32")).to(device)
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=config.lr)
        self.iterator = iter(self.loader)

    def step(self) -> int:
        try:
            images, labels = next(self.iterator)
        except StopIteration:
            self.iterator = iter(self.loader)
            images, labels = next(self.iterator)
        images, labels = images.to(self.device), labels.to(self.device)
        loss = F.cross_entropy(self.model(images), labels)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return len(images)
