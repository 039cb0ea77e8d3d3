"""The layering HELPERS.md and DESIGN.md ask for, proven by reading every module's imports (AST, no import).

Every `import` and `from ... import` counts, wherever it is: at the top, inside a function (the lazy
SDK imports), under `if TYPE_CHECKING:`; so do `importlib.import_module("x")` and `__import__("x")`
with a literal name. Relative imports are resolved against the module's package.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bluegreen"

SDKS = ("boto3", "botocore", "docker")
PURE = ("domain", "planning")
PURE_MAY_NOT_IMPORT = ("adapters", "state", "app", "cli", "execution", "local", "discovery")
MAX_LINES = 500

# Modules over MAX_LINES today, each waiting for a split. The integrator empties this list; a module
# that shrinks below the limit must leave it (the last test says so), and no new name may join it.
TOO_LONG_FOR_NOW: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    module: str  # the importing module's path, relative to the repository (bluegreen/...)
    name: str  # the absolute dotted name imported
    line: int

    def __str__(self) -> str:
        return f"{self.module}:{self.line} imports {self.name}"


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _rel(path: Path) -> str:
    return path.relative_to(PACKAGE.parent).as_posix()


def _package_of(path: Path) -> list[str]:
    """The dotted package a module belongs to: its folder (an `__init__.py` is its own package)."""
    return list(path.relative_to(PACKAGE.parent).parent.parts)


def _resolve(path: Path, node: ast.ImportFrom) -> list[str]:
    if not node.level:
        base = node.module or ""
    else:
        package = _package_of(path)
        package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        base = ".".join(package + ([node.module] if node.module else []))
    # `from bluegreen import adapters` imports bluegreen.adapters: count each name as a possible module
    return [base] + [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]


def _dynamic(node: ast.Call) -> str | None:
    func = node.func
    named = (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id in ("import_module", "__import__"))
    if named and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        return node.args[0].value
    return None


def imports() -> list[Import]:
    found: list[Import] = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [Import(_rel(path), alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                found += [Import(_rel(path), name, node.lineno) for name in _resolve(path, node)]
            elif isinstance(node, ast.Call) and (name := _dynamic(node)):
                found.append(Import(_rel(path), name, node.lineno))
    return found


def _is(name: str, *roots: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def _in(module: str, *folders: str) -> bool:
    return any(module.startswith(f"bluegreen/{folder}/") for folder in folders)


def test_the_scan_sees_lazy_and_top_level_imports():
    found = {(i.module, i.name) for i in imports()}

    assert ("bluegreen/adapters/aws/session.py", "boto3") in found  # inside Aws._make_session
    assert ("bluegreen/app/plans.py", "bluegreen.app.discover") in found  # inside plan_specs
    assert ("bluegreen/discovery/assemble.py", "bluegreen.domain.snapshot") in found  # at the top
    assert len({i.module for i in imports()}) > 40


def test_only_adapters_import_boto3_botocore_or_docker():
    offenders = [str(i) for i in imports() if _is(i.name, *SDKS) and not _in(i.module, "adapters")]

    assert offenders == [], "only bluegreen/adapters/ may import an SDK:\n" + "\n".join(offenders)


def test_only_local_imports_moto():
    offenders = [str(i) for i in imports() if _is(i.name, "moto") and not _in(i.module, "local")]

    assert offenders == [], "only bluegreen/local/ may import moto:\n" + "\n".join(offenders)


def test_domain_and_planning_import_no_outer_layer():
    outer = tuple(f"bluegreen.{layer}" for layer in PURE_MAY_NOT_IMPORT)
    offenders = [str(i) for i in imports() if _in(i.module, *PURE) and _is(i.name, *outer)]

    assert offenders == [], "domain/ and planning/ must stay pure:\n" + "\n".join(offenders)


def test_discovery_imports_no_adapter():
    offenders = [str(i) for i in imports() if _in(i.module, "discovery") and _is(i.name, "bluegreen.adapters")]

    assert offenders == [], "discovery/ is the pure half; the reads live in adapters/aws:\n" + "\n".join(offenders)


def _line_counts() -> dict[str, int]:
    return {_rel(path): len(path.read_text(encoding="utf-8").splitlines()) for path in _modules()}


def test_no_module_is_over_500_lines():
    offenders = [f"{module}: {lines} lines" for module, lines in sorted(_line_counts().items())
                 if lines > MAX_LINES and module not in TOO_LONG_FOR_NOW]

    assert offenders == [], f"modules over {MAX_LINES} lines (split them):\n" + "\n".join(offenders)


def test_the_allowed_long_modules_are_still_long():
    """An entry whose module was split (or removed) must leave TOO_LONG_FOR_NOW, so the list only shrinks."""
    counts = _line_counts()
    stale = [module for module in TOO_LONG_FOR_NOW if counts.get(module, 0) <= MAX_LINES]

    assert stale == [], "no longer over the limit, remove from TOO_LONG_FOR_NOW: " + ", ".join(stale)
