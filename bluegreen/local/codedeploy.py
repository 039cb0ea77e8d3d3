"""CodeDeploy that deploys ECS services (the CODE_DEPLOY deployment controller), on the world's clock.

moto stores applications, deployment groups and deployments, but a deployment stays "Created"
forever. Here a deployment of the ECS compute platform runs the lifecycle AWS documents for it
(BeforeInstall, Install, AfterInstall, AllowTestTraffic, AfterAllowTestTraffic, BeforeAllowTraffic,
AllowTraffic, AfterAllowTraffic):

- Install starts the replacement task set: the service's desired count of (made-up) task addresses
  registered in the deployment group's target group that production does not forward to; it ends
  when they are healthy, and fails when one is unhealthy (an image marked by the test).
- AllowTestTraffic points the test listener at the replacement; with `deploymentReadyOption`
  `STOP_DEPLOYMENT` the deployment then stands `Ready` until ContinueDeployment (READY_WAIT), and
  is stopped when `waitTimeInMinutes` passes without one.
- AllowTraffic moves the production listener as the deployment configuration says: all at once,
  or canary / linear steps (CodeDeployDefault.ECSCanary10Percent5Minutes ...).
- Then the original task set is kept for `terminationWaitTimeInMinutes` (ContinueDeployment with
  TERMINATION_WAIT skips the rest) and deregistered; the deployment is `Succeeded`.
- StopDeployment (and a failure, with automatic rollback on DEPLOYMENT_FAILURE) puts both
  listeners back on the original target group, deregisters the replacement and records the
  rollback as a deployment of its own (creator `codeDeployRollback`) in `rollbackInfo`.

Lifecycle hooks in the AppSpec name Lambda functions; the emulator runs none (see DIVERGENCES.md)
and reports each hook's event as it passes. Everything only while a world is active.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from bluegreen.local import elb
from bluegreen.local import world as worlds

EVENTS = ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
          "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
# Predefined ECS deployment configurations: (first share in %, then every `minutes` another `step` %).
CONFIGS: dict[str, tuple[int, float, int]] = {
    "CodeDeployDefault.ECSAllAtOnce": (100, 0, 0),
    "CodeDeployDefault.ECSCanary10Percent5Minutes": (10, 5, 90),
    "CodeDeployDefault.ECSCanary10Percent15Minutes": (10, 15, 90),
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": (10, 1, 10),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": (10, 3, 10),
}
HOOK_PAUSE = 1.0  # seconds an (unimplemented) hook event takes, so events have distinct times
_addresses = itertools.count(1)


class CodeDeployError(Exception):
    """A CodeDeploy client error (code and message, as botocore's service model names them)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Event:
    name: str
    status: str = "Pending"  # Pending | InProgress | Succeeded | Failed | Skipped
    start: float | None = None
    end: float | None = None


@dataclass(eq=False)  # identity: the world keys its schedules by the simulation
class DeploymentSim:
    """One ECS deployment's progress; `info` is moto's DeploymentInfo (answered from here)."""

    world: worlds.World
    info: Any
    codedeploy: Any
    ecs: Any
    elbv2: Any
    service: Any
    task_definition: str
    original_tg: str
    replacement_tg: str
    prod_listeners: list[str]
    test_listeners: list[str]
    events: list[Event] = field(default_factory=lambda: [Event(n) for n in EVENTS])
    targets: list[tuple[str, int]] = field(default_factory=list)
    original_targets: list[tuple[str, int]] = field(default_factory=list)
    ready_since: float | None = None
    terminate_at: float | None = None
    replacement_weight: int = 0

    # --- lifecycle ------------------------------------------------------------------------

    def begin(self) -> None:
        self._status("InProgress")
        self.info.start_time = self.world.stamp().isoformat()
        self._next(0)

    def _next(self, index: int) -> None:
        if self.info.status not in ("InProgress", "Ready"):
            return
        if index >= len(EVENTS):
            return self._wait_termination()
        event = self.events[index]
        event.status, event.start = "InProgress", self.world.now()
        getattr(self, f"_on_{EVENTS[index].lower()}", self._hook)(index)

    def _done(self, index: int, delay: float = 0.0) -> None:
        at = self.world.now() + delay

        def finish() -> None:
            if self.info.status not in ("InProgress", "Ready"):
                return
            self.events[index].status, self.events[index].end = "Succeeded", self.world.now()
            self._next(index + 1)
        self.world.schedule(at, (self, "event", index), finish)

    def _hook(self, index: int) -> None:
        self._done(index, HOOK_PAUSE)

    def _on_install(self, index: int) -> None:
        ok = self.world.images.behaviour(*self._images()) == worlds.STARTS
        tg = self.elbv2.target_groups[self.replacement_tg]
        port = _container_port(self.info) or 80
        for _ in range(max(1, self.service.desired_count)):
            ip = f"10.9.{next(_addresses) // 250}.{next(_addresses) % 250 + 2}"
            elb.expect(tg, ip, ok)
            self.elbv2.register_targets(self.replacement_tg, [{"Id": ip, "Port": port}])
            self.targets.append((ip, port))
        self._watch_install(index)

    def _watch_install(self, index: int) -> None:
        tg = self.elbv2.target_groups[self.replacement_tg]
        states = [(elb.target_health(tg, ip) or (elb.INITIAL,))[0] for ip, _ in self.targets]
        if any(s == elb.UNHEALTHY for s in states):
            return self.fail(index, "ECS_UPDATE_ERROR", "The ECS service cannot reach a steady state: the "
                             f"replacement task set's targets are unhealthy in {tg.name}.")
        if all(s in (elb.HEALTHY, elb.UNUSED) for s in states):
            return self._done(index)
        later = [c for ip, _ in self.targets if (c := elb.next_change(tg, ip)) is not None]
        at = min(later) if later else self.world.now() + 10
        self.world.schedule(at, (self, "install"), lambda: self._watch_install(index))

    def _on_allowtesttraffic(self, index: int) -> None:
        for arn in self.test_listeners:
            self._forward(arn, 100)
        self._done(index)

    def _on_beforeallowtraffic(self, index: int) -> None:
        ready = (self.info.deployment_group.blue_green_deployment_configuration or {}).get("deploymentReadyOption", {})
        if ready.get("actionOnTimeout") != "STOP_DEPLOYMENT":
            return self._hook(index)
        self._status("Ready")
        self.ready_since = self.world.now()
        minutes = float(ready.get("waitTimeInMinutes", 0))

        def timeout() -> None:
            if self.info.status == "Ready":
                self.fail(index, "TIMEOUT", "The deployment timed out while waiting for the replacement task set "
                          "to be rerouted: ContinueDeployment was not called in time.", stopped=True)
        self.world.schedule(self.world.now() + minutes * 60, (self, "ready"), timeout)

    def proceed(self) -> None:
        """ContinueDeployment READY_WAIT: the reroute was approved."""
        index = EVENTS.index("BeforeAllowTraffic")
        self._status("InProgress")
        self.ready_since = None
        self._done(index)

    def _on_allowtraffic(self, index: int) -> None:
        first, minutes, step = CONFIGS.get(str(self.info.deployment_config_name), CONFIGS["CodeDeployDefault.ECSAllAtOnce"])
        self._shift(index, first, minutes, step)

    def _shift(self, index: int, weight: int, minutes: float, step: int) -> None:
        if self.info.status != "InProgress":
            return
        weight = min(100, weight)
        for arn in self.prod_listeners:
            self._forward(arn, weight)
        self.replacement_weight = weight
        if weight >= 100:
            return self._done(index)
        self.world.schedule(self.world.now() + minutes * 60, (self, "shift"),
                            lambda: self._shift(index, weight + step, minutes, step))

    def _wait_termination(self) -> None:
        terminate = (self.info.deployment_group.blue_green_deployment_configuration or {}).get(
            "terminateBlueInstancesOnDeploymentSuccess", {})
        minutes = float(terminate.get("terminationWaitTimeInMinutes", 0))
        self.info.instance_termination_wait_time_started = True
        self.terminate_at = self.world.now() + minutes * 60
        self.world.schedule(self.terminate_at, (self, "terminate"), self.terminate_original)

    def terminate_original(self) -> None:
        if self.info.status != "InProgress":
            return
        self.elbv2.deregister_targets(self.original_tg, [{"Id": i, "Port": p} for i, p in self.original_targets])
        self.service.task_definition = self.task_definition
        self._status("Succeeded")
        self.info.complete_time = self.world.stamp().isoformat()
        self.codedeploy.record_success(self)

    # --- stopping and failing ---------------------------------------------------------------

    def fail(self, index: int | None, code: str, message: str, *, stopped: bool = False) -> None:
        if index is not None:
            self.events[index].status, self.events[index].end = "Failed", self.world.now()
        self.info.error = {"code": code, "message": message}
        rollback = self.info.deployment_group.auto_rollback_configuration or {}
        wanted = rollback.get("enabled") and ("DEPLOYMENT_FAILURE" in rollback.get("events", []) or stopped)
        self._finish("Stopped" if stopped else "Failed", bool(wanted))

    def stop(self, rollback: bool) -> None:
        self.info.error = {"code": "MANUAL_STOP", "message": "The deployment was stopped by a user."}
        self._finish("Stopped", rollback)

    def _finish(self, status: str, rollback: bool) -> None:
        for event in self.events:
            if event.status in ("Pending", "InProgress"):
                event.status = "Skipped" if event.status == "Pending" else "Failed"
                event.end = self.world.now()
        self._status(status)
        self.info.complete_time = self.world.stamp().isoformat()
        if rollback:
            for arn in self.prod_listeners + self.test_listeners:
                self._forward(arn, 0)
            self.replacement_weight = 0
            self.elbv2.deregister_targets(self.replacement_tg, [{"Id": i, "Port": p} for i, p in self.targets])
            self.codedeploy.record_rollback(self)

    # --- helpers --------------------------------------------------------------------------------

    def _status(self, status: str) -> None:
        self.info.status = status

    def _forward(self, listener_arn: str, replacement_weight: int) -> None:
        groups = [{"TargetGroupArn": self.original_tg, "Weight": 100 - replacement_weight},
                  {"TargetGroupArn": self.replacement_tg, "Weight": replacement_weight}]
        self.elbv2.modify_listener(listener_arn, actions=[{"Type": "forward", "ForwardConfig": {
            "TargetGroups": groups, "TargetGroupStickinessConfig": {"Enabled": False}}}])

    def _images(self) -> list[str]:
        definition = self.ecs.describe_task_definition(self.task_definition)
        return [c.get("image", "") for c in definition.container_definitions if c.get("essential", True)]

    def target_view(self) -> dict[str, Any]:
        """GetDeploymentTarget's `ecsTarget`."""
        cluster, name = self.service.cluster_name, self.service.name
        status = {"Ready": "Ready", "Stopped": "Failed"}.get(self.info.status, self.info.status)
        return {
            "deploymentId": self.info.deployment_id, "targetId": f"{cluster}:{name}", "targetArn": self.service.arn,
            "lastUpdatedAt": self.world.now(), "status": status,
            "lifecycleEvents": [_event_view(e) for e in self.events],
            "taskSetsInfo": [
                {"identifer": "original", "desiredCount": self.service.desired_count, "status": "ACTIVE",
                 "trafficWeight": float(100 - self.replacement_weight),
                 "targetGroup": {"name": self.elbv2.target_groups[self.original_tg].name}, "taskSetLabel": "Blue"},
                {"identifer": "replacement", "desiredCount": self.service.desired_count, "status": "PRIMARY",
                 "trafficWeight": float(self.replacement_weight),
                 "targetGroup": {"name": self.elbv2.target_groups[self.replacement_tg].name}, "taskSetLabel": "Green"},
            ],
        }


def _event_view(event: Event) -> dict[str, Any]:
    out: dict[str, Any] = {"lifecycleEventName": event.name, "status": event.status}
    if event.start is not None:
        out["startTime"] = event.start
    if event.end is not None:
        out["endTime"] = event.end
    return out


def appspec(info: Any) -> dict[str, Any]:
    """The AppSpec of a deployment's AppSpecContent revision (JSON; YAML when PyYAML reads it)."""
    revision = info.revision if isinstance(info.revision, dict) else {}
    content = (revision.get("appSpecContent") or {}).get("content") or ""
    try:
        return json.loads(content)
    except ValueError:
        import yaml

        loaded = yaml.safe_load(content)
        return loaded if isinstance(loaded, dict) else {}


def _target_service(spec: dict[str, Any]) -> dict[str, Any]:
    for resource in spec.get("Resources") or []:
        for value in (resource or {}).values():
            if isinstance(value, dict) and value.get("Type") == "AWS::ECS::Service":
                return value.get("Properties") or {}
    return {}


def _container_port(info: Any) -> int | None:
    lb = _target_service(appspec(info)).get("LoadBalancerInfo") or {}
    return int(lb["ContainerPort"]) if lb.get("ContainerPort") else None
