"""lib.report.notes: the sentences about which records exist."""

from __future__ import annotations

import dataclasses

from lib.report import notes


def test_paper_protocol_note_says_how_far_the_paper_runs_are(smoke, nothing):
    partial = dataclasses.replace(smoke, profile="smoke")  # stands for partial paper records
    text = notes.paper_protocol_note(nothing, partial)
    assert "10 of 30 planned runs" in text and "`resnet34` 2" in text
    assert "{doc}`paper_protocol`" in text
    assert "No run of the paper's own protocol" in notes.paper_protocol_note(smoke, nothing)
    shown_paper = dataclasses.replace(smoke, profile="paper")
    assert notes.paper_protocol_note(shown_paper, smoke) == ""


def test_chapters_profile_sentence_follows_the_chapters_profile(smoke):
    shown_paper = dataclasses.replace(smoke, profile="paper")
    assert "show these runs" in notes.chapters_profile_sentence(shown_paper)
    assert "3 seeds" in notes.chapters_profile_sentence(shown_paper)
    forced = dataclasses.replace(shown_paper, chosen_by_environment=True)
    assert "`BOOK_PROFILE`" in notes.chapters_profile_sentence(forced)
    assert "show the `smoke` profile" in notes.chapters_profile_sentence(smoke)
