"""lib.training.budget: durations and the deadline arithmetic."""

import time

import pytest

from lib.training.budget import Budget, parse_duration


@pytest.mark.parametrize(
    "text, seconds", [("150m", 9000), ("2.5h", 9000), ("90s", 90), ("20", 1200), (" 1h ", 3600)]
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0m", "-5m", "1d", "ten minutes", "1h30m"])
def test_bad_durations_are_errors_that_say_what_is_expected(text):
    with pytest.raises(ValueError, match="like 150m"):
        parse_duration(text)


def test_allows_only_what_ends_before_the_deadline():
    budget = Budget.starting_now(100)
    assert budget.allows(50) and not budget.allows(200)
    assert 99 < budget.left() <= 100
    assert not Budget(time.time() - 1).allows(0)
