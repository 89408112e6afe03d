"""lib.runs.remote: the paper grid packed for a device machine without git or the dataset."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from lib.core.repo import REPO, verify_manifest
from lib.runs import remote

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.org"]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        [*GIT, *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def committed_repo(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir()
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    git("init", "-q", cwd=folder)
    git("add", ".", cwd=folder)
    git("commit", "-q", "-m", "one", cwd=folder)
    return folder


def test_the_manifest_lists_heads_files_and_verify_finds_any_change(tmp_path):
    repo = committed_repo(tmp_path / "repo", {"lib/a.py": "a = 1\n", "results/r.json": "{}"})
    listed = remote.manifest(repo)
    assert listed["commit"] == git("rev-parse", "HEAD", cwd=repo)
    assert list(listed["files"]) == ["lib/a.py"]  # results are not code
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(listed))
    shutil.rmtree(repo / ".git")  # a copy of the working tree, as a device machine gets
    assert verify_manifest(path, repo) == (listed["commit"], False)
    (repo / "results" / "r.json").write_text('{"new": 1}')  # records may change
    assert verify_manifest(path, repo) == (listed["commit"], False)
    (repo / "lib" / "a.py").write_text("a = 2\n")
    assert verify_manifest(path, repo) == (listed["commit"], True)
    (repo / "lib" / "a.py").unlink()
    assert verify_manifest(path, repo) == (listed["commit"], True)


def test_a_dirty_checkout_is_not_packed(tmp_path):
    repo = committed_repo(tmp_path / "repo", {"lib/a.py": "a = 1\n"})
    (repo / "lib" / "a.py").write_text("a = 2\n")
    with pytest.raises(RuntimeError, match="uncommitted changes"):
        remote.manifest(repo)


@pytest.mark.usefixtures("fashion_mnist_dir")
def test_a_packed_grid_runs_without_git_and_its_records_name_the_commit(tmp_path):
    """The rehearsal on the CPU: this working tree committed in a copy, packed there (smoke
    profile, cpu), its .git removed as on a device machine, then run.sh as the device runs
    it: the archive holds the new record, whose provenance names the copy's commit, clean."""
    copy = tmp_path / "copy"
    tracked = git("ls-files", cwd=REPO).splitlines()
    for name in tracked:
        if not name.startswith(("results/", "tests/fixtures/")) and (REPO / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, copy / name)
    shutil.copy2(REPO / ".gitignore", copy / ".gitignore")
    git("init", "-q", cwd=copy)
    git("add", ".", cwd=copy)
    git("commit", "-q", "-m", "the code under test", cwd=copy)
    head = git("rev-parse", "HEAD", cwd=copy)
    env = {
        **os.environ,
        "PYTHONPATH": str(copy),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # python3
        "OMP_NUM_THREADS": "1",
    }
    pack = [sys.executable, "-m", "lib", "pack", "--profile", "smoke", "--device", "cpu"]
    pack += ["--arms", "resnet34", "--seeds", "0", "--budget", "10m"]
    subprocess.run(pack, cwd=copy, env=env, check=True, capture_output=True)
    assert sorted(p.name for p in (copy / ".remote" / "data").iterdir()) == sorted(
        f"{name}.gz" for name in remote.data.FILES
    )
    shutil.rmtree(copy / ".git")
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run(
        ["bash", ".remote/run.sh"], cwd=copy, env={**env, "OUT": str(out)}, capture_output=True
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    with tarfile.open(out / "records.tgz") as archive:
        assert archive.getnames() == ["results/smoke/resnet34/seed-0/record.json"]
        record = json.load(archive.extractfile(archive.getnames()[0]))
    assert record["status"] == "complete"
    assert record["provenance"]["git_commit"] == head
    assert record["provenance"]["git_dirty"] is False
    assert record["dataset_sha256"]  # the packed copy of the dataset, verified there
