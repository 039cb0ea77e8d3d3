"""What bluegreen knows about a CodeDeploy ECS deployment group and one deployment's progress (frozen
data the adapter fills and the strategy reads), and the AppSpec it sends.

CodeDeploy's ECS lifecycle, in order: BeforeInstall, Install (the replacement task set starts in
the second target group), AfterInstall, AllowTestTraffic (the test listener moves), AfterAllowTestTraffic,
BeforeAllowTraffic (a group that waits stands `Ready` here until ContinueDeployment), AllowTraffic
(the production listener moves, at once or in canary / linear steps), AfterAllowTraffic; then the
original task set is kept for the group's termination wait.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

LIFECYCLE = ("BeforeInstall", "Install", "AfterInstall", "AllowTestTraffic", "AfterAllowTestTraffic",
             "BeforeAllowTraffic", "AllowTraffic", "AfterAllowTraffic")
HOOKABLE = ("BeforeInstall", "AfterInstall", "AfterAllowTestTraffic", "BeforeAllowTraffic", "AfterAllowTraffic")
DONE = frozenset({"Succeeded", "Failed", "Stopped"})


@dataclass(frozen=True)
class DeploymentGroup:
    """An ECS deployment group as discovery found it."""

    application: str
    name: str
    cluster: str
    service: str
    config: str                       # CodeDeployDefault.ECSAllAtOnce, ...
    waits_for_reroute: bool           # deploymentReadyOption STOP_DEPLOYMENT: Ready until ContinueDeployment
    ready_wait_minutes: int           # how long it stands Ready before CodeDeploy stops it
    termination_wait_minutes: int     # the original task set kept after the reroute
    target_groups: tuple[str, ...]    # names
    prod_listeners: tuple[str, ...]
    test_listeners: tuple[str, ...]
    rollback_on_stop: bool            # autoRollbackConfiguration covers a stop on request
    service_role_arn: str


@dataclass(frozen=True)
class LifecycleEvent:
    name: str
    status: str  # Pending | InProgress | Succeeded | Failed | Skipped


@dataclass(frozen=True)
class DeploymentProgress:
    """One look at a deployment (GetDeployment plus its ECS target)."""

    deployment_id: str
    status: str                       # Created | Queued | InProgress | Ready | Succeeded | Failed | Stopped
    events: tuple[LifecycleEvent, ...] = ()
    replacement_weight: float = 0.0   # % of production traffic on the replacement task set
    termination_wait_started: bool = False
    error: str | None = None          # "CODE: message"
    rollback_deployment: str | None = None
    task_definition: str | None = None

    @property
    def done(self) -> bool:
        return self.status in DONE

    @property
    def ready(self) -> bool:
        return self.status == "Ready"

    def current_event(self) -> str | None:
        return next((e.name for e in self.events if e.status == "InProgress"), None)


@dataclass(frozen=True)
class AppSpec:
    """The ECS AppSpec of one deployment: the revision, the container and port traffic goes to, and
    the spec's Lambda hooks by lifecycle event."""

    task_definition: str
    container: str
    port: int
    hooks: tuple[tuple[str, str], ...] = field(default=())

    def content(self) -> str:
        """JSON (CodeDeploy reads YAML or JSON); keys as AWS documents them."""
        body: dict[str, object] = {"version": 0.0, "Resources": [{"TargetService": {
            "Type": "AWS::ECS::Service", "Properties": {
                "TaskDefinition": self.task_definition,
                "LoadBalancerInfo": {"ContainerName": self.container, "ContainerPort": self.port}}}}]}
        if self.hooks:
            body["Hooks"] = [{event: function} for event, function in self.hooks]
        return json.dumps(body, sort_keys=True)


def deployment_group(group: Mapping[str, Any]) -> DeploymentGroup:
    """The fields bluegreen uses of GetDeploymentGroup's `deploymentGroupInfo`."""
    blue_green = group.get("blueGreenDeploymentConfiguration") or {}
    ready = blue_green.get("deploymentReadyOption") or {}
    terminate = blue_green.get("terminateBlueInstancesOnDeploymentSuccess") or {}
    pairs = (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or [{}]
    pair = pairs[0]
    rollback = group.get("autoRollbackConfiguration") or {}
    service = (group.get("ecsServices") or [{}])[0]
    return DeploymentGroup(
        application=group["applicationName"], name=group["deploymentGroupName"],
        cluster=service.get("clusterName", ""), service=service.get("serviceName", ""),
        config=group.get("deploymentConfigName") or "CodeDeployDefault.ECSAllAtOnce",
        waits_for_reroute=ready.get("actionOnTimeout") == "STOP_DEPLOYMENT",
        ready_wait_minutes=int(ready.get("waitTimeInMinutes") or 0),
        termination_wait_minutes=int(terminate.get("terminationWaitTimeInMinutes") or 0),
        target_groups=tuple(t["name"] for t in pair.get("targetGroups") or []),
        prod_listeners=tuple((pair.get("prodTrafficRoute") or {}).get("listenerArns") or []),
        test_listeners=tuple((pair.get("testTrafficRoute") or {}).get("listenerArns") or []),
        rollback_on_stop=bool(rollback.get("enabled")) and "DEPLOYMENT_STOP_ON_REQUEST" in (rollback.get("events") or []),
        service_role_arn=group.get("serviceRoleArn", ""))
