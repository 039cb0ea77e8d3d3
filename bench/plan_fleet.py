"""Plan time and AWS calls for a fleet: `bluegreen plan` over hundreds of ECS services in one run.

    python bench/plan_fleet.py                 # 300 services, then 100
    python bench/plan_fleet.py --services 90   # 90, then 30
    python bench/plan_fleet.py --image-tag ''  # plan without a new image (each service's own tag)

Starts moto's server in-process on loopback, seeds N small ECS services with `seed_fleet` (one
cluster, one shared ECR repository, one target group and one task definition each), writes their
specs as YAML files and loads them the way the CLI does, then runs discovery + planning of all of
them in one `plan_specs` call with a fresh `RunContext` (so the call log holds that run's calls only).
It then repeats with N/3 of the same services, to show which operations grow per batch (ceil(N /
batch size)), which per resource (N), and which stay fixed.

Output, plain lines of `name value`:

    run <services>                   a run starts
    services <n>
    aws_calls <n>                    every AWS operation the run made (all read-only)
    seconds <s>                      discovery + planning, wall time (includes making the clients)
    calls_per_service <x>
    plans_with_changes <n> / plans_with_errors <n>
    calls <service:Operation> <n>    one line per operation
    growth <service:Operation> <calls at N> <calls at N/3> <fixed | batched(~k services/call) |
                                                              per-resource(x/service)>

moto answers in a few milliseconds per call on loopback; against AWS each call costs more, so the
call counts are the figures that carry over, the seconds are a floor.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # run from a checkout: python bench/plan_fleet.py

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def spec_yaml(spec) -> str:  # noqa: ANN001 - bluegreen.spec.Spec
    """The spec as a user would write it (only what seed_fleet set), for the loader to read back."""
    import yaml

    ecs = spec.platform.ecs
    data = {
        "service": spec.service,
        "region": spec.region,
        "strategy": spec.strategy.value,
        "image": {"repository": spec.image.repository},
        "platform": {"ecs": {"cluster": ecs.cluster, "service": ecs.service, "container": ecs.container}},
        "traffic": {"target_group": spec.traffic.target_group},
    }
    return yaml.safe_dump(data, sort_keys=False)


def run(endpoint_url: str, loaded: list, image_tag: str | None) -> dict:  # noqa: ANN001 - LoadedSpec
    from bluegreen.adapters.aws.session import is_read_only
    from bluegreen.app.context import RunContext
    from bluegreen.app.plans import plan_specs

    runtime = RunContext(endpoint_url=endpoint_url)
    log = runtime.aws(loaded[0].spec.region).log
    start = time.perf_counter()
    plans = plan_specs(runtime, loaded, image_tag=image_tag, count_health=True)  # as `bluegreen plan`
    seconds = time.perf_counter() - start
    writes = sorted({c for c in log.calls if not is_read_only(c)})
    if writes:
        raise SystemExit(f"plan made calls that are not read-only: {writes}")
    errors = [f"{p.service}: {e}" for p in plans for e in p.errors]
    return {
        "services": len(loaded), "calls": log.counts(), "total": len(log), "seconds": seconds,
        "changes": sum(1 for p in plans if p.has_changes), "errors": errors,
    }


def report(result: dict) -> None:
    n = result["services"]
    print(f"run {n}")
    print(f"services {n}")
    print(f"aws_calls {result['total']}")
    print(f"seconds {result['seconds']:.3f}")
    print(f"calls_per_service {result['total'] / n:.3f}")
    print(f"plans_with_changes {result['changes']}")
    print(f"plans_with_errors {len(result['errors'])}")
    for line in result["errors"][:5]:
        print(f"error {line}")
    for operation, count in sorted(result["calls"].items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"calls {operation} {count}")


def growth(big: dict, small: dict) -> None:
    """Classify each operation by how its count moved between the two fleet sizes."""
    n_big = big["services"]
    for operation in sorted(set(big["calls"]) | set(small["calls"])):
        b, s = big["calls"].get(operation, 0), small["calls"].get(operation, 0)
        if b == s:
            kind = "fixed"
        elif b >= 0.9 * n_big:
            kind = f"per-resource({b / n_big:.2f}/service)"
        else:
            kind = f"batched(~{n_big / b:.0f} services/call)"
        print(f"growth {operation} {b} {s} {kind}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=300, help="fleet size (default 300); the second run uses a third")
    parser.add_argument("--image-tag", default="v2",
                        help="tag to plan (put once in the shared repository; default v2); '' plans without one")
    args = parser.parse_args()
    if args.services < 3:
        parser.error("--services must be at least 3")
    image_tag = args.image_tag or None

    for name, value in FAKE_CREDENTIALS.items():
        os.environ[name] = value
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(name, None)

    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.emulator import Emulator
    from bluegreen.local.seed import put_image, seed_fleet
    from bluegreen.specfiles.loader import load_specs

    emulator = Emulator.start()
    os.environ["AWS_ENDPOINT_URL"] = emulator.endpoint_url
    try:
        print(f"emulator {emulator.endpoint_url}")
        seeder = Aws("us-east-1", endpoint_url=emulator.endpoint_url)
        start = time.perf_counter()
        specs = seed_fleet(seeder, args.services)
        if image_tag:
            put_image(seeder, specs[0].image.repository, image_tag)
        print(f"seeded {len(specs)} services in {time.perf_counter() - start:.1f} s (image_tag {image_tag or '-'})")

        with tempfile.TemporaryDirectory(prefix="bluegreen-fleet-") as scratch:
            paths = []
            for spec in specs:
                path = Path(scratch) / f"{spec.service}.yaml"
                path.write_text(spec_yaml(spec), encoding="utf-8")
                paths.append(path)
            loaded = load_specs(paths)
            big = run(emulator.endpoint_url, loaded, image_tag)
            report(big)
            small = run(emulator.endpoint_url, loaded[: max(1, len(loaded) // 3)], image_tag)
            report(small)
        growth(big, small)
        return 1 if big["errors"] or small["errors"] else 0
    finally:
        emulator.stop()


if __name__ == "__main__":
    raise SystemExit(main())
