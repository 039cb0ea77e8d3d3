"""The embedded local AWS: moto's server on 127.0.0.1.

`Emulator.start(realistic=True)` runs it with a `World` (see `world.py`): ECS runs its services'
tasks, load balancers health-check and drain, Auto Scaling instances boot, on a clock a test can
speed up, and AWS's rejections apply. Without it, moto is as it is: nothing progresses, and the
`TaskPlacer` plays the part of ECS's scheduler instead (every service that runs N tasks gets N
healthy targets in its target groups). Both are for the demo and tests only; against real AWS,
ECS does this itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from bluegreen.adapters.aws.session import Aws
from bluegreen.local.clock import Clock, RealClock, from_environment
from bluegreen.local.world import Timings, World, activate, deactivate, simulating


def patch_moto() -> None:
    """Fix, in this process, a moto bug a deployment hits, and publish what AWS would (idempotent).

    CreateLaunchTemplateVersion stores UserData as plain text where CreateLaunchTemplate stores
    moto's Base64EncodedString, so scaling a group onto the new version fails with a 500 (an
    assertion in moto). Real EC2 has no such problem; the product is not bent around it.
    """
    from moto.ec2.responses.launch_templates import LaunchTemplates
    from moto.ec2.utils import parse_user_data

    original = LaunchTemplates.create_launch_template_version
    if getattr(original, "_bluegreen_patched", False):
        return

    def create_launch_template_version(self: Any) -> Any:
        result = original(self)
        name = self._get_param("LaunchTemplateName")
        template = (self.ec2_backend.get_launch_template_by_name(name) if name
                    else self.ec2_backend.get_launch_template(self._get_param("LaunchTemplateId")))
        version = template.versions[-1]
        if isinstance(version.data.get("UserData"), str):
            version.data["UserData"] = parse_user_data(version.data["UserData"])
        return result

    create_launch_template_version._bluegreen_patched = True  # type: ignore[attr-defined]
    LaunchTemplates.create_launch_template_version = create_launch_template_version  # type: ignore[method-assign]
    _remember_backends_by_host()
    _load_only_the_base_amis()
    _count_changes()
    from bluegreen.local import elb_metrics

    elb_metrics.install()  # ELB's HealthyHostCount / UnHealthyHostCount, which moto never publishes


_changes = 0  # requests to this process's moto that may have changed what a TaskPlacer places


def changes() -> int:
    """How many ECS and ELBv2 requests other than reads this process's moto has answered so far."""
    return _changes


def _count_changes() -> None:
    """Count every answered ECS/ELBv2 request that is not a read, so that a `TaskPlacer` on this
    process's moto looks again only after something changed. Counted after the answer: a placer that
    reads the count before it looks then never records a change its look could have missed."""
    from moto.core.responses import BaseResponse

    original = BaseResponse.call_action
    if getattr(original, "_bluegreen_counts", False):
        return

    def call_action(self: Any) -> Any:
        global _changes
        result = original(self)
        if getattr(self, "service_name", None) in ("ecs", "elbv2"):
            action = self._get_action() or ""
            if not action.startswith(("Describe", "List", "Get")):
                _changes += 1
        return result

    call_action._bluegreen_counts = True  # type: ignore[attr-defined]
    BaseResponse.call_action = call_action  # type: ignore[method-assign]


def _load_only_the_base_amis() -> None:
    """Speed only: every EC2 backend moto creates (each region, again after every reset) builds an
    image object for each of its bundled ECS-optimized and latest AMIs of that region, about 1,130,
    which was an eighth of a deploy test's CPU. moto's documented MOTO_AMIS_PATH loads a given list
    instead, and the one given here is moto's own base list (44 images, among them the Amazon Linux 2
    image `seed_compute.find_ami` picks). Set before moto's EC2 models are imported, else their base
    list is the same one; a value the caller set wins."""
    if "MOTO_AMIS_PATH" in os.environ:
        return
    from moto import __version__ as moto_version
    from moto.utilities.utils import load_resource

    # per moto version (its list and format may change) and user (another's file may not be readable)
    path = os.path.join(tempfile.gettempdir(), f"bluegreen-moto-{moto_version}-amis-{os.getuid()}.json")
    if not os.path.exists(path):
        tmp = f"{path}.{os.getpid()}"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(load_resource("moto.ec2.models.amis", "../resources/amis.json"), f)
        os.replace(tmp, path)  # atomic: parallel test workers may write it at once
    os.environ["MOTO_AMIS_PATH"] = path


