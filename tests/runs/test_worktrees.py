"""lib.runs.worktrees: one clean worktree per commit, importing its own lib; old ones go when
no process works in them any more."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from lib.core.repo import REPO
from lib.runs import worktrees

REPO = REPO


@pytest.fixture
def clone(tmp_path):
    """A fresh clone of this repository's HEAD, as a checkout of its own."""
    target = tmp_path / "clone"
    subprocess.run(["git", "clone", "--quiet", "--local", str(REPO), str(target)], check=True)
    return target


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_one_clean_worktree_per_commit_importing_its_own_lib(clone):
    worktree, head = worktrees.prepare_worktree(clone)
    assert head == worktrees.git("rev-parse", "HEAD", cwd=clone)
    assert worktree == clone / ".campaign" / f"worktree-{head[:10]}"
    assert worktrees.git("rev-parse", "HEAD", cwd=worktree) == head
    assert worktrees.prepare_worktree(clone) == (worktree, head)  # reused, not recreated
    (worktree / "lib" / "core" / "config.py").write_text("# edited\n")  # a tracked file
    with pytest.raises(RuntimeError, match="local changes"):
        worktrees.prepare_worktree(clone)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_a_new_commit_gets_a_new_worktree_and_an_unused_old_one_goes(clone):
    old, _ = worktrees.prepare_worktree(clone)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet",
         "--allow-empty", "-m", "next"], cwd=clone, check=True,
    )  # fmt: skip
    busy = subprocess.Popen(["sleep", "30"], cwd=old / "lib")  # a chunk still running there
    try:
        new, _ = worktrees.prepare_worktree(clone)
        assert new != old and old.exists()  # in use: kept
        assert worktrees.running_chunks(clone) == {busy.pid: old}
    finally:
        busy.kill()
        busy.wait()
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet",
         "--allow-empty", "-m", "again"], cwd=clone, check=True,
    )  # fmt: skip
    newest, _ = worktrees.prepare_worktree(clone)
    assert not old.exists() and not new.exists() and newest.exists()
    assert worktrees.running_chunks(clone) == {}
