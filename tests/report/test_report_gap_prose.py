from __future__ import annotations

import dataclasses

from lib.analysis import stats
from lib.report import gap, gap_prose
from lib.report.claims import BASELINE


def test_the_closest_reading_is_named_and_none_claims_to_reach_the_paper(smoke):
    text = gap_prose.closest_sentence(smoke)
    assert text.startswith("The reading closest to the paper is our default")
    assert "no reading tested reaches the paper's baseline at both lengths so far" in text


def test_the_answer_comes_first_and_says_whether_the_gap_is_explained(smoke):
    text = gap_prose.answer(smoke)
    assert text.startswith("**Not explained so far.** The reading closest to the paper is")
    assert gap_prose.summary(smoke).startswith(text)


def test_full_resolution_arms_below_the_paper_rule_out_resolution_alone(smoke, monkeypatch):
    gaps = gap.absolute_gaps(smoke).assign(verdict=stats.MISMATCH, gap=-2.0)
    monkeypatch.setattr(gap_prose, "absolute_gaps", lambda results: gaps)
    text = gap_prose.full_resolution_sentence(smoke)
    # the Inception stem and the combined model keep 28x28; the baseline's 7x7/2 stem does not
    assert "the Inception stem" in text and "all four changes together" in text
    assert "learning-rate decay" not in text and "SELU" not in text
    monkeypatch.setattr(gap_prose, "absolute_gaps", lambda r: gaps.assign(verdict=stats.MATCHES))
    assert gap_prose.full_resolution_sentence(smoke) == ""


def test_the_best_epoch_is_the_baselines_test_selected_maximum(smoke):
    best = smoke.values(BASELINE, 10, "best").mean()
    assert f"averages {best:.2f} %" in gap_prose.best_epoch_sentence(smoke)


def test_the_upsampled_reading_costs_64_times_the_baseline(smoke):
    hours = smoke.arm_runs(BASELINE)["core_seconds"].median() / 3600
    assert f"{64 * hours:.0f} core-hours" in gap_prose.upsampled_cost(smoke)


def test_overfitting_is_named_only_where_the_test_loss_rises_again(smoke):
    s = gap.saturation(smoke, BASELINE)
    text = gap_prose.saturation_sentence(smoke, [BASELINE])
    assert ("the mark of overfitting" in text) == (s["last"] > s["lowest"])


def test_a_one_seed_reading_within_one_runs_margin_comes_close(smoke, monkeypatch):
    near = {"epochs": 10, "available": True, "gap": -0.25, "margin": 0.82, "borrowed": True}
    near["summary"] = dataclasses.replace(smoke.summary(BASELINE), n=1, mean=92.87)
    near["paper"], near["verdict"] = 93.12, stats.NO_DATA
    monkeypatch.setattr(gap_prose, "closest_reading", lambda r: ("resnet34_plainstem", [near]))
    assert gap_prose.status(smoke) == "close"
    assert gap_prose.answer(smoke).startswith("**Not explained yet, but one reading comes close.**")
    text = gap_prose.closest_sentence(smoke)
    assert "(-0.25 on one seed, within the ± 0.82 that one run spread as our default's" in text
    assert "it has not been run for 20 epochs (partial" in text
    near["gap"] = -1.5
    assert gap_prose.status(smoke) == "open"
