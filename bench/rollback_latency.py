"""Seconds and AWS calls from a failed gate to production traffic 100% back on blue.

Runs a real deploy on the embedded emulator (ECS target-group swap, canary 10/50/100), makes an
alarm fire during a bake, and measures, from the executor's own events and the AWS call log:
  - detect: alarm flipped -> the bake gate fails (bounded by the bake's poll interval),
  - restore: gate failed -> the listener change that put blue back at 100% returned,
  - the AWS calls made in between.
    python bench/rollback_latency.py [--runs N] [--interval 0.2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bluegreen.adapters.aws.session import Aws  # noqa: E402
from bluegreen.local.emulator import Emulator, TaskPlacer  # noqa: E402
from bluegreen.local.seed import put_image, seed  # noqa: E402
from bluegreen.app.context import RunContext  # noqa: E402
from bluegreen.errors import DeploymentFailed  # noqa: E402
from bluegreen.events import Events  # noqa: E402
from bluegreen.specfiles.loader import load_spec  # noqa: E402
from bluegreen.app.deploy import deploy  # noqa: E402
from bluegreen.app.session import Session  # noqa: E402

SPEC = """\
service: web
image: {{repository: web}}
platform:
  ecs: {{cluster: prod, services: {{blue: web-blue, green: web-green}}, container: web}}
traffic:
  routes: [{{load_balancer: web-alb, port: 80, blue_target_group: web-blue, green_target_group: web-green}}]
shift: {{mode: canary, percentages: [10, 50, 100]}}
health: {{alarms: [web-5xx], deadline: 20s, interval: {interval}s, bake: 30s}}
rollback: {{keep_blue_warm: 1m}}
"""


class Timeline(Events):
    """Events that also remember when each happened and how many AWS calls had been made by then."""

    def __init__(self, log: object) -> None:
        super().__init__(mode="json", stream=open(os.devnull, "w"))  # noqa: SIM115
        self.call_log = log
        self.marks: dict[str, tuple[float, int]] = {}

    def emit(self, event: str, message: str, **data: object) -> None:
        self.marks.setdefault(event, (time.perf_counter(), len(self.call_log)))  # type: ignore[arg-type]
        super().emit(event, message, **data)


def one_run(endpoint: str, interval: float) -> dict[str, float]:
    os.chdir(tempfile.mkdtemp(prefix="bg-bench-"))
    Path("web.yaml").write_text(SPEC.format(interval=interval))
    loaded = load_spec("web.yaml")
    aws = Aws("us-east-1", endpoint_url=endpoint)
    urllib_post(f"{endpoint}/moto-api/reset")  # every run starts from an empty emulator
    seed(aws, loaded.spec, image_tag="v1", deregistration_delay=1)
    put_image(aws, "web", "v2")
    runtime = RunContext(endpoint_url=endpoint)
    tool_aws = runtime.aws("us-east-1")
    events = Timeline(tool_aws.log)
    session = Session(ctx=runtime, loaded=loaded, events=events)
    flipped: list[float] = []

    def fire() -> None:
        watcher = Aws("us-east-1", endpoint_url=endpoint)
        while "step.started" not in events.marks or "bake" not in str(events.history[-1].get("step", "")):
            time.sleep(0.01)
        time.sleep(0.3)
        watcher.client("cloudwatch").set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="bench")
        flipped.append(time.perf_counter())

    with TaskPlacer(aws, interval=0.05):
        thread = threading.Thread(target=fire, daemon=True)
        thread.start()
        try:
            deploy(session, image_tag="v2")
            raise SystemExit("the deploy did not fail: the bench measured nothing")
        except DeploymentFailed:
            pass
        thread.join()
    failed_at, calls_at_failure = next(v for k, v in events.marks.items() if k == "step.failed")
    restored_at, calls_at_restore = events.marks["traffic.restored"]
    return {"detect_s": failed_at - flipped[0], "restore_s": restored_at - failed_at,
            "calls": calls_at_restore - calls_at_failure}


def urllib_post(url: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(url, method="POST"), timeout=30).close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--interval", type=float, default=0.2, help="bake poll interval (seconds)")
    args = parser.parse_args()
    emulator = Emulator.start()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})
    try:
        runs = [one_run(emulator.endpoint_url, args.interval) for _ in range(args.runs)]
    finally:
        emulator.stop()
    for key in ("detect_s", "restore_s", "calls"):
        values = [r[key] for r in runs]
        print(f"{key:10} median {statistics.median(values):.4f}  min {min(values):.4f}  max {max(values):.4f}")
    print(f"runs {len(runs)}  bake poll interval {args.interval}s")
    print("restore_s: gate failure -> blue back at 100% (listener change returned); calls: AWS calls in between")


if __name__ == "__main__":
    main()
