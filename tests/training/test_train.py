"""lib.training.train: schedules, data order, reproducibility, a real short run and its record."""

from __future__ import annotations

import json
import math
import subprocess
from pathlib import Path

import pytest
import torch

from lib.core.arms import run_config
from lib.core.config import RunConfig
from lib.core.dataset import FILES
from lib.training import train as train_module
from lib.training.train import (
    effective_precision,
    epoch_order,
    lr_factor,
    resolve_device,
    train,
    training_batches,
)

pytestmark = pytest.mark.usefixtures("one_thread")

REPO = Path(__file__).resolve().parents[2]
EPOCH_KEYS = {"epoch", "lr", "train_loss", "test_loss", "test_accuracy", "elapsed_s"}


# --- learning-rate schedules ---------------------------------------------------------------


@pytest.mark.parametrize("schedule", ["constant", "exponential", "step"])
def test_lr_factor_does_not_depend_on_the_run_length(schedule):
    short, long = RunConfig(schedule=schedule, epochs=10), RunConfig(schedule=schedule, epochs=20)
    assert [lr_factor(short, e) for e in range(10)] == [lr_factor(long, e) for e in range(10)]


def test_lr_factor_values():
    exponential, step = RunConfig(schedule="exponential"), RunConfig(schedule="step")
    assert [lr_factor(exponential, e) for e in (0, 1, 9)] == pytest.approx([1.0, 0.8, 0.8**9])
    assert [lr_factor(step, e) for e in range(11)] == pytest.approx([1.0] * 5 + [0.1] * 5 + [0.01])
    assert lr_factor(RunConfig(), 7) == 1.0


def test_cosine_depends_on_the_run_length():
    short, long = RunConfig(schedule="cosine", epochs=10), RunConfig(schedule="cosine", epochs=20)
    assert lr_factor(short, 0) == lr_factor(long, 0) == 1.0
    assert lr_factor(short, 5) == pytest.approx(0.5)
    assert lr_factor(long, 5) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert lr_factor(short, 5) != lr_factor(long, 5)
    factors = [lr_factor(short, e) for e in range(10)]
    assert factors == sorted(factors, reverse=True) and factors[-1] > 0


# --- data order ------------------------------------------------------------------------------


def test_epoch_order_is_a_permutation_fixed_by_seed_and_epoch():
    config = RunConfig(train_subset=500)
    order = epoch_order(config, 0)
    assert sorted(order.tolist()) == list(range(500))
    assert torch.equal(order, epoch_order(config.replace(arm="improved", epochs=3, lr=1.0), 0))
    assert not torch.equal(order, epoch_order(config, 1))
    assert not torch.equal(order, epoch_order(config.replace(seed=1), 0))


@pytest.mark.parametrize("subset, sizes", [(257, [128, 128]), (258, [128, 128, 2])])
def test_a_last_batch_of_one_image_is_dropped(subset, sizes):
    batches = training_batches(RunConfig(train_subset=subset), 0)
    assert [len(b) for b in batches] == sizes


