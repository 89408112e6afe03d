"""Shared fixtures: Fashion-MNIST loaded once per session, and cheap views of it; the book
built once from the fixture records (``book_site``: tests/test_book.py, tests/test_oracle.py).

A test that needs the dataset depends on ``fashion_mnist_dir`` (directly, through ``fmnist``
and the fixtures built on it, or with ``@pytest.mark.usefixtures("fashion_mnist_dir")`` when
it trains in a subprocess): where Fashion-MNIST is not on the machine, it is skipped with the
reason, never errors, and never downloads into the repository's ``data/``.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import torch

from lib.model import data as data_module
from lib.training import checkpoint


@pytest.fixture(scope="session", autouse=True)
def checkpoint_spares(tmp_path_factory) -> Path:
    """Spares of the tests' checkpoints (``lib.training.checkpoint.spare_for``) go to a folder of
    this session, inherited by the runs it starts, never to the machine's real spares."""
    folder = tmp_path_factory.mktemp("checkpoint-spares")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(checkpoint.SPARES_ENV, str(folder))
        yield folder


def local_dataset_dir() -> tuple[Path | None, str]:
    """The folder ``lib.model.data`` reads Fashion-MNIST from, looked up as it does but without its
    download fall-back: (folder, "") or (None, why not)."""
    if os.environ.get("FASHION_MNIST_DIR"):  # then lib.model.data uses that folder only
        folders = [Path(os.environ["FASHION_MNIST_DIR"])]
        where = f"FASHION_MNIST_DIR={folders[0]}"
    else:
        folders = data_module.candidate_dirs()
        where = ", ".join(map(str, folders))
    for folder in folders:
        if all(data_module.file_in(folder, name) for name in data_module.FILES):
            return folder, ""
    return None, (
        f"needs Fashion-MNIST, and {where} lacks its four IDX files; tests never download it: "
        "`make data` installs Debian's dataset-fashion-mnist, or set FASHION_MNIST_DIR"
    )


@pytest.fixture(scope="session")
def fashion_mnist_dir() -> Path:
    """The folder holding Fashion-MNIST; skips the test, with the reason, when there is none.

    Only presence is checked here: a present but corrupted copy still fails ``lib.model.data``'s
    checksums (an error, not a skip)."""
    folder, reason = local_dataset_dir()
    if folder is None:
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="session")
def fmnist(fashion_mnist_dir) -> data_module.FashionMNIST:
    """The verified dataset as ``lib.model.data.load()`` returns it (CPU), loaded once."""
    data = data_module.load()
    assert Path(data.source) == fashion_mnist_dir
    return data


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


# --- the book, built once ----------------------------------------------------------------------

# The modules that read the shared build (``book_site``); `make test` runs the suite on two
# pytest-xdist workers and gives all of them to one worker, first, so that the book is built
# once and its long chain of builds starts at once while the other worker takes the rest.
BOOK_MODULES = ("tests/test_book.py", "tests/test_oracle.py")


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: not item.nodeid.startswith(BOOK_MODULES))  # stable sort


def pytest_xdist_make_scheduler(config, log):
    """Scope "book" for the book modules, one scope per test elsewhere. (xdist's own
    ``--dist loadgroup`` with ``xdist_group`` marks groups nothing under pytest 9.2:
    pytest-dev/pytest-xdist#1386.)"""
    from xdist.scheduler import LoadScopeScheduling

    class BookOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "book" if nodeid.startswith(BOOK_MODULES) else nodeid

    return BookOnOneWorker(config, log)


@pytest.fixture(scope="session")
def book_site(tmp_path_factory) -> dict:
    """The site built once from copies of the fixture records and of the records it must
    leave out (tests/fixtures/make_excluded.py). Read-only for the tests that share it: a
    test that changes records or rebuilds works on its own copy."""
    from booksite import EXCLUDED, FIXTURES, built, make_book

    root = tmp_path_factory.mktemp("book")
    results = root / "results"
    shutil.copytree(FIXTURES, results)
    shutil.copytree(EXCLUDED, results, dirs_exist_ok=True)
    out = root / "out"
    process = make_book(results, out)
    built(process)
    return {"results": results, "out": out, "html": out / "_build" / "html", "process": process}


@pytest.fixture
def flaky_kernel(tmp_path, monkeypatch):
    """``flaky_kernel(name)`` installs (via JUPYTER_PATH, for this test and its children) a
    kernelspec ``name`` whose first start exits at once, like a kernel that lost the race
    for a port, and returns the file whose existence shows that start happened."""

    def install(name: str) -> Path:
        marker, spec = tmp_path / f"{name}-started-once", tmp_path / "jupyter" / "kernels" / name
        spec.mkdir(parents=True)
        launcher = spec / "launch.py"
        launcher.write_text(
            "import pathlib, runpy, sys\n"
            f"marker = pathlib.Path({str(marker)!r})\n"
            "if not marker.exists():\n"
            "    marker.touch()\n"
            "    sys.exit(1)\n"
            "runpy.run_module('ipykernel_launcher', run_name='__main__')\n"
        )
        argv = [sys.executable, str(launcher), "-f", "{connection_file}"]
        spec.joinpath("kernel.json").write_text(
            json.dumps({"argv": argv, "display_name": name, "language": "python"})
        )
        monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
        return marker

    return install
