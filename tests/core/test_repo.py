"""lib.core.repo: the repository's paths and the commit its code is at."""

from __future__ import annotations

import subprocess

from lib.core.repo import REPO, RESULTS_DIR, blob_hash


def test_the_repository_is_the_folder_above_lib():
    assert (REPO / "lib" / "core" / "repo.py").is_file() and RESULTS_DIR == REPO / "results"


def test_blob_hash_is_gits(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"print('hi')\n\x00binary too")
    hashed = subprocess.run(
        ["git", "hash-object", str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert blob_hash(path) == hashed
