"""Shared fixtures: Fashion-MNIST loaded once per session, and cheap views of it."""

from __future__ import annotations

import dataclasses
import gzip
from pathlib import Path

import pytest
import torch

from lib import data as data_module


@pytest.fixture(scope="session")
def fmnist() -> data_module.FashionMNIST:
    """The verified dataset as ``lib.data.load()`` returns it (CPU), loaded once."""
    return data_module.load()


@pytest.fixture(scope="session")
def fmnist_small_test(fmnist) -> data_module.FashionMNIST:
    """The full training set with only the first 2,000 test images: cheap evaluation."""
    return dataclasses.replace(
        fmnist, test_images=fmnist.test_images[:2000], test_labels=fmnist.test_labels[:2000]
    )


@pytest.fixture(scope="session")
def raw_root(fmnist, tmp_path_factory) -> Path:
    """torchvision's layout: ``root/FashionMNIST/raw/<name>``, the four files decompressed."""
    root = tmp_path_factory.mktemp("fmnist-root")
    raw = root / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    source = Path(fmnist.source)
    for name in data_module.FILES:
        gz, plain = source / f"{name}.gz", source / name
        content = plain.read_bytes() if plain.is_file() else gzip.decompress(gz.read_bytes())
        (raw / name).write_bytes(content)
    return root


@pytest.fixture(scope="session")
def raw_dir(raw_root) -> Path:
    """A folder holding the four original IDX files uncompressed."""
    return raw_root / "FashionMNIST" / "raw"


@pytest.fixture(scope="module")
def one_thread():
    """Torch on one CPU thread for the module, restored afterwards.

    The tests' models are tiny: a second intra-op thread gains nothing and, on a machine
    that is busy with other work, OpenMP's thread synchronisation makes them many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
