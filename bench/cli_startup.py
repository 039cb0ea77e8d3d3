"""CLI start-up time: how long `bluegreen --version`, `--help` and `validate deployments/` take.

    python bench/cli_startup.py            # 10 runs per command
    python bench/cli_startup.py -n 30

Each command runs as a fresh subprocess (sys.executable, so the same interpreter and install as the
caller), the way Jenkins or a shell would start it. Wall time is measured without -X importtime;
one extra run per command with -X importtime lists the heavy modules it pulled in (boto3, botocore,
docker, moto must stay out of these commands). `python -c pass` is the interpreter's own floor.

Output, one line per command:  <command> <median_s> <min_s> <runs> heavy=<modules or ->
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("boto3", "botocore", "docker", "moto")
RUN_CLI = "from bluegreen.cli.main import run; run()"  # what the installed `bluegreen` script runs
COMMANDS: list[tuple[str, list[str]]] = [
    ("python-c-pass", [sys.executable, "-c", "pass"]),
    ("--version", [sys.executable, "-c", RUN_CLI, "--version"]),
    ("--help", [sys.executable, "-c", RUN_CLI, "--help"]),
    ("validate-deployments", [sys.executable, "-c", RUN_CLI, "validate", "deployments/"]),
]


def time_once(argv: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(argv[2:]) or argv}: exit {result.returncode}\n{result.stderr}")
    return elapsed


def heavy_imports(argv: list[str]) -> list[str]:
    result = subprocess.run([argv[0], "-X", "importtime", *argv[1:]], cwd=REPO, capture_output=True, text=True)
    found = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            top = line.rsplit("|", 1)[1].strip().split(".")[0]
            if top in HEAVY:
                found.add(top)
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--runs", type=int, default=10, help="runs per command (default 10)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    print(f"# cli_startup runs={args.runs} python={sys.version.split()[0]} cwd={REPO}")
    print("# command median_s min_s runs heavy")
    for name, argv in COMMANDS:
        time_once(argv)  # warm the OS file cache and .pyc files; not counted
        times = [time_once(argv) for _ in range(args.runs)]
        heavy = heavy_imports(argv)
        print(f"{name} {statistics.median(times):.4f} {min(times):.4f} {args.runs} "
              f"heavy={','.join(heavy) or '-'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
