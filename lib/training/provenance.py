"""Where and with what a run trained: the code's commit, the library versions, the device
and the CPU features that decide its precision and speed. Stored in every record."""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import torch

from lib.core.repo import source_commit


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return f"{platform.processor() or platform.machine()} ({os.cpu_count()} cores)"


# CPU features that decide a run's precision and speed: AVX-512 BF16 (bf16 autocast runs
# natively, else fp32) and AMX (matrix tiles). The model name alone does not tell them apart.
SPEED_FLAGS = ("avx512f", "avx512_bf16", "amx_tile", "amx_bf16")


def cpu_flags() -> list[str]:
    """The ``SPEED_FLAGS`` this CPU has, from /proc/cpuinfo (empty where it cannot be read)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.split(":", 1)[1].split())
                return [flag for flag in SPEED_FLAGS if flag in present]
    except OSError:
        pass
    return []


def provenance(device: torch.device) -> dict:
    import torchvision

    commit, dirty = source_commit()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cuda": torch.version.cuda,
        "device": str(device),
        "device_name": device_name(device),
        "cpu_flags": cpu_flags(),
        "torch_threads": torch.get_num_threads(),
        "host": platform.node(),
        "platform": platform.platform(),
    }
