"""lib.training.provenance: a record says where and with what it ran."""

from __future__ import annotations

import os
import platform

import torch
import torchvision

from lib.core.repo import git_output
from lib.training import provenance as provenance_module
from lib.training.provenance import cpu_flags, provenance


def test_provenance():
    prov = provenance(torch.device("cpu"))
    head = git_output("rev-parse", "HEAD")
    assert prov["git_commit"] == (head or "unknown")
    assert isinstance(prov["git_dirty"], bool)
    assert prov["torch"] == torch.__version__ and prov["torchvision"] == torchvision.__version__
    assert prov["python"] == platform.python_version()
    assert prov["host"] == platform.node()
    assert prov["device"] == "cpu" and prov["device_name"].endswith(f"({os.cpu_count()} cores)")
    assert prov["torch_threads"] == torch.get_num_threads()


def test_records_name_the_cpu_features_that_decide_precision_and_speed(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("model name\t: Some CPU\nflags\t\t: fpu avx2 avx512f amx_tile amx_bf16\n")
    real_path = provenance_module.Path
    monkeypatch.setattr(
        provenance_module,
        "Path",
        lambda p: real_path(cpuinfo) if p == "/proc/cpuinfo" else real_path(p),
    )
    assert cpu_flags() == ["avx512f", "amx_tile", "amx_bf16"]
    assert provenance(torch.device("cpu"))["cpu_flags"] == cpu_flags()
