"""lib.report.readings: the paper's ambiguities, our choice for each, and the paper's
comparisons under every other reading."""

from __future__ import annotations

from lib.analysis import stats
from lib.report import claims, readings
from lib.report.formatting import code


def test_readings_table_and_verdicts(smoke):
    table = readings.readings_table(smoke)
    assert len(table) == len(claims.READINGS)
    assert list(table["Moves it by (vs our default)"]).count("default") == 3
    cosine = dict(readings.reading_verdicts(smoke, "resnet34_lr_cosine"))
    assert cosine["Table 2, 20 (ours 4) ep"] is None  # not run: depends on the run length
    assert readings.NOT_RUN in table.set_index("Arm").loc[code("resnet34_lr_cosine")].iloc[-1]
    step = dict(readings.reading_verdicts(smoke, "resnet34_lr_step"))
    assert step["Table 2, 10 (ours 2) ep"].verdict == stats.NOT_APPLICABLE
    ambiguities = readings.ambiguities_table(smoke)
    assert len(ambiguities) == 14
    narrow = ambiguities.set_index("Ambiguity").filter(like="narrower body", axis=0)
    assert "keep Fig. 3" in narrow["Our choice"].iloc[0]  # the stem the runs built (issue 12)
    normalisation = ambiguities.set_index("Ambiguity").loc["Normalisation", "Our choice"]
    assert "in the records" in normalisation  # the fixture's constants
