"""lib.runs.estimates: the expected length of an epoch and of a run on this machine."""

from __future__ import annotations

import json
import os

import pytest
import torch
from paper_records import other_precision, put_record

from lib.core import records
from lib.core.arms import run_config
from lib.runs import campaign, estimates
from lib.runs.rundirs import run_dir
from lib.training import checkpoint
from lib.training.budget import EPOCH_MARGIN
from lib.training.provenance import cpu_flags, device_name

THIS_CPU = {
    "cpu_count": os.cpu_count(),
    "device_name": device_name(torch.device("cpu")),
    "cpu_flags": cpu_flags(),
}


def test_expected_time_of_a_run_uses_its_checkpoint_and_threads(tmp_path):
    put_record(tmp_path, "resnet34_selu", 0)  # 360 core-seconds per epoch
    configs = campaign.campaign_plan()[:2]
    per_epoch = estimates.core_seconds_per_epoch(configs, tmp_path)
    selu_1 = run_config("resnet34_selu", "paper", 1)
    one_thread = estimates.seconds_left(selu_1, tmp_path, per_epoch, threads=1)
    assert one_thread == pytest.approx(3600)
    two = estimates.seconds_left(selu_1, tmp_path, per_epoch, threads=2)
    assert two == pytest.approx(3600 / 2 / estimates.TWO_THREAD_EFFICIENCY)
    checkpoint.save(
        checkpoint.path_for(run_dir(tmp_path, selu_1)),
        [selu_1],
        estimates.precision_here(selu_1),
        {"progress": {"epoch_seconds": [1.0] * 9}},
    )
    assert estimates.seconds_left(selu_1, tmp_path, per_epoch, 1) == pytest.approx(360)
    assert estimates.seconds_left(run_config("improved", "paper", 0), tmp_path, {}, 1) is None


def test_the_fastest_epoch_or_the_idle_bench_sets_the_expected_speed(tmp_path):
    path = put_record(tmp_path, "resnet34_selu", 0)
    record = json.loads(path.read_text())
    record["epochs"][3]["elapsed_s"] -= 200  # epoch 4 took 160 s, epoch 5 took 560 s
    records.write_record(record, path)
    configs = campaign.campaign_plan()[:5]
    assert estimates.core_seconds_per_epoch(configs, tmp_path)["resnet34_selu"] == 160
    here = estimates.precision_here(configs[0])
    bench = {
        "machine": THIS_CPU,
        "results": [
            {"arm": "resnet34", "engine": "lib", "precision": here, "median_images_per_s": 600.0},
            {"arm": "resnet34", "engine": "naive", "precision": here, "median_images_per_s": 1.0},
        ],
    }
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "cpu-20990101-000000.json").write_text(json.dumps(bench))
    per_epoch = estimates.core_seconds_per_epoch(configs, tmp_path)
    idle = estimates.one_thread_seconds(60_000 / 600.0, os.cpu_count()) * EPOCH_MARGIN
    assert per_epoch["resnet34"] == pytest.approx(idle)  # the bench, not FLOP scaling
    assert per_epoch["resnet34_selu"] == 160  # its own record was faster still
    assert per_epoch["improved"] > per_epoch["resnet34_inception"] > per_epoch["resnet34"]


def test_records_and_benches_of_another_precision_set_no_speed(tmp_path):
    """A CPU without bf16 trains in fp32, about 3x slower: bf16 speeds would start runs
    there that cannot finish within the chunk."""
    configs = campaign.campaign_plan()[:5]
    other = other_precision(configs[0].arm)
    put_record(tmp_path, "resnet34_selu", 0, precision=other)
    bench = {
        "machine": THIS_CPU,
        "results": [
            {"arm": "resnet34", "engine": "lib", "precision": other, "median_images_per_s": 600.0}
        ],
    }
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "cpu-20990101-000000.json").write_text(json.dumps(bench))
    assert estimates.core_seconds_per_epoch(configs, tmp_path) == {}
    put_record(tmp_path, "resnet34_selu", 0)  # the same record, in this machine's precision
    per_epoch = estimates.core_seconds_per_epoch(configs, tmp_path)
    assert per_epoch["resnet34_selu"] == 360 and per_epoch["resnet34"] > 0


def test_only_a_bench_of_this_cpu_model_sets_the_speed(tmp_path):
    """Machines differ from run to run: a newer bench of another CPU model (or of this model
    without its bf16/AMX features) must not stand for this one."""
    configs = campaign.campaign_plan()[:5]
    here = estimates.precision_here(configs[0])

    def bench(machine: dict, images_per_s: float) -> dict:
        row = {"arm": "resnet34", "engine": "lib", "precision": here}
        return {"machine": machine, "results": [{**row, "median_images_per_s": images_per_s}]}

    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "cpu-20990101-000000.json").write_text(json.dumps(bench(THIS_CPU, 600.0)))
    other_model = {**THIS_CPU, "device_name": "Another CPU (2 cores)"}
    (folder / "cpu-20990102-000000.json").write_text(json.dumps(bench(other_model, 60.0)))
    other_flags = {**THIS_CPU, "cpu_flags": [*THIS_CPU["cpu_flags"], "amx_tile"]}
    (folder / "cpu-20990103-000000.json").write_text(json.dumps(bench(other_flags, 6.0)))
    per_epoch = estimates.core_seconds_per_epoch(configs, tmp_path)
    idle = estimates.one_thread_seconds(60_000 / 600.0, os.cpu_count()) * EPOCH_MARGIN
    assert per_epoch["resnet34"] == pytest.approx(idle)
