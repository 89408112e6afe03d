"""Training throughput, side by side: lib's trainer against a naive reference loop.

``python -m lib bench`` (``make bench``) measures training images/s (forward, backward and
Adam step at batch 128 on the paper's full-width model) of

* ``lib``: the campaign's own engine and step (``lib.training.train.SingleEngine``: bf16
  autocast where supported, channels_last with it and on CPUs, device-resident uint8 data
  normalised on the fly);
* ``naive``: the textbook loop (``lib.training.naive``): ``torchvision.datasets.FashionMNIST``
  with per-sample ``ToTensor`` + ``Normalize``, ``DataLoader(batch_size=128, shuffle=True)``,
  fp32, eager, contiguous tensors, one model;
* ``fused`` (optional, ``--fused-seeds N``): ``lib.training.fused`` training N seeds at once
  (images/s counted over all N models).

Engines alternate within every repetition (ABBA order, so slow drifts in machine load
cancel); the JSON under ``results/bench/`` holds every repetition, the medians and the
lib/naive ratio per repetition. On CUDA it also holds a measured bf16 matmul peak and the
MFU of lib's trainer against it; on the CPU ``gpu`` is null. Numbers are measurements of
this machine under its load at that time, nothing else.
"""

from __future__ import annotations

import datetime
import itertools
import json
import os
import statistics
import sys
import time
from pathlib import Path

import torch

from lib.core.arms import run_config
from lib.core.config import RunConfig
from lib.core.repo import RESULTS_DIR
from lib.model import data as data_module
from lib.training.fused import FusedEngine
from lib.training.naive import TORCHVISION_ROOT, NaiveEngine, torchvision_files
from lib.training.provenance import provenance
from lib.training.train import SingleEngine, resolve_device

ARMS = ("resnet34", "resnet34_inception")  # 7x7 stem (0.42 GFLOP/image), full resolution (5.6)
BATCH_SIZE = 128
BENCH_DIR = RESULTS_DIR / "bench"


