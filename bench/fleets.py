"""`plan` of 10 / 100 / 300 services, cold and warm, at 0 and 50 ms of latency per call.

One fleet is seeded once into moto (its own process); each size plans the first N of its services
through a `LatencyProxy`, in this process, the way `bluegreen plan` does (bench/plan_fleet.py's `run`).
Cold: an empty local cache; warm: the same plan again with the cache the cold run left.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from bench.plan_fleet import run, spec_yaml
from bench.wire import LatencyProxy, MotoProcess

NOTE = ("plan: one fleet in moto (its own process), the first N services planned in one `plan_specs` call through a "
        "loopback proxy adding the latency to every call; cold = empty local cache, warm = the same plan again.")


def measure(sizes: list[int], delays: tuple[float, ...]) -> list[tuple[str, str, str, str]]:
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.seed import put_image, seed_fleet
    from bluegreen.specfiles.loader import load_specs

    moto = MotoProcess(running=1)
    rows = []
    scratch = Path(tempfile.mkdtemp(prefix="bg-bench-fleet-"))
    try:
        # one seeding thread: moto's threaded server races on concurrent target-group creation
        specs = seed_fleet(Aws("us-east-1", endpoint_url=moto.endpoint_url), max(sizes), workers=1)
        put_image(Aws("us-east-1", endpoint_url=moto.endpoint_url), specs[0].image.repository, "v2")
        paths = []
        for spec in specs:
            path = scratch / f"{spec.service}.yaml"
            path.write_text(spec_yaml(spec), encoding="utf-8")
            paths.append(path)
        loaded = load_specs(paths)
        for delay in delays:
            proxy = LatencyProxy(moto.endpoint_url, delay)
            try:
                for n in sizes:
                    cache = scratch / f"cache-{n}-{delay}"
                    os.environ["BLUEGREEN_CACHE_DIR"] = str(cache)
                    cold = run(proxy.endpoint_url, loaded[:n], "v2")
                    warm = run(proxy.endpoint_url, loaded[:n], "v2")
                    shutil.rmtree(cache, ignore_errors=True)
                    os.environ.pop("BLUEGREEN_CACHE_DIR", None)
                    errors = len(cold["errors"]) + len(warm["errors"])
                    rows.append((f"plan {n} services @ {delay * 1000:.0f} ms: cold / warm",
                                 f"{cold['seconds']:.2f} s / {warm['seconds']:.2f} s; calls {cold['total']} / "
                                 f"{warm['total']} ({cold['total'] / n:.2f} / {warm['total'] / n:.2f} per service)"
                                 + (f"; {errors} errors" if errors else ""), "no plan", ""))
                    print(f"| {rows[-1][0]} | {rows[-1][1]} |", flush=True)
            finally:
                proxy.stop()
    finally:
        moto.stop()
        shutil.rmtree(scratch, ignore_errors=True)
    return rows
