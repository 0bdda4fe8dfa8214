"""docs/validation.md quotes only published figures that a test asserts.

Every number in a "Published" column of the page must be a value some test checks: a number
inside an ``assert`` statement, in a ``pytest.mark.parametrize`` table of a test, or in the
value of a name an ``assert`` reads (``LLAMA2_7B_PARAMS = 6_738_415_616`` ... ``assert x ==
LLAMA2_7B_PARAMS``). Constant arithmetic counts by its value (``2 * 32 * 32 * 128 * 2`` pins
524,288). A digit string in a comment, a docstring or an unasserted helper pins nothing.
"""

from __future__ import annotations

import ast
import operator
import re
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
# The page quotes figures in units (780 GB, 4.7 M, 1,024 MiB): a test may assert them in base units.
UNITS = [Fraction(1000) ** k for k in range(5)] + [Fraction(1024) ** k for k in range(1, 5)]
_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Div: operator.truediv, ast.Pow: operator.pow, ast.LShift: operator.lshift,
        ast.FloorDiv: operator.floordiv}


def published_figures() -> list[str]:
    """Numbers (separators removed) in the Published column of every table of the page."""
    found, column = [], None
    for line in (ROOT / "docs" / "validation.md").read_text().splitlines():
        if not line.startswith("|"):
            column = None
            continue
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if column is None:
            column = cells.index("Published") if "Published" in cells else -1
        elif column >= 0 and not set(cells[column]) <= set("-: "):
            found += [n.replace(",", "") for n in NUMBER.findall(cells[column])]
    return found


def _value(node: ast.AST) -> Fraction | None:
    """The exact value of a numeric literal or of constant arithmetic, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) \
            and not isinstance(node.value, bool):
        return Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _value(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _value(node.left), _value(node.right)
        if left is None or right is None:
            return None
        try:
            if isinstance(node.op, (ast.Pow, ast.LShift)) and (right.denominator != 1 or right > 4096):
                return None
            if isinstance(node.op, ast.LShift):
                return Fraction(int(left) << int(right))
            return Fraction(_OPS[type(node.op)](left, right))
        except (ZeroDivisionError, OverflowError, ValueError):
            return None
    return None


def _values(node: ast.AST) -> set[Fraction]:
    """Every numeric literal and constant expression inside ``node``."""
    return {v for child in ast.walk(node) if (v := _value(child)) is not None}


def _is_parametrize(decorator: ast.AST) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(target, ast.Attribute) and target.attr == "parametrize"


def asserted_values(tree: ast.Module) -> set[Fraction]:
    """The values a module's tests check (see the module docstring)."""
    found: set[Fraction] = set()
    read: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assert):
            found |= _values(node)
            read |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        elif isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            for decorator in node.decorator_list:
                if _is_parametrize(decorator):
                    found |= _values(decorator)
    for _ in range(3):  # names read by asserts, and the names their values read in turn
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
                if names & read and node.value is not None:
                    found |= _values(node.value)
                    read |= {n.id for n in ast.walk(node.value) if isinstance(n, ast.Name)}
    return found


def sources() -> list[Path]:
    return [p for p in sorted((ROOT / "tests").rglob("test_*.py")) if p.name != Path(__file__).name]


def test_every_published_figure_on_the_validation_page_is_asserted_by_a_test():
    figures = published_figures()
    assert len(figures) > 40
    values: set[Fraction] = set()
    for path in sources():
        values |= asserted_values(ast.parse(path.read_text()))
    floats = {float(v) for v in values if abs(v) < 1e300}  # 46.7 in a test: the float nearest 46.7
    missing = [n for n in figures if not any(float(Fraction(n) * unit) in floats for unit in UNITS)]
    assert not missing, f"not asserted by any test: {missing}"


def test_a_figure_only_in_a_comment_or_docstring_is_not_pinned():
    tree = ast.parse('"""Published: 123456."""\n# 654321\nLIMIT = 777\n'
                     'def helper():\n    return 888\n'
                     'def test_x():\n    """999"""\n    assert f() == 2 * 512\n')
    values = asserted_values(tree)
    assert Fraction(1024) in values
    assert not {Fraction(n) for n in (123456, 654321, 777, 888, 999)} & values
