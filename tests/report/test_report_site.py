"""lib.report.site: the build's commit and the run records as downloads (CSV and zip)."""

from __future__ import annotations

import csv
import json
import subprocess
import zipfile

from lib.report import site
from lib.report.results import citation_metadata


def test_downloads_hold_every_record(fixtures, smoke, tmp_path):
    written = site.write_downloads(tmp_path, fixtures)
    rows = list(csv.DictReader((tmp_path / site.CSV_NAME).open()))
    assert written["rows"] == len(rows) >= len(smoke.frame)
    assert "smoke" in written["profiles"]
    smoke_rows = [r for r in rows if r["profile"] == "smoke"]
    assert len(smoke_rows) == len(smoke.frame)
    assert {"arm", "seed", "status", "final_test_accuracy", "git_commit", "record"} <= set(rows[0])
    with zipfile.ZipFile(tmp_path / site.ZIP_NAME) as archive:
        names = archive.namelist()
        assert names == [f"results/{r['record']}" for r in rows]
        for row in smoke_rows:
            if row["status"] == "complete":
                record = json.loads(archive.read(f"results/{row['record']}"))
                assert abs(record["final_test_accuracy"] - float(row["final_test_accuracy"])) < 1e-9
    # no absolute path of the builder leaks into the downloads
    assert str(fixtures) not in (tmp_path / site.CSV_NAME).read_text()
    assert all(not n.startswith("/") for n in names)
    assert site.downloads_text(written).startswith(f"All {len(rows)} run records")


def test_no_records_no_rows(tmp_path):
    written = site.write_downloads(tmp_path / "out", tmp_path)
    assert written == {"rows": 0, "profiles": []}
    assert "empty" in site.downloads_text(written)


def test_build_commit_is_head():
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=site.REPO, capture_output=True, text=True
    ).stdout.strip()
    commit, _ = site.build_commit()
    assert commit == head
    assert f"`{head}`" in site.build_commit_text()


def test_the_bibtex_entry_cites_what_citation_cff_says(monkeypatch, tmp_path):
    cff = tmp_path / "CITATION.cff"
    cff.write_text('title: "A title"\nauthors:\n  - name: "Ada"\n  - name: "Grace"\n')
    monkeypatch.setattr(site, "build_commit", lambda: ("0123456789abcdef", False))
    entry = site.citation(citation_metadata(cff))
    assert "  title   = {A title},\n" in entry and "  author  = {{Ada and Grace}},\n" in entry
    assert "  version = {commit 0123456789},\n" in entry
    assert all(len(line) <= 80 for line in entry.splitlines())  # no line clipped on the page
    assert f"  title   = {{{citation_metadata()['title']}}},\n" in site.citation()  # the repo's
