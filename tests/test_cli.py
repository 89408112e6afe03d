"""lib.__main__: the command line fails fast and clearly, and ``train`` writes a record."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from lib import __main__ as cli
from lib import data as data_module
from lib import execute, runner, train
from lib.ablations import ARMS
from lib.records import read_record

REPO = Path(__file__).resolve().parent.parent


def python_m_lib(*args: str, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lib", *args],
        cwd=REPO,
        env={**os.environ, "OMP_NUM_THREADS": "1", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def no_compute(monkeypatch):
    """Any data loading or training from here on fails the test."""

    def forbidden(*args, **kwargs):
        raise AssertionError("compute started before the arguments were checked")

    for module, name in (
        (data_module, "load"),
        (train, "train"),
        (execute, "run_one"),
        (execute, "run_notebook"),
        (runner, "run_batch"),
    ):
        monkeypatch.setattr(module, name, forbidden)


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m lib")
    assert all(command in out for command in ("train", "runs", "info"))


def test_train_help_lists_the_arms(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ARMS) and "--precision" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["--arm", "resnet50"], "invalid choice: 'resnet50'"),
        (["--arm", "resnet34", "--profile", "huge"], "invalid choice: 'huge'"),
        (["--arm", "resnet34", "--epochs", "0"], "must be a positive integer, got 0"),
        (["--arm", "resnet34", "--epochs", "-2"], "must be a positive integer, got -2"),
        (["--arm", "resnet34", "--precision", "fp16"], "invalid choice: 'fp16'"),
        (["--seed", "0"], "one of the arguments --arm/--ablation --config-file is required"),
    ],
)
def test_bad_train_arguments_exit_before_compute(args, message, no_compute, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["train", *args])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_unknown_arm_error_lists_the_known_arms(no_compute, capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--arm", "resnet50"])
    err = capsys.readouterr().err
    assert all(name in err for name in ARMS)


def test_unavailable_cuda_exits_before_compute(no_compute, monkeypatch, capsys):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    code = cli.main(["train", "--arm", "resnet34", "--device", "cuda"])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "CUDA is not available" in err


def test_runs_rejects_unknown_arms_and_devices(no_compute, monkeypatch, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["runs", "--arms", "resnet34,resnet50"])
    assert exit_.value.code == 2 and "unknown arm 'resnet50'" in capsys.readouterr().err
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert cli.main(["runs", "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


def test_cuda_error_from_the_shell(tmp_path):
    result = python_m_lib(
        "train",
        "--arm",
        "resnet34",
        "--device",
        "cuda",
        "--out",
        str(tmp_path),
        CUDA_VISIBLE_DEVICES="",
        timeout=120,
    )
    assert result.returncode == 2
    assert "CUDA is not available" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_train_writes_a_complete_record(tmp_path):
    """The smoke profile end to end, cut to one epoch in fp32 to keep the suite fast."""
    out = tmp_path / "run"
    result = python_m_lib(
        "train",
        "--arm",
        "resnet34",
        "--seed",
        "0",
        "--profile",
        "smoke",
        "--out",
        str(out),
        "--epochs",
        "1",
        "--precision",
        "fp32",
        "--quiet",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("complete:")
    record = read_record(out / "record.json")
    assert record["status"] == "complete" and record["executor"] == "direct"
    assert (record["arm"], record["seed"], record["profile"]) == ("resnet34", 0, "smoke")
    config = record["config"]
    assert (config["epochs"], config["width"], config["train_subset"]) == (1, 0.125, 2_000)
    assert config["precision"] == "fp32" and len(record["epochs"]) == 1
    assert 10.0 < record["final_test_accuracy"] <= 100.0
    assert [p.name for p in out.iterdir()] == ["record.json"]


def test_old_spellings_of_arm_are_aliases(no_compute, capsys):
    """--ablation / --ablations still work and mean --arm / --arms."""
    parsed = {}
    for argv in (["train", "--ablation", "resnet50"], ["train", "--arm", "resnet50"]):
        with pytest.raises(SystemExit):
            cli.main(argv)
        parsed[argv[1]] = capsys.readouterr().err.splitlines()[-1]
    assert parsed["--ablation"] == parsed["--arm"]
    for flag in ("--arms", "--ablations"):
        with pytest.raises(SystemExit):
            cli.main(["runs", flag, "resnet50"])
        assert "unknown arm 'resnet50'" in capsys.readouterr().err
