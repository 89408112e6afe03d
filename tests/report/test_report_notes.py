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
