"""The folder arrows, read from the source: every import of every module, at any depth (ast).

cli -> render -> analysis -> specs; cli -> forward -> kernels -> specs (checkpoints and learn
use what is below them: checkpoints reads specs and analysis). rich only in render/, numpy only in kernels/, forward/ and
checkpoints/, typer only in cli/.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "llmarch_cli"
ROOT = "(root)"  # errors.py, _toml.py, __init__.py, __main__.py
BELOW: dict[str, set[str]] = {
    ROOT: set(),
    "specs": set(),
    "analysis": {"specs"},
    "render": {"analysis", "specs"},
    "kernels": {"specs"},
    "checkpoints": {"analysis", "specs"},  # inspect puts memory and KV figures beside a file
    "forward": {"kernels", "checkpoints", "specs"},
    "learn": {"render", "analysis", "forward", "kernels", "checkpoints", "specs"},
    "cli": {"render", "analysis", "forward", "kernels", "checkpoints", "learn", "specs"},
}
THIRD_PARTY_ONLY_IN = {"rich": {"render"}, "numpy": {"kernels", "forward", "checkpoints"},
                       "typer": {"cli"}}
MODULES = sorted(PACKAGE.rglob("*.py"))


def folder(path: Path) -> str:
    parts = path.relative_to(PACKAGE).parts
    if parts == ("__main__.py",):  # python -m llmarch_cli: the command line's entry point
        return "cli"
    return parts[0] if len(parts) > 1 else ROOT


def imported(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports, at module level or in a function."""
    names: set[str] = set()
    package = ".".join(("llmarch_cli", *path.relative_to(PACKAGE).parts[:-1]))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            else:
                names.add(node.module or "")
    return names


def target_folder(name: str) -> str:
    parts = name.split(".")
    if len(parts) == 1 or parts[1] in ("errors", "_toml", "__init__"):
        return ROOT
    return parts[1]


def test_every_folder_of_the_package_is_in_the_contract():
    folders = {folder(p) for p in MODULES}
    assert folders <= BELOW.keys(), folders - BELOW.keys()


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down_the_arrows_only(path: Path):
    here = folder(path)
    allowed = {here, ROOT, *BELOW[here]}
    wrong = sorted(n for n in imported(path)
                   if n.startswith("llmarch_cli") and target_folder(n) not in allowed)
    assert not wrong, f"{here}/ may import only {sorted(allowed)}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_rich_numpy_and_typer_stay_in_their_folders(path: Path):
    here = folder(path)
    wrong = sorted(n for n in imported(path) for lib, folders in THIRD_PARTY_ONLY_IN.items()
                   if n.split(".")[0] == lib and here not in folders)
    assert not wrong


def test_the_contract_sees_imports_inside_functions():
    # A function-level import (the start-up rule) must not hide an arrow going the wrong way.
    source = PACKAGE / "cli" / "commands" / "params.py"
    assert "llmarch_cli.analysis.params" in imported(source)
