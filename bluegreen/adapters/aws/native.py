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

    def describe(self, arn: str) -> ServiceDeploymentView | None:
        found = self.aws.client("ecs").describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        return view(found[0]) if found else None

    def resume(self, arn: str, hook_id: str, *, roll_back: bool = False) -> None:
        """Answer a PAUSE hook: CONTINUE once our gate passed, ROLLBACK when it failed."""
        self.aws.client("ecs").continue_service_deployment(
            serviceDeploymentArn=arn, hookId=hook_id, action="ROLLBACK" if roll_back else "CONTINUE")

    def roll_back(self, arn: str) -> bool:
        """StopServiceDeployment ROLLBACK; False when the deployment had already finished (nothing to stop)."""
        try:
            self.aws.client("ecs").stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
        except errors.aws_exceptions() as exc:
            if errors.is_conflict(exc):
                return False
            raise
        return True
