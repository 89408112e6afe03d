"""Fashion-MNIST: find the four IDX files, verify them, hold them as device tensors.

Nothing trains on unverified data: every file's decompressed content is checked
against the SHA-256 and size published with the dataset before it is parsed.
"""

from __future__ import annotations

import gzip
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from lib.core.dataset import FILES
from lib.core.repo import REPO

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")  # Debian package dataset-fashion-mnist
DOWNLOAD_DIR = REPO / "data"  # git-ignored

HOW_TO_FIX = (
    "Install Debian's package (`make data`, i.e. apt-get install dataset-fashion-mnist), "
    "or point FASHION_MNIST_DIR at a folder holding the four original IDX files (.gz or raw)."
)


class DataError(RuntimeError):
    """Fashion-MNIST is missing, unreadable or not the published content."""


@dataclass
class FashionMNIST:
    train_images: torch.Tensor  # uint8 [60000, 28, 28]
    train_labels: torch.Tensor  # int64 [60000]
    test_images: torch.Tensor  # uint8 [10000, 28, 28]
    test_labels: torch.Tensor  # int64 [10000]
    # Normalisation statistics of the full training set, pixel values scaled to [0, 1]
    # (about 0.2860 and 0.3530): inputs become (x / 255 - mean) / std.
    mean: float
    std: float
    source: str  # the folder the files came from
    sha256: dict[str, str]  # verified checksums, copied into every run record

    def to(self, device: torch.device | str) -> FashionMNIST:
        """The same data on another device (images stay uint8: 4x less memory than fp32)."""
        move = {
            name: getattr(self, name).to(device)
            for name in ("train_images", "train_labels", "test_images", "test_labels")
        }
        return FashionMNIST(
            **move, mean=self.mean, std=self.std, source=self.source, sha256=self.sha256
        )

    def normalise(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [N, 28, 28] -> float [N, 1, 28, 28], zero mean and unit variance."""
        return ((images.float() / 255.0 - self.mean) / self.std).unsqueeze(1)


def candidate_dirs() -> list[Path]:
    dirs = []
    if os.environ.get("FASHION_MNIST_DIR"):
        dirs.append(Path(os.environ["FASHION_MNIST_DIR"]))
    return dirs + [DEBIAN_DIR, DOWNLOAD_DIR / "FashionMNIST" / "raw"]


def find_dir() -> Path:
    """The first folder holding all four files, raw or gzipped; download as a last resort.

    FASHION_MNIST_DIR, when set, is the only folder used: an incomplete one is an error,
    never a silent fall-back to another copy.
    """
    if os.environ.get("FASHION_MNIST_DIR"):
        folder = Path(os.environ["FASHION_MNIST_DIR"])
        missing = [n for n in FILES if not file_in(folder, n)]
        if missing:
            raise DataError(
                f"FASHION_MNIST_DIR={folder} lacks {', '.join(missing)} (.gz or raw). {HOW_TO_FIX}"
            )
        return folder
    for folder in candidate_dirs():
        if all(file_in(folder, name) for name in FILES):
            return folder
    return _download()


def file_in(folder: Path, name: str) -> Path | None:
    for path in (folder / name, folder / f"{name}.gz"):
        if path.is_file():
            return path
    return None


def _download() -> Path:
    """torchvision's downloader, for machines with internet and no local copy."""
    import torchvision

    try:
        torchvision.datasets.FashionMNIST(DOWNLOAD_DIR, train=True, download=True)
        torchvision.datasets.FashionMNIST(DOWNLOAD_DIR, train=False, download=True)
    except Exception as error:  # network errors come in many types
        searched = ", ".join(str(d) for d in candidate_dirs())
        raise DataError(
            f"Fashion-MNIST not found (searched {searched}) and the download failed: {error}. "
            f"{HOW_TO_FIX}"
        ) from error
    return DOWNLOAD_DIR / "FashionMNIST" / "raw"


def read_verified(folder: Path, name: str) -> bytes:
    """The decompressed bytes of one IDX file, after checking its size and SHA-256."""
    path = file_in(folder, name)
    if path is None:
        raise DataError(f"{folder / name}[.gz] is missing. {HOW_TO_FIX}")
    expected_sha, expected_size = FILES[name]
    try:
        content = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise DataError(
            f"{path} is unreadable or a truncated/corrupt gzip: {error}. {HOW_TO_FIX}"
        ) from error
    if len(content) != expected_size:
        raise DataError(
            f"{path} decompresses to {len(content):,} bytes, expected {expected_size:,} "
            f"(truncated or not the original file). {HOW_TO_FIX}"
        )
    sha = hashlib.sha256(content).hexdigest()
    if sha != expected_sha:
        raise DataError(
            f"{path} has SHA-256 {sha}, expected {expected_sha} "
            f"(corrupted or a different dataset). {HOW_TO_FIX}"
        )
    return content


def _parse_idx(content: bytes, name: str) -> torch.Tensor:
    magic = int.from_bytes(content[:4], "big")
    ndim = magic & 0xFF
    shape = [int.from_bytes(content[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    if magic >> 8 != 0x08:  # 0x08 = unsigned byte, the only type Fashion-MNIST uses
        raise DataError(f"{name}: unexpected IDX magic {magic:#x}")
    data = torch.frombuffer(bytearray(content[4 + 4 * ndim :]), dtype=torch.uint8)
    return data.reshape(shape)


def load(device: torch.device | str = "cpu") -> FashionMNIST:
    """Verified Fashion-MNIST as tensors on ``device``."""
    folder = find_dir()
    raw = {name: _parse_idx(read_verified(folder, name), name) for name in FILES}
    train_images = raw["train-images-idx3-ubyte"]
    scaled = train_images.double() / 255.0
    data = FashionMNIST(
        train_images=train_images,
        train_labels=raw["train-labels-idx1-ubyte"].long(),
        test_images=raw["t10k-images-idx3-ubyte"],
        test_labels=raw["t10k-labels-idx1-ubyte"].long(),
        mean=float(scaled.mean()),
        std=float(scaled.std()),
        source=str(folder),
        sha256={name: sha for name, (sha, _) in FILES.items()},
    )
    return data.to(device)
