"""lib's packages import only the floors below them, and the ground floor never imports torch."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib"
# package -> the packages it may import: a run flows core -> model -> training -> runs, the
# book's numbers core -> analysis -> report; the report also draws the models (model,
# training) and shows what the campaign has left (runs, imported only where a page asks)
BELOW = {
    "core": set(),
    "model": {"core"},
    "training": {"core", "model"},
    "runs": {"core", "model", "training"},
    "analysis": {"core"},
    "report": {"core", "model", "training", "runs", "analysis"},
}
TORCH_FREE = ("core", "analysis")


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            if node.module == "lib":  # from lib import package
                names |= {f"lib.{a.name}" for a in node.names}
    return names


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "lib" and len(parts) > 1 else None


@pytest.mark.parametrize("package", sorted(BELOW))
def test_a_package_imports_only_the_floors_below_it(package):
    wrong = {
        f"{path.relative_to(LIB)} imports {module}"
        for path in (LIB / package).glob("*.py")
        for module in imported(path)
        if package_of(module) not in (None, package, *BELOW[package])
    }
    assert not wrong


@pytest.mark.parametrize("package", TORCH_FREE)
def test_the_torch_free_floors_stay_free_of_torch(package):
    heavy = {
        f"{path.relative_to(LIB)} imports {module}"
        for path in (LIB / package).glob("*.py")
        for module in imported(path)
        if module.split(".")[0] in ("torch", "torchvision")
    }
    assert not heavy


def test_every_module_of_lib_lies_in_a_package_but_the_command_line():
    assert {p.name for p in LIB.glob("*.py")} == {"__init__.py", "__main__.py", "cli.py"}
