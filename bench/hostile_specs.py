"""Hostile specs through the CLI: 1,000 mutated specs through `validate`, `plan --offline` and `plan`.

    python bench/hostile_specs.py                  # 1,000 specs, seed 0
    python bench/hostile_specs.py --count 200 --seed 7

The specs are the examples in deployments/ mutated by bluegreen/local/hostile.py (one hazard each
for sure: deleted, duplicated, renamed or retyped fields, deep nesting, huge numbers, odd unicode,
YAML tags, anchors and aliases, broken bytes; sometimes more). Each command runs in-process through
`bluegreen.cli.main.main`, as the CLI would. `plan` runs against moto's server in-process, seeded
with the examples' infrastructure so valid specs are really planned, behind the fault proxy with no
faults: its counts are every AWS call that reached the endpoint, taken independently of the tool's
own call log. A spec `validate` refuses (exit 2) must cost 0 AWS calls in every command.

Output, plain lines of `name value`:

    count <n>                                  specs generated
    valid <n> / invalid <n>                    by `validate`'s verdict
    tracebacks <command> <n>                   exceptions escaping main, "Traceback" or "unexpected error" output
    exit <command> <code> <n>                  the exit-code histogram
    aws_calls_invalid <command> <total> <max>  AWS calls made for invalid specs (must be 0)
    aws_calls_valid plan <total> <mean>        for valid specs, for scale
    slowest <command> <seconds> <hazard> <bytes>
    hazard <name> <count> <invalid>            what was generated
    failure <command> <hazard> <file> <line>   the first few tracebacks, kept on disk for a look
    unusual_exit <command> <code> <hazard> <seconds> <file> <line>   exits other than 0 and 2

Exits 1 when any traceback or any AWS call for an invalid spec was seen.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout: python bench/hostile_specs.py

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
COMMANDS = (("validate",), ("plan", "--offline"), ("plan",))


def run_cli(args: list[str]) -> tuple[int | str, str, float]:
    from bluegreen.cli.main import main

    err = io.StringIO()
    start = time.perf_counter()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code: int | str = main(args)
    except BaseException as exc:  # noqa: BLE001 - what escapes main is exactly what we count
        code = f"raised {type(exc).__name__}"
        err.write(f"Traceback (escaped main): {type(exc).__name__}: {exc}\n")
    return code, err.getvalue(), time.perf_counter() - start


def seed_examples(endpoint_url: str) -> None:
    """The examples' infrastructure, so a spec that survives mutation is planned against real state."""
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.seed import seed
    from bluegreen.specfiles.loader import load_spec

    aws = Aws("us-east-1", endpoint_url=endpoint_url)
    for path in sorted((REPO / "deployments").glob("*.yaml")):
        seed(aws, load_spec(path).spec)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.update(FAKE_CREDENTIALS)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "BLUEGREEN_DEBUG"):
        os.environ.pop(name, None)

    from bluegreen.local.emulator import Emulator
    from bluegreen.local.faults import FaultProxy
    from bluegreen.local.hostile import hostile_spec

    examples = [p.read_text(encoding="utf-8") for p in sorted((REPO / "deployments").glob("*.yaml"))]
    emulator = Emulator.start()
    # moto logs its own 500s (e.g. a region it does not know) with a traceback: they reach the
    # tool as AWS errors and show up in the exit codes, so its log would only bury the figures.
    logging.getLogger("werkzeug").setLevel(logging.CRITICAL)
    proxy = FaultProxy(emulator.endpoint_url).start()
    os.environ["AWS_ENDPOINT_URL"] = proxy.endpoint_url
    scratch = Path(tempfile.mkdtemp(prefix="bluegreen-hostile-"))
    try:
        seed_examples(emulator.endpoint_url)
        for command in COMMANDS:  # imports and first clients outside the figures
            run_cli([*command, str(REPO / "deployments" / "web.yaml")])
        rnd = random.Random(args.seed)
        exits: Counter[tuple[str, object]] = Counter()
        tracebacks: Counter[str] = Counter()
        invalid_calls: dict[str, list[int]] = {" ".join(c): [] for c in COMMANDS}
        valid_calls: list[int] = []
        hazards: Counter[tuple[str, bool]] = Counter()
        slowest: dict[str, tuple[float, str, int]] = {}
        failures: list[str] = []
        for n in range(args.count):
            spec = hostile_spec(rnd, examples)
            path = scratch / f"spec-{n:04d}.yaml"
            path.write_bytes(spec.data)
            valid = None
            for command in COMMANDS:
                name = " ".join(command)
                proxy.stats.reset()
                code, stderr, seconds = run_cli([*command, str(path)])
                calls = proxy.stats.calls()
                exits[name, code] += 1
                if valid is None:
                    valid = code == 0
                last = (stderr.strip().splitlines() or [""])[-1][:200]
                if "Traceback" in stderr or "unexpected error" in stderr:
                    tracebacks[name] += 1
                    failures.append(f"failure {name} {spec.hazard} {path} {last}")
                elif code not in (0, 2):
                    failures.append(f"unusual_exit {name} {code} {spec.hazard} {seconds:.1f}s {path} {last}")
                if not valid:
                    invalid_calls[name].append(calls)
                elif name == "plan":
                    valid_calls.append(calls)
                if seconds > slowest.get(name, (0.0,))[0]:
                    slowest[name] = (seconds, spec.hazard, len(spec.data))
            hazards[spec.hazard, bool(valid)] += 1
        report(args.count, exits, tracebacks, invalid_calls, valid_calls, hazards, slowest, failures)
        bad = sum(tracebacks.values()) + sum(sum(c) for c in invalid_calls.values())
        return 1 if bad else 0
    finally:
        proxy.stop()
        emulator.stop()


def report(count, exits, tracebacks, invalid_calls, valid_calls, hazards, slowest, failures) -> None:  # noqa: ANN001
    invalid = len(invalid_calls["validate"])
    print(f"count {count}")
    print(f"valid {count - invalid}")
    print(f"invalid {invalid}")
    for command in COMMANDS:
        name = " ".join(command)
        print(f"tracebacks {name} {tracebacks[name]}")
    for (name, code), n in sorted(exits.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"exit {name} {code} {n}")
    for name, calls in invalid_calls.items():
        print(f"aws_calls_invalid {name} {sum(calls)} {max(calls, default=0)}")
    mean = sum(valid_calls) / len(valid_calls) if valid_calls else 0.0
    print(f"aws_calls_valid plan {sum(valid_calls)} {mean:.1f}")
    for name, (seconds, hazard, size) in slowest.items():
        print(f"slowest {name} {seconds:.3f} {hazard} {size}")
    for hazard in sorted({h for h, _ in hazards}):
        total = hazards[hazard, True] + hazards[hazard, False]
        print(f"hazard {hazard} {total} {hazards[hazard, False]}")
    for line in failures[:10]:
        print(line)


if __name__ == "__main__":
    raise SystemExit(main())
