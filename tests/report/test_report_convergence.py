"""lib.report.convergence: Figs 4-6 measured on the per-iteration losses."""

from __future__ import annotations

import numpy as np
import pytest

from lib.analysis import curves, stats
from lib.analysis.stats import Rule
from lib.report import claims, convergence
from lib.report.results import Results


def test_loss_runs_cut_at_the_horizon(smoke):
    per_epoch = convergence.iterations_per_epoch(smoke)
    assert per_epoch == 16  # 2,000 images / batch 128, rounded up
    runs = convergence.loss_runs(smoke, "resnet34", 2)
    assert sorted(runs) == [0, 1] and all(len(r) == 2 * per_epoch for r in runs.values())
    assert convergence.loss_runs(smoke, "resnet34_selu", 4) == {}  # ran 2 epochs only


def test_one_measure_per_claim_judged_as_a_direction(smoke):
    conv = convergence.convergence(smoke, "resnet34_lr", "resnet34", 4)
    assert list(conv["table"]["Measured as"]) == [claims.REACH, claims.LOG_SD]
    assert conv["window"] == convergence.smoothing_window(16) == 3
    runs = {a: convergence.loss_runs(smoke, a, 4) for a in ("resnet34_lr", "resnet34")}
    every_run = [*runs["resnet34_lr"].values(), *runs["resnet34"].values()]
    assert conv["threshold"] == curves.common_threshold(every_run, 3)
    fluctuation = conv["judged"][claims.LOG_SD]
    a = [curves.last_epoch_log_sd(r, 16) for r in runs["resnet34_lr"].values()]
    b = [curves.last_epoch_log_sd(r, 16) for r in runs["resnet34"].values()]
    assert fluctuation.comparison.diff == pytest.approx(np.mean(a) - np.mean(b))
    assert fluctuation.verdict == stats.interval_verdict(fluctuation.comparison, direction=-1)
    name, raw = conv["second"][claims.LOG_SD]  # the raw sd beside the log sd
    assert name == claims.RAW_SD
    raw_a = [curves.last_epoch_sd(r, 16) for r in runs["resnet34_lr"].values()]
    raw_b = [curves.last_epoch_sd(r, 16) for r in runs["resnet34"].values()]
    assert raw == stats.assess(raw_a, raw_b, Rule(direction=-1))
    cell = conv["table"].set_index("Measured as")["Sensitivity"][claims.LOG_SD]
    assert (claims.RAW_SD in cell) == (raw.verdict != fluctuation.verdict)
    selu = convergence.convergence(smoke, "resnet34_selu", "resnet34", 2)
    assert list(selu["judged"]) == [claims.REACH]  # SELU's claim is "faster" only
    assert selu["second"] == {}


def test_convergence_claims_table(smoke):
    table = convergence.convergence_claims([smoke])
    assert list(table["Claim"]) == [c.claim for c in claims.CONVERGENCE_CLAIMS]
    assert "4 epochs" in table["Measured as"][0] and "2 epochs" in table["Measured as"][2]
    assert all("(smoke proxy)" in v for v in table["Verdict (exploratory)"])
    assert set(table["Protocol"]) == {"smoke profile (proxy)"}


def test_convergence_claims_one_row_per_protocol_with_records(smoke):
    paper = Results("paper", smoke.folder, smoke.frame.iloc[:0])  # no paper runs yet
    alone = convergence.convergence_claims([paper, smoke])
    assert alone.equals(convergence.convergence_claims([smoke]))  # no empty paper rows
    empty = convergence.convergence_claims([paper])
    assert set(empty["Verdict (exploratory)"].map(lambda v: "no data" in v)) == {True}
    twice = convergence.convergence_claims([smoke, smoke])
    assert list(twice["Claim"]) == [c.claim for c in claims.CONVERGENCE_CLAIMS for _ in (1, 2)]
    difference = twice[convergence.DIFFERENCE]
    assert list(difference[::2]) == list(difference[1::2])
