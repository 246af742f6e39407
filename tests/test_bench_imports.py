"""The benchmarks are not run by the suite (they print figures and take minutes), but
they must keep importing: a renamed function breaks `make bench` silently otherwise."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(m.name for m in pkgutil.iter_modules(bench.__path__) if m.name != "__main__")


@pytest.mark.parametrize("name", MODULES)
def test_each_benchmark_module_imports(name: str) -> None:
    importlib.import_module(f"bench.{name}")


def test_the_bench_command_parses_its_options() -> None:
    main = importlib.import_module("bench.__main__")
    assert hasattr(main, "main")
