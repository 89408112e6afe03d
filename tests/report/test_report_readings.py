"""lib.report.readings: the paper's ambiguities, our choice for each, and the paper's
comparisons under every other reading."""

from __future__ import annotations

import dataclasses

import pandas as pd

from lib.analysis import stats
from lib.report import claims, readings
from lib.report.formatting import code, epochs_label, mean_sd, num


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


def _with_step(smoke):
    """The fixture records with a step-schedule reading: a copy of resnet34_lr's runs."""
    lr = smoke.frame[smoke.frame["arm"] == "resnet34_lr"].assign(arm="resnet34_lr_step")
    return dataclasses.replace(smoke, frame=pd.concat([smoke.frame, lr], ignore_index=True))


def test_a_reading_without_runs_takes_the_proxys_numbers_and_says_so(smoke):
    proxy = _with_step(smoke)
    shown = dataclasses.replace(proxy, frame=proxy.frame[proxy.frame["arm"] != "resnet34_lr_step"])
    assert readings.proxy_readings(shown, proxy) == ["resnet34_lr_step"]
    assert readings.proxy_readings(shown, None) == readings.proxy_readings(proxy, proxy) == []
    alone = readings.readings_table(shown).set_index("Arm")
    table = readings.readings_table(shown, proxy).set_index("Arm")
    accuracy = f"Accuracy, {epochs_label(shown, claims.SHORT)} ep (%)"
    step = table.loc[code("resnet34_lr_step")]
    assert alone.loc[code("resnet34_lr_step"), accuracy] == "no runs"
    assert step[accuracy] == (
        f"{mean_sd(proxy.summary('resnet34_lr_step'))} (smoke proxy, after epoch "
        f"{proxy.horizon(claims.SHORT)})"
    )
    moves = proxy.compare("resnet34_lr_step", "resnet34_lr").diff
    assert step["Moves it by (vs our default)"].startswith(num(moves, sign=True))
    assert step["Moves it by (vs our default)"].endswith(" (smoke proxy)")
    comparisons = step.iloc[-1].split("<br>")
    assert len(comparisons) == 2 and all(" ep (smoke proxy): " in c for c in comparisons)
    # the other readings, our default ones among them, keep the shown records' numbers
    others = [code(r.arm) for r in claims.READINGS if r.arm != "resnet34_lr_step"]
    pd.testing.assert_frame_equal(table.loc[others], alone.loc[others])
    note = readings.proxy_rows_note(shown, proxy)
    assert note.startswith("`resnet34_lr_step` has no complete run in the records shown yet")
    assert "*smoke proxy* beside each number" in note
    assert readings.proxy_rows_note(shown, None) == ""
    assert readings.row_results(shown, proxy, "resnet34_lr_step") is proxy


def test_readings_the_paper_protocol_does_not_plan_say_why(smoke):
    proxy = _with_step(smoke)
    paper = dataclasses.replace(smoke, profile="paper")  # its records reach no paper epoch
    assert readings.proxy_readings(paper, proxy) == ["resnet34_lr_step"]
    note = readings.proxy_rows_note(paper, proxy)
    assert note.startswith(f"`resnet34_lr_step` is {readings.NOT_PLANNED}.")
    assert "our reduced `smoke` proxy (width" in note and "profile" not in note
