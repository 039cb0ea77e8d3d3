"""Record what discovery's AWS reads return, as JSON, for the assembly tests to replay without AWS.

    PYTHONPATH=$PWD python tests/support/record_discovery.py            # every scenario
    PYTHONPATH=$PWD python tests/support/record_discovery.py web api    # some of them

Starts moto's server on loopback (as tests/conftest.py does), and for each scenario empties it,
seeds it with `bluegreen.local.seed` from the example specs in deployments/, optionally breaks
something, reads with `bluegreen.adapters.aws.reads.read` (the reads `plan` makes) and writes
tests/unit/discovery/recorded/<scenario>.json:

    {"scenario", "about", "specs": [example names], "region", "image_tag", "raw": RawState.to_json()}

Re-run it when the reads change what they store (the assembly tests then show what moved). The ids
and ARNs in the files are moto's, made up at recording time; the tests take them from the files.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # run from a checkout

DEPLOYMENTS = REPO / "deployments"
RECORDED = REPO / "tests" / "unit" / "discovery" / "recorded"
REGION = "us-east-1"


@dataclass(frozen=True)
class Scenario:
    about: str
    specs: tuple[str, ...]  # example names (deployments/<name>.yaml), read in one run
    seed: dict[str, dict[str, Any]]  # example name -> keyword arguments of `seed`
    image_tag: str | None = None
    breaks: Callable[[Any, Any, dict[str, Any]], None] | None = None  # (emulator Aws, reader Aws, seeded)


def _point_listeners_at_blue_and_delete_green(emulator: Any, _reader: Any, seeded: dict[str, Any]) -> None:
    web = seeded["web"]
    elbv2 = emulator.client("elbv2")
    blue_only = [{"Type": "forward", "TargetGroupArn": web.target_groups["web-blue"]}]
    for listener in web.listeners.values():
        elbv2.modify_listener(ListenerArn=listener, DefaultActions=blue_only)
    elbv2.delete_target_group(TargetGroupArn=web.target_groups["web-green"])


def _deny_target_health(_emulator: Any, reader: Any, _seeded: dict[str, Any]) -> None:
    class Refused:
        status_code = 403

    def deny(**_: Any) -> tuple[Any, dict[str, Any]]:
        return Refused(), {"Error": {"Code": "AccessDenied", "Message": "not authorized to DescribeTargetHealth"},
                           "ResponseMetadata": {"HTTPStatusCode": 403}}

    reader.client("elbv2").meta.events.register("before-call.*.DescribeTargetHealth", deny)


def _delete_worker_task_role(emulator: Any, _reader: Any, _seeded: dict[str, Any]) -> None:
    emulator.client("iam").delete_role(RoleName="ecsTaskRole-worker")


SCENARIOS: dict[str, Scenario] = {
    "web": Scenario("ECS target-group swap, blue live", ("web",), {"web": {}}),
    "web-green-live": Scenario("ECS target-group swap, green live", ("web",), {"web": {"live_color": "green"}}),
    "worker": Scenario("ECS task-definition swap, tasks not running yet, an unpushed tag wanted", ("worker",),
                       {"worker": {"running": False}}, image_tag="v9"),
    "legacy": Scenario("Auto Scaling group swap behind a target group", ("legacy",), {"legacy": {}}),
    "api": Scenario("Route53 weighted DNS cutover", ("api",), {"api": {}}),
    "nothing-seeded": Scenario("every example read from an empty account", ("web", "worker", "legacy", "api"), {}),
    "web-target-health-denied": Scenario("DescribeTargetHealth refused with AccessDenied", ("web",), {"web": {}},
                                         breaks=_deny_target_health),
    "web-green-target-group-deleted": Scenario("the green target group deleted, listeners on blue only", ("web",),
                                               {"web": {}}, breaks=_point_listeners_at_blue_and_delete_green),
    "web-ecs-blue-green-scaled": Scenario(
        "ECS's built-in BLUE_GREEN strategy on both services, each with an Application Auto Scaling target",
        ("web",), {"web": {"ecs_strategy": "BLUE_GREEN", "scaling": {"ScheduledScalingSuspended": True}}}),
    "worker-code-deploy": Scenario("the one service under the CODE_DEPLOY deployment controller", ("worker",),
                                   {"worker": {"controller": "CODE_DEPLOY"}}),
    "worker-task-role-deleted": Scenario("the task role a task definition names deleted", ("worker",),
                                         {"worker": {}}, breaks=_delete_worker_task_role),
}


def record(endpoint: str, name: str, scenario: Scenario) -> Path:
    from bluegreen.adapters.aws.reads import read
    from bluegreen.adapters.aws.session import Aws
    from bluegreen.local.seed import seed
    from bluegreen.specfiles.loader import load_spec

    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
    emulator, reader = Aws(REGION, endpoint_url=endpoint), Aws(REGION, endpoint_url=endpoint)
    specs = {n: load_spec(DEPLOYMENTS / f"{n}.yaml").spec for n in scenario.specs}
    seeded = {n: seed(emulator, specs[n], **kwargs) for n, kwargs in scenario.seed.items()}
    if scenario.breaks:
        scenario.breaks(emulator, reader, seeded)
    raw = read(reader, list(specs.values()), scenario.image_tag)
    document = {"scenario": name, "about": scenario.about, "specs": list(scenario.specs), "region": REGION,
                "image_tag": scenario.image_tag, "raw": raw.to_json()}
    path = RECORDED / f"{name}.json"
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def main(names: list[str]) -> int:
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        print(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": REGION, "AWS_CONFIG_FILE": os.devnull,
                       "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        os.environ.pop(variable, None)
    from moto.server import ThreadedMotoServer

    from bluegreen.local.emulator import patch_moto

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    patch_moto()
    server.start()
    host, port = server.get_host_and_port()
    RECORDED.mkdir(parents=True, exist_ok=True)
    try:
        for name in names or list(SCENARIOS):
            path = record(f"http://{host}:{port}", name, SCENARIOS[name])
            print(f"recorded {path.relative_to(REPO)} ({path.stat().st_size} bytes)")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
