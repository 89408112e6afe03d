"""lib.report.protocols: verdicts per protocol, the proxy's distortions, what the seeds decide."""

from __future__ import annotations

import dataclasses

from lib.report import protocols
from lib.report.formatting import mean_sd, num


def as_paper(results):
    """The fixture records standing for the paper protocol's (10 planned seeds)."""
    return dataclasses.replace(results, profile="paper")


def test_proxy_note_states_the_distortions(smoke, nothing):
    note = protocols.proxy_note(smoke)
    assert note.startswith(":::{important} A proxy: our reduced `smoke` proxy")
    # exponential decay x0.8 per epoch, not rescaled: epoch 2 of ours vs the paper's 10th
    assert "×0.80" in note and f"×{num(0.8**9)}" in note
    losses = smoke.epoch_losses[smoke.epoch_losses["arm"] == "resnet34"]
    test_loss = losses.groupby("epoch")["test_loss"].mean()
    assert ("overfit" in note) == (test_loss.idxmin() < test_loss.index.max())
    assert protocols.proxy_note(as_paper(smoke)) == "" and protocols.proxy_note(nothing) == ""


def test_permutation_floor_follows_the_seeds(smoke, nothing):
    two = protocols.permutation_floor(smoke)  # 2 seeds: 6 relabellings, p >= 1/3
    assert "6 relabellings" in two and "below 0.333" in two
    assert "cannot exclude any value at a primary claim's level (1 %) or an exploratory" in two
    ten = protocols.permutation_floor(as_paper(smoke))  # 10 planned, 2 done per arm
    planned, so_far = ten.split(" So far ")
    assert "184,756 relabellings" in planned and "left out" not in planned
    assert planned.startswith("With 10 seeds per arm, as the paper's protocol plans")
    assert so_far.startswith("the arms of the paper's improvement claims have as few as 2")
    assert "6 relabellings" in so_far and "left out of the sensitivity analyses" in so_far
    assert protocols.permutation_floor(nothing).startswith("Without results")


def test_paper_baseline_is_backed_by_records(smoke, nothing):
    text = protocols.paper_baseline(smoke)  # the fixture records standing for the paper's
    assert mean_sd(smoke.summary("resnet34")) in text and "93.12 %" in text
    # n = 2: the margin is wide (t with 1 df)
    assert "after epoch 2" in text and "within the ± " in text and "paper's 10 runs allows" in text
    assert "No run of `resnet34` at the paper's own protocol" in protocols.paper_baseline(nothing)


def test_precision_note(smoke):
    assert "**bf16** (10 runs)" in protocols.precision_note(smoke)


def test_strongest_findings_name_what_differs_largest_first(smoke, monkeypatch):
    assert protocols.strongest_findings(smoke) == ""  # the smoke fixtures have no such arms
    from types import SimpleNamespace

    from lib.analysis import stats

    fake = {  # arm -> (verdict, diff, ci)
        "resnet34_projection": (stats.LOWER, -2.24, (-4.24, -0.24)),
        "resnet34_plainstem": (stats.HIGHER, 2.40, (1.34, 3.47)),
        "resnet34_nopool": (stats.NO_CLEAR_DIFFERENCE, 0.5, (-1.0, 2.0)),
    }

    def judged(results, arm):
        verdict, diff, (low, high) = fake.get(arm, (stats.NO_DATA, float("nan"), (0, 0)))
        return SimpleNamespace(
            verdict=verdict, comparison=SimpleNamespace(diff=diff, ci_low=low, ci_high=high)
        )

    monkeypatch.setattr(protocols, "judge", judged)
    text = protocols.strongest_findings(smoke)
    assert text.index("`resnet34_plainstem`") < text.index("`resnet34_projection`")
    assert "**+2.40 points** (95 % CI [+1.34, +3.47])" in text
    assert "× the baseline's training FLOPs" in text  # the plain stem costs more
    assert "resnet34_nopool" not in text and "+2.92" in text  # the paper's combined claim


def test_a_section_run_only_under_the_proxy_says_why_and_what_its_rows_are(smoke, nothing):
    paper = dataclasses.replace(smoke, profile="paper")
    note = protocols.proxy_section_note(paper, smoke)
    assert note.startswith("These arms are not planned at the paper's protocol")
    assert "`smoke` proxy (width 0.125×" in note and "marked *proxy*" in note
    assert protocols.proxy_section_note(smoke, smoke) == ""  # the page is a proxy already
    assert protocols.proxy_section_note(paper, nothing) == ""
