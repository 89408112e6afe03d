"""How long the campaign's runs take on this machine: one-thread seconds per epoch of each
arm, from its complete records and the idle bench (``results/bench``) in the precision this
machine trains in (a CPU without bf16 trains in fp32, about 3.5x slower), and what that
means for a run with its checkpointed epochs and a number of threads.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from lib.core import records
from lib.core.config import RunConfig
from lib.runs.rundirs import existing_state, run_dir
from lib.runs.runner import training_cost
from lib.training import checkpoint
from lib.training.budget import EPOCH_MARGIN
from lib.training.provenance import provenance
from lib.training.train import effective_precision, resolve_device

# Two runs of one thread each on a 2-core CPU (bf16, batch 128, full width) trained 972
# images/s for resnet34 and 71.1 for resnet34_inception, one run of two threads 876 and 69.1
# (each record holds its threads and epoch times); so two threads on one run do 0.90 of the
# work per core.
TWO_THREAD_EFFICIENCY = 0.90


def precision_here(config: RunConfig) -> str:
    """The precision ``config`` trains in on this machine."""
    return effective_precision(config.precision, resolve_device(config.device))


def epochs_checkpointed(config: RunConfig, results_dir: Path) -> float:
    """Epochs the run's checkpoint holds, a fraction inside one (0 if it has none the run
    could resume from: the run itself says why when it starts)."""
    path = checkpoint.path_for(run_dir(results_dir, config))
    saved = checkpoint.load(path, [config], precision_here(config), log=lambda line: None)
    return checkpoint.epochs_done(saved) if saved else 0


def core_seconds_per_epoch(configs: list[RunConfig], results_dir: Path) -> dict[str, float]:
    """One-thread seconds of an epoch of each arm at the best speed seen on this machine:
    the fastest epoch of the arm's complete records or the idle CPU bench under
    ``results/bench``, in the precision it trains in here, whichever is faster (other work
    on the cores only slows a run down, and a run that could finish must not be deferred
    for good); arms measured by neither are scaled from the measured ones by nominal FLOPs.
    Nothing measured in this precision: {} (runs count as not measured yet)."""
    by_arm = {c.arm: c for c in configs}
    measured = _bench_core_seconds(results_dir, by_arm)
    for config in configs:
        if existing_state(results_dir, config)[0] != "complete":
            continue
        record = records.read_record(
            records.record_path(results_dir, config.profile, config.arm, config.seed)
        )
        if record["precision"] != precision_here(config):
            continue
        elapsed = [0.0] + [e["elapsed_s"] for e in record["epochs"]]
        fastest = min(b - a for a, b in zip(elapsed, elapsed[1:], strict=False))
        seconds = one_thread_seconds(fastest, record["provenance"]["torch_threads"])
        measured[config.arm] = min(measured.get(config.arm, seconds), seconds)
    per_flop = [
        seconds * by_arm[arm].epochs / training_cost(by_arm[arm])
        for arm, seconds in measured.items()
        if arm in by_arm
    ]
    if not per_flop:
        return {}
    rate = float(pd.Series(per_flop).median())
    return {arm: measured.get(arm, rate * training_cost(c) / c.epochs) for arm, c in by_arm.items()}


def _bench_core_seconds(results_dir: Path, by_arm: dict[str, RunConfig]) -> dict[str, float]:
    """One-thread seconds per epoch of the arms in ``by_arm`` from the newest bench of this
    CPU model (``make bench``: lib's engine at the paper's width and batch, on an idle
    machine; a bench of another model, or of the same model without the same bf16 and AMX
    features, says nothing about this one), evaluation added."""
    here = provenance(resolve_device("cpu"))
    benches = [
        bench
        for path in sorted(Path(results_dir, "bench").glob("cpu-*.json"))
        if same_cpu(bench := json.loads(path.read_text()), here)
    ]
    if not benches:
        return {}
    bench = benches[-1]
    threads = bench["machine"]["cpu_count"]  # the bench runs on torch's default threads
    if threads != os.cpu_count():
        return {}
    return {
        row["arm"]: EPOCH_MARGIN
        * one_thread_seconds(by_arm[row["arm"]].train_subset / row["median_images_per_s"], threads)
        for row in bench["results"]
        if row["engine"] == "lib"
        and row["arm"] in by_arm
        and row["precision"] == precision_here(by_arm[row["arm"]])
    }


def same_cpu(bench: dict, here: dict) -> bool:
    """Whether a bench ran on this CPU model: its name and, where the bench records them,
    its speed flags (AVX-512 BF16, AMX) are this machine's."""
    machine = bench.get("machine", {})
    if machine.get("device_name") != here["device_name"]:
        return False
    return "cpu_flags" not in machine or machine["cpu_flags"] == here["cpu_flags"]


def one_thread_seconds(wall_seconds: float, threads: int) -> float:
    """One-thread seconds of work that took ``wall_seconds`` on ``threads`` threads."""
    return wall_seconds * threads * (TWO_THREAD_EFFICIENCY if threads > 1 else 1.0)


def seconds_with(core: float, threads: int) -> float:
    """Wall seconds of ``core`` one-thread seconds of work on ``threads`` threads."""
    return core / threads / (TWO_THREAD_EFFICIENCY if threads > 1 else 1.0)


def seconds_left(config: RunConfig, results_dir: Path, per_epoch: dict, threads: int):
    """Expected wall seconds until the run's record, or None before any measurement."""
    if config.arm not in per_epoch:
        return None
    epochs = config.epochs - epochs_checkpointed(config, results_dir)
    return seconds_with(per_epoch[config.arm] * epochs, threads)
