"""The fixture records as the book loads them: real smoke runs of five arms, two seeds each."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.report.results import Results, load

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "results"


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def smoke() -> Results:
    return load("smoke", FIXTURES)


@pytest.fixture(scope="session")
def nothing(smoke) -> Results:
    """No profile and no records: what every chapter shows before the first run."""
    return Results(None, FIXTURES / "none", smoke.frame.iloc[:0])
