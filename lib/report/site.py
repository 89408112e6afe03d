"""The site's own facts and outputs: the commit it is built from, the records as downloads.

``results`` stays the only reader of records; this is the only module that asks git and the
only one that writes files: a CSV of every run and a zip of the record files, into the
git-ignored ``book/_downloads/`` that the Reproducibility page links with Sphinx's
``{download}`` role (so a missing file fails the build).
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pandas as pd

from lib.core.repo import git_output
from lib.report.results import available_profiles, citation_metadata, load, results_dir

REPO = Path(__file__).resolve().parents[2]
DOWNLOADS = REPO / "book" / "_downloads"
CSV_NAME, ZIP_NAME, SOURCE_NAME = "runs.csv", "records.zip", "source.tar.gz"
ARCHIVE_PREFIX = "fmnist-resnet34-replication"  # the folder the source archive unpacks into
# CSV column -> lib.analysis.results column, one row per record.json of every profile.
COLUMNS = {
    "profile": "profile",
    "arm": "arm",
    "seed": "seed",
    "status": "status",
    "final_test_accuracy": "final_test_accuracy",
    "best_test_accuracy": "best_test_accuracy",
    "best_epoch": "best_epoch",
    "epochs_run": "epochs_run",
    "wall_time_s": "wall_time_s",
    "images_per_s": "images_per_s",
    "engine": "engine",
    "executor": "executor",
    "precision": "precision",
    "device_name": "device_name",
    "torch": "torch",
    "git_commit": "git_commit",
    "git_dirty": "git_dirty",
    "reason": "reason",
}


def build_commit() -> tuple[str | None, bool]:
    """(``git rev-parse HEAD`` now, whether tracked files differ from it); (None, False)
    outside a git checkout."""
    head = git_output("rev-parse", "HEAD")
    if not head:
        return None, False
    return head, bool(git_output("status", "--porcelain", "--untracked-files=no"))


def build_commit_text() -> str:
    """One Markdown sentence naming the commit this site was built from."""
    head, dirty = build_commit()
    if head is None:
        return "This site was built outside a git checkout, so it names no commit."
    return f"This site was built from commit `{head}`" + (
        " with uncommitted changes to tracked files." if dirty else "."
    )


def _record_name(path: str, folder: Path) -> str:
    """The record's path under the results folder (``<profile>/<arm>/seed-<k>/record.json``)."""
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return Path(path).name


def runs_frame(folder: Path | None = None) -> pd.DataFrame:
    """Every record of every profile, any status: one row each, with its file."""
    folder = Path(folder) if folder is not None else results_dir()
    frames = []
    for profile in available_profiles(folder):
        frame = load(profile, folder).frame
        out = pd.DataFrame({k: frame[v] if v in frame else None for k, v in COLUMNS.items()})
        out["record"] = [_record_name(p, folder) for p in frame["path"]]
        frames.append(out)
    if not frames:
        return pd.DataFrame(columns=[*COLUMNS, "record"])
    return pd.concat(frames, ignore_index=True)


def write_downloads(out: Path = DOWNLOADS, folder: Path | None = None) -> dict:
    """Write ``runs.csv`` and ``records.zip`` (every record.json) into ``out``; their sizes."""
    folder = Path(folder) if folder is not None else results_dir()
    out.mkdir(parents=True, exist_ok=True)
    frame = runs_frame(folder)
    frame.to_csv(out / CSV_NAME, index=False)
    with zipfile.ZipFile(out / ZIP_NAME, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in frame["record"]:
            archive.write(folder / name, arcname=f"results/{name}")
    return {"rows": len(frame), "profiles": sorted(set(frame["profile"]))}


def write_source(out: Path = DOWNLOADS) -> str | None:
    """``git archive`` of the commit the site is built from into ``out`` (code, book and
    committed records; uncommitted changes are not in it); the commit, or None outside git."""
    head, _ = build_commit()
    if head is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["git", "archive", "--format=tar.gz", f"--prefix={ARCHIVE_PREFIX}/",
         "-o", str(out / SOURCE_NAME), head],
        cwd=REPO, check=True,
    )  # fmt: skip
    return head


def citation(cff: dict | None = None) -> str:
    """How to cite this report: a BibTeX entry with the title and authors of CITATION.cff
    (``cff``, else the repository's: its contributors, as the records name no people) and,
    as its version, the commit the site is built from."""
    cff = cff or citation_metadata()
    authors = " and ".join(a["name"] for a in cff["authors"])
    head, dirty = build_commit()
    year = git_output("show", "-s", "--format=%cd", "--date=format:%Y", "HEAD") or "n.d."
    version = f"commit {head[:10]}" if head else "no commit"
    version += " with uncommitted changes" if dirty else ""
    return (
        "```bibtex\n"
        "@misc{fmnist_resnet34_replication,\n"
        f"  author  = {{{{{authors}}}}},\n"
        f"  title   = {{{cff['title']}}},\n"
        f"  year    = {{{year}}},\n"
        f"  version = {{{version}}},\n"
        "  note    = {Jupyter Book built from run records}\n"
        "}\n"
        "```"
    )


def downloads_text(written: dict) -> str:
    """The sentence above the download links."""
    if not written["rows"]:
        return "No run record exists yet, so the downloads below are empty."
    profiles = ", ".join(f"`{p}`" for p in written["profiles"])
    return (
        f"All {written['rows']} run records (profiles {profiles}, every status) as one CSV, "
        "one row per record with its file, and the record files themselves as a zip:"
    )