class Timed:
    """One of lib's training engines (``lib.training.train.SingleEngine`` or
    ``lib.training.fused.FusedEngine``, built exactly as the campaign builds them), stepping through
    its epochs' batches."""

    def __init__(self, name: str, engine):
        self.name, self.engine = name, engine
        self.seeds_at_once = len(engine.configs)
        self.precision = engine.setup.precision
        self.channels_last = engine.setup.memory_format == torch.channels_last
        compiled = getattr(engine, "compiled", None)
        self.compiled = bool(compiled and compiled.enabled)
        self.batches = (b for epoch in itertools.count() for b in engine.batches(epoch))

    def step(self) -> int:
        index = next(self.batches).to(self.engine.setup.device)
        self.engine.step(index)
        return index.numel()


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(engine, warmup: int, steps: int, device: torch.device) -> float:
    """Training images/s over ``steps`` steps, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        engine.step()
    _synchronize(device)
    started = time.perf_counter()
    images = sum(engine.step() for _ in range(steps))
    _synchronize(device)
    return images / (time.perf_counter() - started)


def matmul_peak_tflops(device: torch.device, sizes=(8192, 16384), repeats: int = 5) -> float:
    """The best bf16 TFLOP/s of large square matmuls on ``device`` (a measured peak)."""
    best = 0.0
    for size in sizes:
        a = torch.randn(size, size, device=device, dtype=torch.bfloat16)
        b = torch.randn(size, size, device=device, dtype=torch.bfloat16)
        iterations = max(1, int(2e14 // (2 * size**3)))  # about 0.2 PFLOP per timing
        for _ in range(2):
            a @ b
        _synchronize(device)
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(iterations):
                a @ b
            _synchronize(device)
            best = max(best, 2 * size**3 * iterations / (time.perf_counter() - started) / 1e12)
        del a, b
    return best


def _machine(device: torch.device) -> dict:
    facts = provenance(device)
    return {
        "device": device.type,
        "device_name": facts["device_name"],
        "cpu_flags": facts["cpu_flags"],
        "cpu_count": os.cpu_count() or 0,
        "torch": facts["torch"],
        "torchvision": facts["torchvision"],
        "python": facts["python"],
        "host": facts["host"],
    }, facts


def measure_arm(config: RunConfig, data, root: Path, repetitions, steps, warmup, fused_seeds, log):
    """Each engine's images/s per repetition on ``config``'s model, engines alternating in
    ABBA order; one row per engine (its setup, every rate and their median)."""
    device = torch.device(config.device)
    engines = [Timed("lib", SingleEngine(config, data)), NaiveEngine(config, data, device, root)]
    if fused_seeds:
        seeds = [config.replace(seed=s) for s in range(fused_seeds)]
        engines.append(Timed("fused", FusedEngine(seeds, data)))
    measured = {engine.name: [] for engine in engines}
    for repetition in range(repetitions):
        for engine in engines if repetition % 2 == 0 else engines[::-1]:
            rate = measure(engine, warmup, steps, device)
            measured[engine.name].append(rate)
            name = f"{config.arm} repetition {repetition + 1}/{repetitions} {engine.name}"
            log(f"{name}: {rate:.1f} images/s")
    return [
        {
            "engine": engine.name,
            "precision": engine.precision,
            "channels_last": engine.channels_last,
            "compiled": engine.compiled,
            "seeds_at_once": engine.seeds_at_once,
            "images_per_s": measured[engine.name],
            "median_images_per_s": statistics.median(measured[engine.name]),
        }
        for engine in engines
    ]


def run_bench(
    arms=ARMS,
    repetitions: int = 5,
    steps: int = 6,
    warmup: int = 2,
    device: str = "auto",
    out: Path | None = None,
    fused_seeds: int = 0,
    profile: str = "paper",
    overrides: dict | None = None,
    root: Path = TORCHVISION_ROOT,
    log=print,
) -> tuple[dict, Path]:
    """Measure, write the JSON and return (result, its path).

    ``out``: a ``.json`` file, or a folder (default ``results/bench``) that gets
    ``<device>-<YYYYMMDD-HHMMSS>.json``. ``profile`` and ``overrides`` (e.g. a small
    width) exist for tests; the benchmark itself is the paper's full-width model.
    """
    if repetitions < 1 or steps < 1 or warmup < 0:
        raise ValueError("need repetitions >= 1, steps >= 1 and warmup >= 0")
    torch_device = resolve_device(device)
    root = torchvision_files(root)
    data = data_module.load().to(torch_device)
    machine, facts = _machine(torch_device)
    created = datetime.datetime.now(datetime.UTC)

    results, ratios, lib_medians, flops = [], [], {}, {}
    for arm in arms:
        config = run_config(
            arm, profile, 0, device=str(torch_device), batch_size=BATCH_SIZE, **(overrides or {})
        )
        measured = measure_arm(config, data, root, repetitions, steps, warmup, fused_seeds, log)
        results += [{"arm": arm, **row} for row in measured]
        rates = {row["engine"]: row["images_per_s"] for row in measured}
        per_repetition = [
            lib / naive for lib, naive in zip(rates["lib"], rates["naive"], strict=True)
        ]
        ratios.append(
            {
                "arm": arm,
                "numerator": "lib",
                "denominator": "naive",
                "per_repetition": per_repetition,
                "median": statistics.median(per_repetition),
            }
        )
        lib_medians[arm] = statistics.median(rates["lib"])
        if torch_device.type == "cuda":
            from lib.model.resnet import training_flops_per_image

            flops[arm] = training_flops_per_image(config)
            torch.cuda.empty_cache()

    gpu = None
    if torch_device.type == "cuda":
        peak = matmul_peak_tflops(torch_device)
        gpu = {
            "bf16_matmul_peak_tflops": peak,
            "mfu": {arm: lib_medians[arm] * flops[arm] / (peak * 1e12) for arm in arms},
        }
    result = {
        "schema": 1,
        "created_at": created.isoformat(timespec="seconds"),
        "git_commit": facts["git_commit"],
        "git_dirty": facts["git_dirty"],
        "machine": machine,
        "protocol": {
            "batch_size": BATCH_SIZE,
            "repetitions": repetitions,
            "steps_per_measurement": steps,
            "warmup_steps": warmup,
        },
        "results": results,
        "ratios": ratios,
        "gpu": gpu,
    }
    path = Path(out) if out is not None else BENCH_DIR
    if path.suffix != ".json":
        path = path / f"{torch_device.type}-{created.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return result, path


def summary(result: dict) -> str:
    lines = []
    for row in result["results"]:
        lines.append(
            f"{row['arm']:<20} {row['engine']:<6} {row['precision']:<5} x{row['seeds_at_once']:<3}"
            f" median {row['median_images_per_s']:9.1f} images/s"
        )
    for ratio in result["ratios"]:
        per = ", ".join(f"{r:.2f}" for r in ratio["per_repetition"])
        lines.append(f"{ratio['arm']:<20} lib/naive median {ratio['median']:.2f}x ({per})")
    if result["gpu"]:
        lines.append(f"bf16 matmul peak {result['gpu']['bf16_matmul_peak_tflops']:.0f} TFLOP/s")
        lines += [f"MFU {arm}: {mfu:.1%}" for arm, mfu in result["gpu"]["mfu"].items()]
    return "\n".join(lines)


def log_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
