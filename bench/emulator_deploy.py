"""Seconds of a full seeded ECS target-group-swap deploy: plain moto vs the realistic emulator.

  plain:     moto as it is (targets healthy at once, the TaskPlacer registers them), the tests'
             short waits (8 s deadline, 200 ms interval, 600 ms bakes), real sleeps;
  realistic: the world (tasks start in 15 s, targets healthy after 10 s x 3, 300 s deregistration
             delay) with the product's real-world waits (10 m deadline, 10 s interval, 2 m bakes),
             all on a virtual clock.
    python bench/emulator_deploy.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bluegreen.adapters.aws.session import Aws  # noqa: E402
from bluegreen.app.context import RunContext  # noqa: E402
from bluegreen.app.deploy import deploy  # noqa: E402
from bluegreen.app.session import Session  # noqa: E402
from bluegreen.events import Events  # noqa: E402
from bluegreen.local import world as worlds  # noqa: E402
from bluegreen.local.clock import VirtualClock, product_on  # noqa: E402
from bluegreen.local.emulator import Emulator, TaskPlacer  # noqa: E402
from bluegreen.local.seed import put_image, seed  # noqa: E402
from bluegreen.specfiles.loader import load_spec  # noqa: E402

SPEC = """\
service: web
image: {{repository: web}}
platform:
  ecs: {{cluster: prod, services: {{blue: web-blue, green: web-green}}, container: web}}
traffic:
  routes: [{{load_balancer: web-alb, port: 80, blue_target_group: web-blue, green_target_group: web-green}}]
  test_listener: {{port: 8080}}
shift: {{mode: canary, percentages: [10, 50, 100]}}
health: {{alarms: [web-5xx], deadline: {deadline}, interval: {interval}, bake: {bake}}}
rollback: {{keep_blue_warm: 30m}}
"""
PLAIN = {"deadline": "8s", "interval": "200ms", "bake": "600ms", "delay": 1}
REAL_WORLD = {"deadline": "10m", "interval": "10s", "bake": "2m", "delay": 300}


def one_run(endpoint: str, waits: dict, around: Callable) -> dict[str, float]:
    os.chdir(tempfile.mkdtemp(prefix="bg-bench-"))
    Path("web.yaml").write_text(SPEC.format(**waits))
    loaded = load_spec("web.yaml")
    aws = Aws("us-east-1", endpoint_url=endpoint)
    _post(f"{endpoint}/moto-api/reset")
    with around(aws) as clock:
        started = time.perf_counter()
        seed(aws, loaded.spec, image_tag="v1", deregistration_delay=waits["delay"])
        put_image(aws, "web", "v2")
        seeded = time.perf_counter()
        virtual = clock.time() if clock else None
        session = Session(ctx=RunContext.from_environment(endpoint_url=endpoint), loaded=loaded,
                          events=Events(mode="json", stream=open(os.devnull, "w")))  # noqa: SIM115
        if deploy(session, image_tag="v2") != 0:
            raise SystemExit("the deploy failed: the bench measured nothing")
        done = time.perf_counter()
        return {"seed_s": seeded - started, "deploy_s": done - seeded,
                "virtual_s": (clock.time() - virtual) if clock else done - seeded}


class _Plain:
    def __call__(self, aws: Aws) -> "_Plain":
        self.placer = TaskPlacer(aws, interval=0.05)
        return self

    def __enter__(self) -> None:
        self.placer.__enter__()

    def __exit__(self, *exc: object) -> None:
        self.placer.__exit__(*exc)


class _Realistic:
    def __call__(self, aws: Aws) -> "_Realistic":
        self.clock = VirtualClock()
        self.world = worlds.World(self.clock)
        self.product = product_on(self.clock)
        return self

    def __enter__(self) -> VirtualClock:
        worlds.activate(self.world)
        self.product.__enter__()
        return self.clock

    def __exit__(self, *exc: object) -> None:
        self.product.__exit__(*exc)
        worlds.deactivate(self.world)


def _post(url: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30).close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    emulator = Emulator.start()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})
    try:
        results = {name: [one_run(emulator.endpoint_url, waits, around) for _ in range(args.runs)]
                   for name, waits, around in (("plain", PLAIN, _Plain()), ("realistic", REAL_WORLD, _Realistic()))}
    finally:
        emulator.stop()
    for name, runs in results.items():
        line = "  ".join(f"{key} median {statistics.median(r[key] for r in runs):.2f}" for key in runs[0])
        print(f"{name:10} {line}")
    print(f"runs {args.runs}; virtual_s: the world's (and the product's) time the deploy spanned")


if __name__ == "__main__":
    main()
