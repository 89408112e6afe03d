"""lib.report's structure: layered without cycles, torch, drawing and I/O each in one module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[2] / "lib"
# Each module imports only report modules listed before it (so no cycle can form).
ORDER = [
    "claims",
    "results",
    "site",
    "formatting",
    "glue",
    "context",
    "architecture",
    "verdicts",
    "tables",
    "convergence",
    "provenance",
    "readings",
    "gap",
    "gap_prose",
    "summary",
    "protocols",
    "verdict_prose",
    "answer",
    "prose",
    "notes",
    "figures",
    "chapters",
]
ONLY_IN = {"torch": "architecture", "torchvision": "architecture", "matplotlib": "figures"}
ONLY_IN |= {"seaborn": "figures", "os": "results", "json": "results"}
# site: the only one that asks git and writes files (the downloads), reading nothing itself
ONLY_IN |= {"subprocess": "site", "zipfile": "site"}
READS = {"environ", "getenv", "open", "read_text", "read_bytes", "glob", "iterdir", "read_record"}


def imports(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module)
            if node.module == "lib.report":
                found |= {f"lib.report.{alias.name}" for alias in node.names}
    return found


def test_every_module_is_placed():
    modules = {p.stem for p in (LIB / "report").glob("*.py")} - {"__init__"}
    assert modules == set(ORDER)


@pytest.mark.parametrize("name", ORDER)
def test_layers_torch_drawing_and_io(name):
    path = LIB / "report" / f"{name}.py"
    tree = ast.parse(path.read_text())
    found = imports(tree)
    below = {f"lib.report.{m}" for m in ORDER[: ORDER.index(name)]}
    report = {m for m in found if m.startswith("lib.report.")}
    assert report <= below, f"{name} imports {sorted(report - below)} from above it"
    for package, home in ONLY_IN.items():
        if name != home:
            assert not {m for m in found if m.split(".")[0] == package}, f"{name}: {package}"
    if name != "results":
        used = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        used |= {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        assert not used & READS, f"{name} reads {sorted(used & READS)}"
    assert len(path.read_text().splitlines()) <= 300, f"{name} is over 300 lines"


def test_stats_is_pure_numbers():
    found = imports(ast.parse((LIB / "analysis" / "stats.py").read_text()))
    assert not found & {"os", "pathlib", "json", "lib.core.records", "lib.core.arms"}
