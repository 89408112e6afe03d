"""The campaign's git worktrees: one clean, detached checkout of HEAD per commit under
``.campaign/``, so that every record a chunk writes names a clean commit while development
goes on in the main tree; and which processes still work in one (never removed then)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lib.core.repo import REPO


def git(*args: str, cwd: Path = REPO) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


def running_chunks(repo: Path = REPO) -> dict[int, Path]:
    """Processes working in one of the campaign's worktrees (chunks and their runs): pid ->
    worktree. A worktree in use is never moved or removed."""
    campaign_dir = (repo / ".campaign").resolve()
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cwd = Path(os.readlink(proc / "cwd")).resolve()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if cwd.is_relative_to(campaign_dir) and cwd != campaign_dir:
            found[int(proc.name)] = campaign_dir / cwd.relative_to(campaign_dir).parts[0]
    return found


def prepare_worktree(repo: Path = REPO) -> tuple[Path, str]:
    """A clean, detached worktree of the checkout's HEAD (``.campaign/worktree-<commit>``),
    and the commit. One worktree per commit, so a chunk running from an older commit keeps
    its code while a new one starts; worktrees no process uses any more are removed.
    Verifies that ``lib`` imported there is the worktree's, not the checkout's."""
    head = git("rev-parse", "HEAD", cwd=repo)
    worktree = repo / ".campaign" / f"worktree-{head[:10]}"
    in_use = set(running_chunks(repo).values())
    for old in (repo / ".campaign").glob("worktree*"):
        if old.resolve() != worktree.resolve() and old.resolve() not in in_use:
            git("worktree", "remove", "--force", str(old), cwd=repo)
    git("worktree", "prune", cwd=repo)
    if not (worktree / ".git").exists():
        git("worktree", "add", "--detach", str(worktree), head, cwd=repo)
    if git("status", "--porcelain", "--untracked-files=no", cwd=worktree):
        raise RuntimeError(f"{worktree} has local changes: the campaign runs committed code only")
    probe = "import lib.runs.runner, lib.training.train; print(lib.__file__)"
    imported = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=worktree,
        env={**os.environ, "PYTHONPATH": str(worktree)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not Path(imported).resolve().is_relative_to(worktree.resolve()):
        raise RuntimeError(f"the worktree imports lib from {imported}, not from {worktree}")
    return worktree, head
