"""lib.report.results: which results the book shows (environment, files), and the Results view."""

from __future__ import annotations

import dataclasses
import json

import pytest

from lib.core.arms import ARMS
from lib.report import results as report_results
from lib.report.results import BEST, load


def _record(folder, profile, arm="resnet34", seed=0):
    path = folder / profile / arm / f"seed-{seed}" / "record.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"status": "complete"}))


def test_pick_profile_prefers_paper_then_cpu_then_smoke(tmp_path, monkeypatch):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    assert report_results.pick_profile(tmp_path) is None
    _record(tmp_path, "smoke")
    assert report_results.pick_profile(tmp_path) == "smoke"
    _record(tmp_path, "cpu")
    assert report_results.pick_profile(tmp_path) == "cpu"
    (tmp_path / "paper").mkdir()  # an empty folder is not results
    assert report_results.pick_profile(tmp_path) == "cpu"
    _record(tmp_path, "paper")
    assert report_results.pick_profile(tmp_path) == "paper"
    assert report_results.available_profiles(tmp_path) == ["paper", "cpu", "smoke"]


def test_book_profile_and_results_dir_from_environment(tmp_path, monkeypatch):
    _record(tmp_path, "cpu")
    monkeypatch.setenv("RESULTS_DIR", str(tmp_path))
    monkeypatch.setenv("BOOK_PROFILE", "")
    assert report_results.results_dir() == tmp_path.resolve()
    assert report_results.pick_profile() == "cpu"
    monkeypatch.setenv("BOOK_PROFILE", "smoke")  # chosen even without records: says so
    assert report_results.pick_profile() == "smoke"
    monkeypatch.setenv("BOOK_PROFILE", "nonsense")
    with pytest.raises(ValueError, match="not a profile"):
        report_results.pick_profile()
    monkeypatch.delenv("RESULTS_DIR")
    assert report_results.results_dir().name == "results"


def test_load_remembers_how_the_profile_was_chosen(tmp_path, monkeypatch):
    _record(tmp_path, "smoke")
    _record(tmp_path, "cpu")
    monkeypatch.setenv("BOOK_PROFILE", "")
    automatic = load(folder=tmp_path)
    assert automatic.profile == "cpu" and not automatic.chosen_by_environment
    assert automatic.profiles_with_records == ["cpu", "smoke"]
    monkeypatch.setenv("BOOK_PROFILE", "smoke")
    assert load(folder=tmp_path).chosen_by_environment


def test_values_are_the_accuracy_at_the_paper_epochs(smoke):
    """The paper's 10 epochs are our E (2 in smoke), its 20 our 2E; long arms run 2E."""
    assert (smoke.horizon(10), smoke.horizon(20)) == (2, 4)
    runs = smoke.arm_runs("resnet34")
    assert list(smoke.values("resnet34")) == [a[1] for a in runs["test_accuracy"]]
    assert list(smoke.values("resnet34", 20)) == [a[3] for a in runs["test_accuracy"]]
    assert list(smoke.values("resnet34", 20, BEST)) == [max(a) for a in runs["test_accuracy"]]
    assert len(smoke.values("resnet34_selu", 20)) == 0  # the paper has no 20-epoch SELU run
    assert smoke.summary("resnet34").n == 2
    difference = smoke.values("improved").mean() - smoke.values("resnet34").mean()
    assert smoke.compare("improved").diff == pytest.approx(difference)


def test_completeness_of_the_fixture(smoke):
    c = smoke.completeness
    assert (c["planned"], c["done"], c["seeds"]) == (2 * len(ARMS), 10, 2)  # every arm
    assert len(c["missing_arms"]) == len(ARMS) - 5 and not c["partial_arms"]


def test_the_paper_protocol_plans_the_campaigns_runs(smoke):
    from lib.runs.campaign import campaign_plan

    paper = dataclasses.replace(smoke, profile="paper")
    plan = campaign_plan()
    c = paper.completeness
    assert c["planned"] == len(plan)  # one definition of planned runs on every page
    assert c["planned_per_arm"]["resnet34_augment"] == 3
    assert c["planned_per_arm"]["improved_no_lr"] == 0
    assert "improved_no_lr" not in c["missing_arms"]  # not planned: not missing
    assert smoke.reduced and smoke.model_profile == "smoke"


def test_benches_are_read_once_and_broken_files_skipped(tmp_path):
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "a.json").write_text(json.dumps({"machine": {"device": "cpu"}}))
    (bench / "b.json").write_text("{not json")
    results = load("smoke", tmp_path)
    assert [(p.name, b) for p, b in results.benches] == [("a.json", {"machine": {"device": "cpu"}})]


def test_a_ready_profile_leads_a_preferred_one_that_is_not(tmp_path, fixtures, monkeypatch):
    """Partial paper-protocol records never hide a complete profile (they get their page)."""
    import shutil

    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    shutil.copytree(fixtures / "smoke", tmp_path / "smoke")  # 5 paper arms x 2 seeds
    _record(tmp_path, "paper")  # one run, not even well formed
    monkeypatch.setattr(report_results, "READY_SEEDS", 2)
    assert report_results.ready("smoke", tmp_path) and not report_results.ready("paper", tmp_path)
    assert report_results.pick_profile(tmp_path) == "smoke"
    monkeypatch.setattr(report_results, "READY_SEEDS", 3)  # nothing ready: the preferred one
    assert report_results.pick_profile(tmp_path) == "paper"
