"""lib.model.data: the verified Fashion-MNIST equals torchvision's reading, and bad files fail
clearly."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torchvision

from lib.core.dataset import FILES
from lib.model import data as data_module
from lib.model.data import HOW_TO_FIX, DataError

TRAIN_LABELS = "train-labels-idx1-ubyte"


def test_shapes_and_dtypes(fmnist):
    assert fmnist.train_images.shape == (60_000, 28, 28)
    assert fmnist.test_images.shape == (10_000, 28, 28)
    assert fmnist.train_images.dtype == fmnist.test_images.dtype == torch.uint8
    assert fmnist.train_labels.shape == (60_000,)
    assert fmnist.test_labels.shape == (10_000,)
    assert fmnist.train_labels.dtype == fmnist.test_labels.dtype == torch.int64


def test_classes_are_balanced(fmnist):
    assert torch.bincount(fmnist.train_labels).tolist() == [6_000] * 10
    assert torch.bincount(fmnist.test_labels).tolist() == [1_000] * 10


def test_identical_to_torchvision(fmnist, raw_root):
    for train, images, labels in (
        (True, fmnist.train_images, fmnist.train_labels),
        (False, fmnist.test_images, fmnist.test_labels),
    ):
        reference = torchvision.datasets.FashionMNIST(str(raw_root), train=train, download=False)
        assert reference.data.dtype == images.dtype
        assert torch.equal(reference.data, images)
        assert reference.targets.dtype == labels.dtype
        assert torch.equal(reference.targets, labels)


@pytest.fixture(scope="module")
def pixel_histogram(fmnist) -> list[int]:
    """How many training pixels take each value 0..255: exact statistics without float sums."""
    return torch.bincount(fmnist.train_images.flatten(), minlength=256).tolist()


def test_normalisation_statistics_are_the_training_set_statistics(fmnist, pixel_histogram):
    counts = pixel_histogram
    n = sum(counts)
    total = sum(v * c for v, c in enumerate(counts))
    squares = sum(v * v * c for v, c in enumerate(counts))
    mean = total / n / 255
    std = ((squares - total * total / n) / (n - 1)) ** 0.5 / 255
    assert fmnist.mean == pytest.approx(mean, abs=1e-9)
    assert fmnist.std == pytest.approx(std, abs=1e-9)
    assert fmnist.mean == pytest.approx(0.2860, abs=1e-4)
    assert fmnist.std == pytest.approx(0.3530, abs=1e-4)


def test_normalise_gives_zero_mean_unit_variance(fmnist, pixel_histogram):
    batch = fmnist.normalise(fmnist.train_images[:64])
    assert batch.shape == (64, 1, 28, 28) and batch.dtype == torch.float32
    expected = (fmnist.train_images[:64].float() / 255 - fmnist.mean) / fmnist.std
    assert torch.allclose(batch[:, 0], expected)
    # every pixel value once, weighted by how often it occurs in the training set
    levels = fmnist.normalise(torch.arange(256, dtype=torch.uint8).reshape(1, 16, 16)).flatten()
    counts = torch.tensor(pixel_histogram, dtype=torch.float64)
    n = counts.sum()
    mean = float((levels.double() * counts).sum() / n)
    variance = float(((levels.double() - mean) ** 2 * counts).sum() / (n - 1))
    assert mean == pytest.approx(0.0, abs=1e-5)
    assert variance == pytest.approx(1.0, abs=1e-5)


def test_checksums_and_source_are_recorded(fmnist):
    assert fmnist.sha256 == {name: sha for name, (sha, _) in FILES.items()}
    assert all(data_module.file_in(Path(fmnist.source), name) for name in FILES)


def test_to_keeps_uint8_and_metadata(fmnist):
    moved = fmnist.to("cpu")
    assert moved.train_images.dtype == torch.uint8
    assert torch.equal(moved.test_labels, fmnist.test_labels)
    assert (moved.mean, moved.std, moved.sha256) == (fmnist.mean, fmnist.std, fmnist.sha256)


def test_raw_folder_works(fmnist, raw_dir, monkeypatch):
    monkeypatch.setenv("FASHION_MNIST_DIR", str(raw_dir))
    loaded = data_module.load()
    assert loaded.source == str(raw_dir)
    assert torch.equal(loaded.train_images, fmnist.train_images)
    assert torch.equal(loaded.test_labels, fmnist.test_labels)
    assert loaded.mean == fmnist.mean


# --- bad input: one DataError naming the file, what was expected and how to fix it ----------


def _dataset_copy(raw_dir: Path, folder: Path, damaged: str | None = None) -> Path:
    """``folder`` with links to the four good raw files, except ``damaged`` (left out)."""
    folder.mkdir()
    for name in FILES:
        if name != damaged:
            (folder / name).symlink_to(raw_dir / name)
    return folder


def _load_error(folder: Path, monkeypatch) -> str:
    monkeypatch.setenv("FASHION_MNIST_DIR", str(folder))
    with pytest.raises(DataError) as error:
        data_module.load()
    message = str(error.value)
    assert HOW_TO_FIX in message
    return message


def test_missing_file(raw_dir, tmp_path, monkeypatch):
    folder = _dataset_copy(raw_dir, tmp_path / "fm", damaged="t10k-labels-idx1-ubyte")
    message = _load_error(folder, monkeypatch)
    assert "t10k-labels-idx1-ubyte" in message
    assert str(folder) in message and "FASHION_MNIST_DIR" in message
    for present in ("train-images-idx3-ubyte", TRAIN_LABELS, "t10k-images-idx3-ubyte"):
        assert present not in message


def test_missing_folder(tmp_path, monkeypatch):
    message = _load_error(tmp_path / "nowhere", monkeypatch)
    assert all(name in message for name in FILES)


def test_truncated_gzip(raw_dir, tmp_path, monkeypatch):
    folder = _dataset_copy(raw_dir, tmp_path / "fm", damaged=TRAIN_LABELS)
    packed = gzip.compress((raw_dir / TRAIN_LABELS).read_bytes())
    (folder / f"{TRAIN_LABELS}.gz").write_bytes(packed[: len(packed) // 2])
    message = _load_error(folder, monkeypatch)
    assert str(folder / f"{TRAIN_LABELS}.gz") in message
    assert "truncated" in message and "gzip" in message


def test_corrupted_byte_fails_the_checksum(raw_dir, tmp_path, monkeypatch):
    folder = _dataset_copy(raw_dir, tmp_path / "fm", damaged=TRAIN_LABELS)
    content = bytearray((raw_dir / TRAIN_LABELS).read_bytes())
    content[100] = (content[100] + 1) % 10  # still a valid label, same size
    (folder / f"{TRAIN_LABELS}.gz").write_bytes(gzip.compress(bytes(content)))
    message = _load_error(folder, monkeypatch)
    assert str(folder / f"{TRAIN_LABELS}.gz") in message
    assert "SHA-256" in message and FILES[TRAIN_LABELS][0] in message


def test_wrong_size_file(raw_dir, tmp_path, monkeypatch):
    folder = _dataset_copy(raw_dir, tmp_path / "fm", damaged=TRAIN_LABELS)
    (folder / TRAIN_LABELS).write_bytes((raw_dir / TRAIN_LABELS).read_bytes() + b"\0" * 8)
    message = _load_error(folder, monkeypatch)
    assert str(folder / TRAIN_LABELS) in message
    assert "60,016" in message and "expected 60,008" in message


def test_no_copy_and_no_download_is_a_data_error(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.delenv("FASHION_MNIST_DIR", raising=False)
    monkeypatch.setattr(data_module, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setattr(data_module, "DOWNLOAD_DIR", tmp_path / "download")
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", offline)
    with pytest.raises(DataError) as error:
        data_module.load()
    message = str(error.value)
    assert "download failed" in message and "no network" in message
    assert str(tmp_path / "debian") in message and HOW_TO_FIX in message


# --- without the dataset, the tests that need it are skipped with the reason ---------------


def test_data_tests_skip_with_the_reason_when_the_dataset_is_absent(tmp_path):
    """A pytest session whose FASHION_MNIST_DIR is an empty folder: the data tests (through
    ``fmnist`` and through ``raw_dir``) are skipped and say why; a test without data passes."""
    here = Path(__file__).resolve()
    tests = [f"{here}::{name}" for name in ("test_shapes_and_dtypes", "test_raw_folder_works")]
    empty = tmp_path / "no-data"
    empty.mkdir()
    env = {**os.environ, "FASHION_MNIST_DIR": str(empty), "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *tests]
        + [f"{here}::test_missing_folder"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "1 passed, 2 skipped" in proc.stdout
    assert f"FASHION_MNIST_DIR={empty} lacks its four IDX files" in proc.stdout
    assert "make data" in proc.stdout
    assert list(empty.iterdir()) == []  # nothing was downloaded
