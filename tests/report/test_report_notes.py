"""lib.report.notes: the sentences about which records exist."""

from __future__ import annotations

import dataclasses

from lib.report import notes


def test_chapters_profile_sentence_follows_the_chapters_profile(smoke):
    shown_paper = dataclasses.replace(smoke, profile="paper")
    assert "show these runs" in notes.chapters_profile_sentence(shown_paper)
    assert "3 seeds" in notes.chapters_profile_sentence(shown_paper)
    forced = dataclasses.replace(shown_paper, chosen_by_environment=True)
    assert "chosen when this site was built" in notes.chapters_profile_sentence(forced)
    assert "show our reduced `smoke` proxy" in notes.chapters_profile_sentence(smoke)
    for results in (shown_paper, forced, smoke):  # a reader's words, not the build's
        assert "profile" not in notes.chapters_profile_sentence(results).lower()


def test_an_arm_the_paper_protocol_does_not_plan_is_said_in_plain_words(smoke):
    shown_paper = dataclasses.replace(smoke, profile="paper")
    note = notes.missing_note(shown_paper, ["resnet34", "resnet34_nopool"])
    assert "not planned at the paper's protocol: `resnet34_nopool`" in note
    assert "profile" not in note
