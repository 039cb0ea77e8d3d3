"""ECS's built-in blue/green service deployments, as the `ecs-native` strategy reads and steers them.

Read: the service's latest service deployment (status, lifecycle stage, the PAUSE hooks awaiting
action, the production weight on the new revision, ECS's own rollback reason). Steer:
ContinueServiceDeployment CONTINUE / ROLLBACK at a hook, StopServiceDeployment ROLLBACK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bluegreen.adapters.aws import errors
from bluegreen.adapters.aws.session import Aws
from bluegreen.errors import StepFailed

FINISHED = frozenset({"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"})
ROLLED_BACK = frozenset({"ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"})


@dataclass(frozen=True)
class ServiceDeploymentView:
    arn: str
    status: str
    stage: str | None
    reason: str | None
    rollback_reason: str | None
    awaiting: tuple[str, ...]        # ids of the PAUSE hooks waiting for ContinueServiceDeployment
    production_weight: float | None  # percent of production traffic on the new revision
    target_revision: str | None

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def rolled_back(self) -> bool:
        """ECS rolled it back (by itself, or because we asked): traffic is on the old revision."""
        return self.status in ROLLED_BACK


def view(found: dict[str, Any]) -> ServiceDeploymentView:
    """A DescribeServiceDeployments entry, read into what the strategy decides on."""
    target = found.get("targetServiceRevision") or {}
    hooks = found.get("lifecycleHookDetails") or []
    return ServiceDeploymentView(
        arn=found["serviceDeploymentArn"], status=found.get("status", ""), stage=found.get("lifecycleStage"),
        reason=found.get("statusReason"), rollback_reason=(found.get("rollback") or {}).get("reason"),
        awaiting=tuple(h["hookId"] for h in hooks if h.get("status") == "AWAITING_ACTION" and h.get("hookId")),
        production_weight=target.get("requestedProductionTrafficWeight"), target_revision=target.get("arn"))


class NativeDeployments:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    def latest(self, cluster: str, service: str) -> ServiceDeploymentView | None:
        """The service's newest service deployment, or None when it has had none."""
        ecs = self.aws.client("ecs")
        listed = ecs.list_service_deployments(cluster=cluster, service=service, maxResults=1)["serviceDeployments"]
        return self.describe(listed[0]["serviceDeploymentArn"]) if listed else None

    def start(self, cluster: str, service: str, task_definition: str, desired: int) -> tuple[str, str]:
        """UpdateService to `task_definition`: (the service deployment ECS started, what happened). Once
        the service runs that revision already, its current deployment is the one (a resumed start)."""
        ecs = self.aws.client("ecs")
        now = ecs.describe_services(cluster=cluster, services=[service])["services"][0]
        if now["taskDefinition"] == task_definition and now.get("currentServiceDeployment"):
            arn = now["currentServiceDeployment"]
            return arn, f"{service} is already deploying {_short(task_definition)} ({_short(arn)})"
        answer = ecs.update_service(cluster=cluster, service=service, taskDefinition=task_definition,
                                    desiredCount=desired)["service"]
        arn = answer.get("currentServiceDeployment") or self._newest(cluster, service)
        if not arn:
            raise StepFailed(f"ECS started no service deployment for {service}: is its deploymentConfiguration "
                                    "still a blue/green strategy?")
        return arn, (f"{service}: {_short(now['taskDefinition'])} x{now['desiredCount']} -> {_short(task_definition)} "
                     f"x{desired}; ECS service deployment {_short(arn)}")

    def current_for(self, cluster: str, service: str, task_definition: str) -> str | None:
        """The service's current deployment, if the service is on `task_definition` (None: never started)."""
        now = self.aws.client("ecs").describe_services(cluster=cluster, services=[service])["services"]
        if not now or now[0]["taskDefinition"] != task_definition:
            return None
        return now[0].get("currentServiceDeployment") or self._newest(cluster, service)

    def _newest(self, cluster: str, service: str) -> str | None:
        listed = self.aws.client("ecs").list_service_deployments(cluster=cluster, service=service,
                                                                 maxResults=1)["serviceDeployments"]
        return listed[0]["serviceDeploymentArn"] if listed else None

    def describe(self, arn: str) -> ServiceDeploymentView | None:
        found = self.aws.client("ecs").describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        return view(found[0]) if found else None

    def resume(self, arn: str, hook_id: str, *, roll_back: bool = False) -> None:
        """Answer a PAUSE hook: CONTINUE once our gate passed, ROLLBACK when it failed. A retry whose
        first try was applied (its answer lost) finds the hook no longer waiting: that is success."""
        try:
            self.aws.client("ecs").continue_service_deployment(
                serviceDeploymentArn=arn, hookId=hook_id, action="ROLLBACK" if roll_back else "CONTINUE")
        except errors.aws_exceptions() as exc:
            if errors.kind_of(exc) is not errors.Kind.INVALID:
                raise
            found = self.aws.client("ecs").describe_service_deployments(
                serviceDeploymentArns=[arn])["serviceDeployments"]
            hooks = (found[0].get("lifecycleHookDetails") or []) if found else []
            if any(h.get("hookId") == hook_id and h.get("status") == "AWAITING_ACTION" for h in hooks):
                raise  # it still waits: the call itself was refused

    def roll_back(self, arn: str) -> bool:
        """StopServiceDeployment ROLLBACK; False when the deployment had already finished (nothing to stop)."""
        try:
            self.aws.client("ecs").stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
        except errors.aws_exceptions() as exc:
            if errors.is_conflict(exc):
                return False
            raise
        return True


def _short(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]
