"""`python -m bench`: bluegreen and fabfuel's ecs-deploy side by side, one table, in one run.

    python -m bench                 # everything (a few minutes), writes bench/RESULTS.md
    python -m bench --quick         # fleets of 10 and 100 only

The Docker rows use the engine on DOCKER_HOST (default unix:///tmp/bg-docker.sock) and the registry
BLUEGREEN_REGISTRY (default 127.0.0.1:5000); without them the row says why it was not measured.

moto runs in its own process behind a loopback proxy that adds latency and counts calls (bench/wire.py).
ecs-deploy is installed, for the benchmark only, into its own venv under /tmp (bench/ecs_deploy.py):
it is never a dependency of bluegreen. The machine may be shared, so wall-clock figures are noisy;
the ratios within one run are what counts, and the load (`uptime`) is written next to them.
"""

from __future__ import annotations

import argparse
import compileall
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

from bench import deploys, docker_build, fleets, noticed
from bench.ecs_deploy import ensure_ecs_deploy
from bench.wire import CREDENTIALS, REPO

RUN_CLI = "from bluegreen.cli.main import run; run()"  # what the installed `bluegreen` script runs


def _median_seconds(argv: list[str], runs: int, env: dict | None = None) -> float:
    import time

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=REPO, capture_output=True, env=env, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup(ecs: Path | None, runs: int) -> list[tuple[str, str, str, str]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    py = _median_seconds([sys.executable, "-c", "pass"], runs, env)
    version = _median_seconds([sys.executable, "-c", RUN_CLI, "--version"], runs, env)
    validate = _median_seconds([sys.executable, "-c", RUN_CLI, "validate", "deployments/"], runs, env)
    # what any validate of YAML into pydantic models behind a click CLI starts with, before one model exists
    libraries = _median_seconds([sys.executable, "-c", "import click, yaml, pydantic"], runs, env)
    ecs_help = _median_seconds([str(ecs), "--help"], runs, env) if ecs else None
    ecs_version = _median_seconds([str(ecs), "--version"], runs, env) if ecs else None
    return [
        ("start-up: python -c pass (floor)", f"{py:.2f} s", "", ""),
        ("start-up: --version", f"{version:.2f} s", _s(ecs_version), _ratio(version, ecs_version)),
        ("start-up: validate deployments/ vs ecs --help", f"{validate:.2f} s", _s(ecs_help), _ratio(validate, ecs_help)),
        ("start-up: import click, yaml, pydantic (validate's floor) vs ecs --help", f"{libraries:.2f} s", _s(ecs_help),
         _ratio(libraries, ecs_help)),
    ]


def failed_gate() -> list[tuple[str, str, str, str]]:
    out = subprocess.run([sys.executable, "bench/rollback_latency.py", "--runs", "1"], cwd=REPO, capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    found = {m[0]: float(m[1]) for m in re.findall(r"^(\w+)\s+median ([\d.]+)", out, re.M)}
    if "restore_s" not in found:
        return [("failed gate -> traffic restored", "not measured", "n/a", "")]
    return [("failed gate -> traffic restored (bake poll 0.2 s)", f"{found['restore_s']:.2f} s "
             f"({found['calls']:.0f} calls); detect {found['detect_s']:.2f} s", "no gates", "")]


def _s(value: float | None) -> str:
    return f"{value:.2f} s" if value is not None else "n/a"


def _ratio(ours: float | None, theirs: float | None) -> str:
    return f"{ours / theirs:.2f}x" if ours is not None and theirs else ""


def deploy_rows(r: dict) -> list[tuple[str, str, str, str]]:
    ours, theirs = r["bluegreen"], r.get("ecs-deploy")
    rows = []
    for key in ("setup", "changes", "polling", "total"):
        rows.append((f"td deploy calls: {key}", str(ours[key]), str(theirs[key]) if theirs else "n/a",
                     _ratio(ours[key], theirs[key]) if theirs else ""))
    rows.append(("td deploy: calls before polling", str(ours["setup"] + ours["changes"]),
                 str(theirs["setup"] + theirs["changes"]) if theirs else "n/a", ""))
    real = r.get("realistic")
    if real:
        first, following = real["first"], real["next"]
        rows.append(("td deploy on the realistic emulator: calls before polling, first / next deploy from this "
                     "machine", f"{first['setup'] + first['changes']} / {following['setup'] + following['changes']} "
                     f"({first['setup']} / {following['setup']} reads; exit {first['code']} / {following['code']})",
                     "", ""))
    rows.append(("td deploy: polling rate while waiting", f"{ours['poll_rate']:.2f} call/s = "
                 f"{ours['poll_rate'] / deploys.GATES:.2f} per gate ({deploys.GATES} gates, 2 s interval)",
                 f"{theirs['poll_rate']:.2f} call/s (1 wait)" if theirs else "n/a",
                 _ratio(ours["poll_rate"], theirs and theirs["poll_rate"])))
    rows.append(("td deploy: wall time (exit code)", f"{ours['seconds']:.1f} s ({ours['code']})",
                 f"{theirs['seconds']:.1f} s ({theirs['code']})" if theirs else "n/a", ""))
    rows.append(("peak RSS: one deploy", f"{ours['rss_mib']:.0f} MiB", f"{theirs['rss_mib']:.0f} MiB" if theirs
                 else "n/a", _ratio(ours["rss_mib"], theirs and theirs["rss_mib"])))
    rb, floor = r["rollback"], r["floor"]
    rows.append(("warm rollback web: start -> exit (calls)", f"{rb['seconds']:.2f} s ({rb['calls']})",
                 f"floor {floor['seconds']:.2f} s (2)", _ratio(rb["seconds"], floor["seconds"])))
    first = rb["first_call_s"]
    rows.append(("warm rollback web: start -> first AWS call", _s(first), "", _ratio(first, floor["seconds"])))
    return rows


def machine() -> str:
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    return (f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()}"
            f" · load: {load}")


def table(rows: list[tuple[str, str, str, str]]) -> str:
    lines = ["| measure | bluegreen | ecs-deploy / floor | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fleets of 10 and 100 only")
    parser.add_argument("--runs", type=int, default=5, help="runs per start-up figure (median)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave bench/RESULTS.md alone")
    args = parser.parse_args()
    os.environ.update(CREDENTIALS)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    os.environ.pop("BLUEGREEN_CACHE_DIR", None)  # each section names its own (fleets: cold, then warm)
    # Bytecode first, as an installed package has it (pip compiles at install): without it, and with
    # PYTHONDONTWRITEBYTECODE set, every timed start would compile bluegreen's sources again.
    compileall.compile_dir(str(REPO / "bluegreen"), quiet=1)
    ecs = ensure_ecs_deploy()
    rows = startup(ecs, args.runs)
    print(table(rows), flush=True)
    for section in (lambda: deploy_rows({**deploys.measure(ecs), "realistic": deploys.measure_realistic()}),
                    failed_gate, noticed.measure):
        new = section()
        print(table(new).split("\n", 2)[2], flush=True)
        rows += new
    rows += fleets.measure([10, 100] if args.quick else [10, 100, 300], delays=(0.0, 0.05))
    rows += docker_build.measure()
    print(table(rows[-2:]).split("\n", 2)[2], flush=True)
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"# Benchmark results\n\nWritten by `python -m bench` on {started}.\n\nMachine: {machine()}\n\n"
            f"{table(rows)}\n\n{fleets.NOTE}\n{deploys.NOTE}\n{docker_build.NOTE}\n")
    print(text)
    if not args.no_write:
        (REPO / "bench" / "RESULTS.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
