"""The repository: where it lies, where its results go, and the commit its code is at."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO / "results"


def git_output(*args: str) -> str:
    """git's output in this checkout, or "" where git fails (no repository, no git)."""
    try:
        out = subprocess.run(
            ["git", *args], cwd=REPO, capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def source_commit() -> tuple[str, bool]:
    """(commit, whether the code differs from it). Without a repository (a device machine
    gets a copy of the working tree) the commit comes from the manifest that
    ``lib.runs.remote.pack`` wrote, checked file by file; with neither, it is "unknown" and
    dirty."""
    if commit := git_output("rev-parse", "HEAD"):
        # Results folders change while a campaign runs; they do not make the code dirty.
        return commit, bool(
            git_output("status", "--porcelain", "--untracked-files=no", "--", ".", ":!results")
        )
    if manifest := os.environ.get("LIB_MANIFEST"):
        return verify_manifest(Path(manifest))
    return "unknown", True


def verify_manifest(manifest_path: Path, repo: Path = REPO) -> tuple[str, bool]:
    """(the manifest's commit, whether this copy differs from it in any file)."""
    listed = json.loads(Path(manifest_path).read_text())
    dirty = any(
        not (repo / path).is_file() or blob_hash(repo / path) != blob
        for path, blob in listed["files"].items()
    )
    return listed["commit"], dirty


def blob_hash(path: Path) -> str:
    """What ``git hash-object`` prints for the file: sha1 of "blob <size>\\0" + content."""
    content = path.read_bytes()
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
