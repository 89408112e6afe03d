"""``python -m lib bench``: a tiny run writes JSON in the documented schema (no timing asserts)."""

from __future__ import annotations

import json
import re
import statistics

import pytest

from lib.__main__ import main
from lib.model import data as data_module
from lib.training.bench import run_bench

TOP = {
    "schema",
    "created_at",
    "git_commit",
    "git_dirty",
    "machine",
    "protocol",
    "results",
    "ratios",
    "gpu",
}
MACHINE = {
    "device",
    "device_name",
    "cpu_flags",
    "cpu_count",
    "torch",
    "torchvision",
    "python",
    "host",
}
PROTOCOL = {"batch_size", "repetitions", "steps_per_measurement", "warmup_steps"}
RESULT = {
    "arm",
    "engine",
    "precision",
    "channels_last",
    "compiled",
    "seeds_at_once",
    "images_per_s",
    "median_images_per_s",
}
pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py

RATIO = {"arm", "numerator", "denominator", "per_repetition", "median"}


def check_schema(result: dict, repetitions: int) -> None:
    assert set(result) == TOP
    assert result["schema"] == 1
    assert isinstance(result["created_at"], str) and isinstance(result["git_commit"], str)
    assert isinstance(result["git_dirty"], bool)
    assert set(result["machine"]) == MACHINE
    assert result["machine"]["device"] in ("cpu", "cuda")
    assert isinstance(result["machine"]["cpu_count"], int)
    assert set(result["protocol"]) == PROTOCOL and result["protocol"]["batch_size"] == 128
    for row in result["results"]:
        assert set(row) == RESULT
        assert row["engine"] in ("lib", "naive", "fused")
        assert row["precision"] in ("bf16", "fp32")
        assert isinstance(row["channels_last"], bool) and isinstance(row["compiled"], bool)
        assert isinstance(row["seeds_at_once"], int) and row["seeds_at_once"] >= 1
        assert len(row["images_per_s"]) == repetitions
        assert all(isinstance(v, float) and v > 0 for v in row["images_per_s"])
        assert row["median_images_per_s"] == statistics.median(row["images_per_s"])
    for ratio in result["ratios"]:
        assert set(ratio) == RATIO
        assert (ratio["numerator"], ratio["denominator"]) == ("lib", "naive")
        assert len(ratio["per_repetition"]) == repetitions
    gpu = result["gpu"]
    if result["machine"]["device"] == "cpu":
        assert gpu is None
    else:
        assert set(gpu) == {"bf16_matmul_peak_tflops", "mfu"}


def test_tiny_bench_writes_the_schema(tmp_path, raw_root):
    arms = ("resnet34", "resnet34_inception")
    result, path = run_bench(
        arms=arms,
        repetitions=2,
        steps=1,
        warmup=0,
        device="cpu",
        out=tmp_path / "bench",
        fused_seeds=2,
        profile="smoke",
        overrides={"width": 0.0625},
        root=raw_root,
        log=lambda message: None,
    )
    assert re.fullmatch(r"cpu-\d{8}-\d{6}\.json", path.name)
    assert path.parent == tmp_path / "bench"
    assert json.loads(path.read_text()) == result
    check_schema(result, repetitions=2)

    rows = {(r["arm"], r["engine"]): r for r in result["results"]}
    assert set(rows) == {(arm, engine) for arm in arms for engine in ("lib", "naive", "fused")}
    for arm in arms:
        naive, fused = rows[arm, "naive"], rows[arm, "fused"]
        assert (naive["precision"], naive["channels_last"], naive["compiled"]) == (
            "fp32",
            False,
            False,
        )
        assert naive["seeds_at_once"] == rows[arm, "lib"]["seeds_at_once"] == 1
        assert fused["seeds_at_once"] == 2
        ratio = next(r for r in result["ratios"] if r["arm"] == arm)
        lib, naive_rates = rows[arm, "lib"]["images_per_s"], naive["images_per_s"]
        assert ratio["per_repetition"] == [a / b for a, b in zip(lib, naive_rates, strict=True)]
        assert ratio["median"] == statistics.median(ratio["per_repetition"])


@pytest.mark.usefixtures("fashion_mnist_dir")  # tests/conftest.py: skips without the dataset
def test_bench_out_may_name_the_file(tmp_path):
    target = tmp_path / "mine.json"
    result, path = run_bench(
        arms=("resnet34",),
        repetitions=1,
        steps=1,
        warmup=0,
        device="cpu",
        out=target,
        profile="smoke",
        overrides={"width": 0.0625},
        root=tmp_path / "torchvision",
        log=lambda message: None,
    )
    assert path == target and json.loads(target.read_text()) == result
    # torchvision's files were written from lib.model.data's verified bytes
    raw = tmp_path / "torchvision" / "FashionMNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(data_module.FILES)
    check_schema(result, repetitions=1)
    assert [r["engine"] for r in result["results"]] == ["lib", "naive"]  # fused is optional


def test_bench_cli_rejects_unknown_arms(monkeypatch, capsys):
    def no_bench(*args, **kwargs):  # were the check to let it through: no files in the repo
        raise AssertionError("the bench ran")

    monkeypatch.setattr("lib.training.bench.run_bench", no_bench)
    with pytest.raises(SystemExit) as exit_:
        main(["bench", "--arms", "resnet99"])
    assert exit_.value.code == 2 and "unknown arm 'resnet99'" in capsys.readouterr().err
