"""Runtime invariants raise errors, not asserts (which `python -O` strips)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALLOWED: set[str] = set()  # name a file:function here only with a reason


def _asserts() -> set[str]:
    found = set()
    for package in ("app", "connectors"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for function in ast.walk(tree):
                if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
                    isinstance(node, ast.Assert) for node in ast.walk(function)
                ):
                    found.add(f"{path.relative_to(ROOT).as_posix()}:{function.name}")
            if any(isinstance(node, ast.Assert) for node in tree.body):
                found.add(f"{path.relative_to(ROOT).as_posix()}:<module>")
    return found


def test_no_assert_guards_a_runtime_invariant() -> None:
    assert _asserts() - ALLOWED == set()
