"""Every benchmark under bench/ still imports: a module moved by a refactor must not leave a bench
that fails only when someone finally runs it (bench/emulator_deploy.py did, after app/operations.py
was split)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.parametrize("name", sorted(p.stem for p in BENCH.glob("*.py") if p.stem != "__init__"))
def test_the_benchmark_module_imports(name: str) -> None:
    module = importlib.import_module(f"bench.{name}")

    assert module.__doc__, f"bench/{name}.py says nothing of what it measures"