# --- devices ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["cuda", "cuda:0"])
def test_cuda_without_cuda_is_an_error(name, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device(name)


def test_cuda_is_unavailable_on_this_cpu_machine():
    if torch.cuda.is_available():  # a GPU machine: the test above covers the logic
        assert resolve_device("cuda").type == "cuda"
    else:
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.mark.parametrize("name", ["mps", "nonsense"])
def test_unsupported_devices_are_errors(name):
    with pytest.raises(ValueError, match=name):
        resolve_device(name)


def test_auto_and_cpu(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")


def test_fp32_is_always_fp32():
    assert effective_precision("fp32", torch.device("cpu")) == "fp32"
    assert effective_precision("bf16", torch.device("cpu")) in ("bf16", "fp32")


# --- training ----------------------------------------------------------------------------------


def tiny(seed: int) -> RunConfig:
    return run_config(
        "resnet34", "smoke", seed, epochs=1, train_subset=512, precision="fp32", device="cpu"
    )


def test_same_seed_gives_identical_numbers_and_another_seed_differs(fmnist_small_test):
    first = train(tiny(0), fmnist_small_test, progress=False)
    again = train(tiny(0), fmnist_small_test, progress=False)
    other = train(tiny(1), fmnist_small_test, progress=False)
    assert first["status"] == again["status"] == other["status"] == "complete"
    assert first["precision"] == "fp32"
    assert len(first["iteration_losses"]) == 4
    assert first["iteration_losses"] == again["iteration_losses"]
    assert [e["test_accuracy"] for e in first["epochs"]] == [
        e["test_accuracy"] for e in again["epochs"]
    ]
    assert [e["test_loss"] for e in first["epochs"]] == [e["test_loss"] for e in again["epochs"]]
    assert first["iteration_losses"] != other["iteration_losses"]
    assert first["epochs"][0]["test_loss"] != other["epochs"][0]["test_loss"]


def test_infinite_learning_rate_fails_as_non_finite(fmnist_small_test):
    config = tiny(0).replace(lr=float("inf"), train_subset=256)
    record = train(config, fmnist_small_test, progress=False)
    assert record["status"] == "failed"
    assert "non-finite" in record["reason"]
    assert record["epochs"] == [] and record["final_test_accuracy"] is None
    assert not all(math.isfinite(x) for x in record["iteration_losses"])


@pytest.fixture(scope="module")
def short_run(fmnist_small_test):
    """A real run: width 1/8, the first 2,000 images, 2 epochs (test accuracy on 2,000)."""
    config = run_config("resnet34", "smoke", 0, epochs=2, precision="fp32")
    seen = []
    record = train(config, fmnist_small_test, progress=False, on_epoch=seen.append)
    return config, record, seen


def test_short_run_learns(short_run):
    config, record, _ = short_run
    assert (config.width, config.train_subset, config.epochs) == (0.125, 2_000, 2)
    assert record["status"] == "complete", record["reason"]
    losses = record["iteration_losses"]
    assert len(losses) == 2 * math.ceil(2_000 / 128)
    assert all(math.isfinite(x) for x in losses)
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 0.3
    assert losses[0] > 1.8  # about ln 10 = 2.30 at initialisation
    first, second = record["epochs"]
    assert second["train_loss"] < first["train_loss"]
    assert record["final_test_accuracy"] > 40.0


def test_record_contents(short_run, fmnist_small_test):
    config, record, seen = short_run
    assert record["config"] == config.to_dict() and record["result_key"] == config.result_key()
    assert (record["arm"], record["seed"], record["profile"]) == ("resnet34", 0, "smoke")
    assert record["engine"] == "single" and record["precision"] == "fp32"

    epochs = record["epochs"]
    assert [e["epoch"] for e in epochs] == [1, 2] and all(set(e) == EPOCH_KEYS for e in epochs)
    assert epochs == seen  # on_epoch got every epoch's metrics
    assert epochs[0]["lr"] == epochs[1]["lr"] == config.lr  # constant schedule
    assert epochs[0]["elapsed_s"] < epochs[1]["elapsed_s"] <= record["wall_time_s"]
    accuracies = [e["test_accuracy"] for e in epochs]
    assert record["final_test_accuracy"] == accuracies[-1]
    assert record["best_test_accuracy"] == max(accuracies)
    assert epochs[record["best_epoch"] - 1]["test_accuracy"] == max(accuracies)
    assert record["wall_time_s"] > 0 and record["images_per_s"] > 0

    prov = record["provenance"]
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    assert prov["git_commit"] == (commit or "unknown")
    assert prov["torch"] == torch.__version__ and prov["torchvision"] and prov["python"]
    assert prov["device"] == str(resolve_device(config.device))
    assert prov["device_name"] and prov["host"]

    assert record["dataset_sha256"] == {name: sha for name, (sha, _) in FILES.items()}
    assert record["dataset_source"] == fmnist_small_test.source
    assert record["normalisation"] == {"mean": fmnist_small_test.mean, "std": fmnist_small_test.std}
    json.dumps(record, allow_nan=False)  # plain JSON all the way down


def test_decaying_schedule_is_applied_per_epoch(monkeypatch, fmnist_small_test):
    config = tiny(0).replace(epochs=2, schedule="exponential", train_subset=256)
    record = train(config, fmnist_small_test, progress=False)
    assert [e["lr"] for e in record["epochs"]] == pytest.approx([1e-3, 0.8e-3])


def test_train_loads_the_data_itself_when_not_given(monkeypatch, fmnist_small_test):
    calls = []

    def load():
        calls.append(1)
        return fmnist_small_test

    monkeypatch.setattr(train_module.data_module, "load", load)
    record = train(tiny(0).replace(train_subset=256), progress=False)
    assert calls == [1] and record["status"] == "complete"