def _remember_backends_by_host() -> None:
    """Speed only, no behaviour: moto's server finds the backend of every request by listing its
    own package folder and trying some hundreds of URL patterns on the Host header, under one lock
    (`DomainDispatcherApplication.get_backend_for_host`). The answer depends on the host alone and
    the patterns never change, so it is remembered per host: 5.6 ms of CPU per simple request
    instead of 7.1 (client and server in one process, 600 requests)."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    original = DomainDispatcherApplication.get_backend_for_host
    known: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = original(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


@dataclass
class Emulator:
    """A moto server on loopback; `endpoint_url` is what boto3 (and AWS_ENDPOINT_URL) should use."""

    server: Any
    endpoint_url: str
    world: World | None = None

    @classmethod
    def start(cls, port: int = 0, *, realistic: bool = False, clock: Clock | None = None,
              timings: Timings | None = None) -> "Emulator":
        """moto's server on 127.0.0.1; `realistic` adds the world, on `clock` (else the scaled
        clock the harness set in the environment, else real time)."""
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request is noise here
        patch_moto()
        os.environ.setdefault("MOTO_ECS_SERVICE_RUNNING", "0")
        world = None
        if realistic:
            world = activate(World(clock or from_environment() or RealClock(), timings=timings))
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        host, bound = server.get_host_and_port()
        return cls(server=server, endpoint_url=f"http://{host}:{bound}", world=world)

    def stop(self) -> None:
        self.server.stop()
        if self.world is not None:
            deactivate(self.world)


@dataclass
class TaskPlacer:
    """Registers each ECS service's running tasks as targets of its target groups (what ECS would do)."""

    aws: Aws
    interval: float = 0.2
    # `changes` of the emulator this placer works on when it runs in this process: the placer then
    # looks only after a change (each look is about five requests). None: look every interval.
    changes: Callable[[], int] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "TaskPlacer":
        # Its own client log: these calls are the emulator's, not the tool's.
        self.aws = Aws(self.aws.region, endpoint_url=self.aws.endpoint_url)
        self._thread = threading.Thread(target=self._loop, name="task-placer", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> "TaskPlacer":
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _loop(self) -> None:
        synced_at: int | None = None
        while not self._stop.wait(self.interval):
            count = self.changes() if self.changes is not None else None
            if count is not None and count == synced_at:
                continue
            try:
                self.sync()
            except Exception:  # the emulator may be resetting between tests; try again next tick
                continue
            synced_at = count  # read before the look: a change during it brings another look

    def sync(self) -> None:
        if simulating() is not None:  # the realistic world's ECS registers its own tasks
            return
        ecs, elb = self.aws.client("ecs"), self.aws.client("elbv2")
        for cluster in ecs.list_clusters().get("clusterArns", []):
            arns = ecs.list_services(cluster=cluster).get("serviceArns", [])
            for i in range(0, len(arns), 10):
                for service in ecs.describe_services(cluster=cluster, services=arns[i:i + 10]).get("services", []):
                    self._place(elb, service)

    def _place(self, elb: Any, service: dict[str, Any]) -> None:
        count = service.get("desiredCount", 0)
        for lb in service.get("loadBalancers", []):
            arn, port = lb.get("targetGroupArn"), lb.get("containerPort")
            if not arn:
                continue
            wanted = {_task_ip(service["serviceArn"], n) for n in range(count)}
            current = {d["Target"]["Id"] for d in elb.describe_target_health(TargetGroupArn=arn)["TargetHealthDescriptions"]}
            if wanted - current:
                elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": port} for ip in wanted - current])
            if current - wanted:
                elb.deregister_targets(TargetGroupArn=arn, Targets=[{"Id": ip, "Port": port} for ip in current - wanted])


def _task_ip(service_arn: str, n: int) -> str:
    digest = hashlib.sha256(service_arn.encode()).digest()
    return f"10.{digest[0]}.{digest[1]}.{n + 10}"
