"""`make book` for the tests: the fixture folders, a build, its check (tests/conftest.py's
``book_site`` builds the shared site with it; tests/test_book.py rebuilds with it)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures" / "results"  # real smoke runs: 5 arms x seeds 0, 1
EXCLUDED = REPO / "tests" / "fixtures" / "excluded"  # stale, failed, invalid, duplicated


def make_book(
    results_dir: Path, out: Path, profile: str = "smoke", *make_args: str
) -> subprocess.CompletedProcess:
    """``make book`` of ``results_dir`` into ``out`` (output captured)."""
    env = {**os.environ, "RESULTS_DIR": str(results_dir)}
    env.pop("BOOK_PROFILE", None)
    return subprocess.run(
        ["make", "--no-print-directory", "book", f"PROFILE={profile}", f"BOOK_OUT={out}"]
        + list(make_args),
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def built(process: subprocess.CompletedProcess) -> None:
    assert process.returncode == 0, (process.stdout + process.stderr)[-6000:]
