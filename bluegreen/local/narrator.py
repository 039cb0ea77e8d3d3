"""What the demo's world does while bluegreen works: target health changes and ECS service events.

A thread that looks at the emulator the way a person would in the AWS console (target groups'
health, the services' event feeds) and reports what changed, so the demo shows green's targets
going initial -> healthy and blue's draining after it is scaled down.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from bluegreen.adapters.aws.session import Aws
from bluegreen.events import Events


@dataclass
class Narrator:
    aws: Aws
    say: Events
    cluster: str
    services: tuple[str, ...]
    target_groups: tuple[str, ...]  # names
    interval: float = 0.05
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _health: dict[tuple[str, str], str] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)

    def __enter__(self) -> "Narrator":
        # Its own client log: these calls are the demo's, not the tool's.
        self.aws = Aws(self.aws.region, endpoint_url=self.aws.endpoint_url)
        self.look(report=False)  # what was there before the deployment is not news
        self._thread = threading.Thread(target=self._loop, name="demo-narrator", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self.look()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.look()
            except Exception:  # the emulator is going away; the next look (if any) will tell
                continue

    def look(self, report: bool = True) -> None:
        self._targets(report)
        self._events(report)

    def _targets(self, report: bool) -> None:
        elbv2 = self.aws.client("elbv2")
        groups = elbv2.describe_target_groups(Names=list(self.target_groups))["TargetGroups"]
        for tg in groups:
            name = tg["TargetGroupName"]
            found = elbv2.describe_target_health(TargetGroupArn=tg["TargetGroupArn"])["TargetHealthDescriptions"]
            now = {(name, d["Target"]["Id"]): d["TargetHealth"]["State"] for d in found}
            for key, state in sorted(now.items()):
                before = self._health.get(key)
                if before != state and report:
                    self.say.emit("demo.target", f"target group {name}: {key[1]} {before or 'registered'} -> {state}")
            for key in sorted(set(self._health) - set(now)):
                if key[0] == name and report:
                    self.say.emit("demo.target", f"target group {name}: {key[1]} {self._health[key]} -> gone")
            self._health = {k: v for k, v in self._health.items() if k[0] != name} | now

    def _events(self, report: bool) -> None:
        found = self.aws.client("ecs").describe_services(cluster=self.cluster, services=list(self.services))
        for service in found["services"]:
            for event in reversed(service.get("events", [])):
                if event["id"] in self._seen:
                    continue
                self._seen.add(event["id"])
                if report:
                    self.say.emit("demo.ecs", f"ECS: {_shorten(event['message'])}")


def _shorten(message: str) -> str:
    """Target group ARNs and task ids are long; the demo's reader needs their names."""
    out = []
    for word in message.split(" "):
        core = word.strip("().")
        if core.startswith("arn:aws:elasticloadbalancing:") and "targetgroup/" in core:
            word = word.replace(core, core.split("targetgroup/")[1].split("/")[0])
        elif len(core) == 36 and core.count("-") == 4:  # a task id
            word = word.replace(core, core[:8])
        out.append(word)
    return " ".join(out)


def names(spec: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(ECS services, target group names) the demo spec deploys between."""
    ecs = spec.ecs
    services = (ecs.services.of("blue"), ecs.services.of("green"))
    groups = tuple(g for r in spec.routes for g in (r.blue_target_group, r.green_target_group))
    return services, groups
