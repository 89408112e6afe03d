"""lib.__main__: the command line fails fast and clearly, and ``train`` writes a record."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from lib import __main__ as cli
from lib.core.arms import ARMS
from lib.core.records import read_record
from lib.model import data as data_module
from lib.runs import execute, runner
from lib.training import train

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
        (["--seed", "0"], "one of the arguments --arm --config-file is required"),
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


def test_the_arm_options_have_one_spelling(no_compute, capsys):
    """--arm and --arms; the spelling --ablation is not an option."""
    for flag in ("--ablation", "--ablations"):
        with pytest.raises(SystemExit):
            cli.main(["runs", flag, "resnet34"])
        assert f"unrecognized arguments: {flag}" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["runs", "--arms", "resnet50"])
    assert "unknown arm 'resnet50'" in capsys.readouterr().err


# --- clear errors: one line, exit 2, before any compute ---------------------------------------


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture
def no_bench(monkeypatch):
    import lib.training.bench

    def forbidden(*args, **kwargs):
        raise AssertionError("the benchmark started before the device was checked")

    monkeypatch.setattr(lib.training.bench, "run_bench", forbidden)


BAD_DEVICES = {
    "tpu": "unknown device 'tpu'",
    "cuda:-1": "unknown device 'cuda:-1'",
    "": "unknown device ''",
    "mps": "is not supported",
    "cuda": "CUDA is not available",  # on a machine without CUDA (patched below)
    "cuda:2": "has 1 CUDA device(s) (cuda:0 to cuda:0)",  # on a machine with one GPU
}
COMMANDS = {
    "train": ["train", "--arm", "resnet34"],
    "runs": ["runs", "--arms", "resnet34", "--seeds", "0"],
    "bench": ["bench"],
}


@pytest.mark.parametrize("device", list(BAD_DEVICES))
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_device_is_one_line_on_every_command(
    command, device, no_compute, no_bench, monkeypatch, capsys
):
    gpus = 1 if device == "cuda:2" else 0
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpus > 0)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    assert cli.main([*COMMANDS[command], "--device", device]) == 2
    assert BAD_DEVICES[device] in one_line_error(capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "--engine", "fused", "--executor", "papermill"],
        ["runs", "--engine", "fused"],  # auto picks papermill where Jupyter is installed
        ["train", "--arm", "resnet34", "--engine", "fused", "--executor", "papermill"],
    ],
)
def test_the_fused_engine_without_the_direct_executor_is_one_line(
    argv, no_compute, monkeypatch, capsys
):
    monkeypatch.setattr(execute, "jupyter_available", lambda: True)
    assert cli.main(argv) == 2
    assert "--engine fused runs without notebooks: use --executor direct" in one_line_error(capsys)


@pytest.mark.parametrize(
    "address, message",
    [
        ("tcp://127.0.0.1:1", "cannot reach the Dask scheduler at tcp://127.0.0.1:1"),
        ("nonsense::", "is not a scheduler address like tcp://HOST:8786"),
    ],
)
def test_a_scheduler_that_cannot_be_used_is_one_line(address, message, no_compute, capsys):
    pytest.importorskip("distributed")
    assert cli.main(["runs", "--arms", "resnet34", "--scheduler", address]) == 2
    assert message in one_line_error(capsys)


def test_dask_connection_errors_are_one_line(monkeypatch, capsys):
    """What Dask's client raises when a scheduler stops answering (OSError, TimeoutError)."""

    def client_timed_out(*args, **kwargs):
        raise TimeoutError("Timed out trying to connect to tcp://10.0.0.1:8786 after 30 s")

    monkeypatch.setattr(runner, "run_batch", client_timed_out)
    monkeypatch.setattr(cli, "_check_scheduler", lambda address: None)
    assert cli.main(["runs", "--arms", "resnet34", "--scheduler", "tcp://10.0.0.1:8786"]) == 2
    assert "Timed out trying to connect" in one_line_error(capsys)


def test_unreachable_scheduler_from_the_shell(tmp_path):
    pytest.importorskip("distributed")
    args = ["runs", "--profile", "smoke", "--arms", "resnet34", "--seeds", "0"]
    result = python_m_lib(
        *args, "--scheduler", "tcp://127.0.0.1:1", "--results", str(tmp_path), timeout=120
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.startswith("error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_stopped_command_stops_the_processes_it_started():
    """A batch stopped with SIGTERM must not leave its run process, or that one's Jupyter
    kernel (started in a session of its own), training on without the run's lock."""
    import psutil

    script = (
        "import subprocess, time\n"
        "from lib.__main__ import install_stop_handlers\n"
        "install_stop_handlers()\n"
        "kernel = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
        "print(kernel.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    batch = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    kernel = psutil.Process(int(batch.stdout.readline()))
    batch.terminate()
    assert batch.wait(timeout=60) == 128 + signal.SIGTERM
    deadline = time.time() + 60
    while time.time() < deadline and kernel.is_running():
        if kernel.status() == psutil.STATUS_ZOMBIE:  # ended, not yet reaped by init
            break
        time.sleep(0.1)
    else:
        assert not kernel.is_running(), "the started process outlived the stopped command"
