"""lib.report.notes: the sentences about which records exist."""

from __future__ import annotations

import dataclasses

from lib.report import notes


def test_chapters_profile_sentence_follows_the_chapters_profile(smoke):
    shown_paper = dataclasses.replace(smoke, profile="paper")
    assert "show these runs" in notes.chapters_profile_sentence(shown_paper)
    assert "3 seeds" in notes.chapters_profile_sentence(shown_paper)
    forced = dataclasses.replace(shown_paper, chosen_by_environment=True)
    assert "`BOOK_PROFILE`" in notes.chapters_profile_sentence(forced)
    assert "show the `smoke` profile" in notes.chapters_profile_sentence(smoke)
