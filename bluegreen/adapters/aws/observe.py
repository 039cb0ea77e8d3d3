"""Read-only views of live health for the gates: ECS deployments, target health, alarms, groups."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bluegreen.adapters.aws.actions import weighted_record_sets
from bluegreen.adapters.aws.rewrites import forward_weights
from bluegreen.adapters.aws.session import Aws


@dataclass(frozen=True)
class ServiceStatus:
    desired: int
    running: int
    pending: int
    task_definition: str  # the service's; ECS puts the old one back when it rolls a deployment back
    primary_task_definition: str
    rollout_state: str | None
    rollout_reason: str | None
    deployments: int
    events: tuple[str, ...]
    failed_reason: str | None = None  # why a deployment of the service FAILED (the circuit breaker's words)


class AwsObserver:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    def service(self, cluster: str, service: str) -> ServiceStatus:
        found = self.aws.client("ecs").describe_services(cluster=cluster, services=[service])["services"]
        if not found:
            raise LookupError(f"ECS service {service} not found in {cluster}")
        s = found[0]
        primary = next((d for d in s.get("deployments", []) if d.get("status") == "PRIMARY"), {})
        return ServiceStatus(
            desired=s.get("desiredCount", 0), running=s.get("runningCount", 0), pending=s.get("pendingCount", 0),
            task_definition=s.get("taskDefinition", ""),
            primary_task_definition=primary.get("taskDefinition", s.get("taskDefinition", "")),
            rollout_state=primary.get("rolloutState"), rollout_reason=primary.get("rolloutStateReason"),
            deployments=len(s.get("deployments", [])),
            events=tuple(e.get("message", "") for e in s.get("events", [])[:5]),
            failed_reason=next((d.get("rolloutStateReason") for d in s.get("deployments", [])
                                if d.get("rolloutState") == "FAILED"), None))

    def stopped_reasons(self, cluster: str, service: str, limit: int = 5) -> list[str]:
        """Why the service's recent tasks stopped: the first thing a person asks after a failure."""
        ecs = self.aws.client("ecs")
        arns = ecs.list_tasks(cluster=cluster, serviceName=service, desiredStatus="STOPPED").get("taskArns", [])[:limit]
        if not arns:
            return []
        tasks = ecs.describe_tasks(cluster=cluster, tasks=arns).get("tasks", [])
        return [f"{t['taskArn'].rsplit('/', 1)[-1]}: {t.get('stoppedReason', 'no reason given')}" for t in tasks
                if t.get("group", f"service:{service}") == f"service:{service}"]

    def target_health(self, target_group_arn: str) -> list[tuple[str, str, str | None]]:
        """(target id, state, reason) of every registered target."""
        found = self.aws.client("elbv2").describe_target_health(TargetGroupArn=target_group_arn)
        return [(d["Target"]["Id"], d["TargetHealth"]["State"], d["TargetHealth"].get("Reason"))
                for d in found.get("TargetHealthDescriptions", [])]

    def alarms(self, names: list[str], *, at_start: bool = False) -> dict[str, str]:
        """Name -> StateValue. `at_start`: the deploy's pre-flight check, which may take the states
        discovery read a moment ago (`Aws.take_alarms`) instead of reading them again."""
        if at_start and (seen := self.aws.take_alarms(names)) is not None:
            return seen
        found: dict[str, str] = {}
        cw = self.aws.client("cloudwatch")
        for i in range(0, len(names), 100):
            for alarm in cw.describe_alarms(AlarmNames=names[i:i + 100]).get("MetricAlarms", []):
                found[alarm["AlarmName"]] = alarm["StateValue"]
        return found

    def group(self, name: str) -> dict[str, Any]:
        groups = self.aws.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[name])
        if not groups["AutoScalingGroups"]:
            raise LookupError(f"Auto Scaling group {name} not found")
        return groups["AutoScalingGroups"][0]

    def elb_instance_states(self, elb: str) -> dict[str, str]:
        found = self.aws.client("elb").describe_instance_health(LoadBalancerName=elb)
        return {i["InstanceId"]: i["State"] for i in found.get("InstanceStates", [])}

    def listener_weights(self, listener_arn: str, rule_arn: str | None) -> dict[str, int]:
        """Target group ARN -> weight of the forward action of a listener's default action or rule."""
        elb = self.aws.client("elbv2")
        if rule_arn:
            actions = elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]["Actions"]
        else:
            actions = elb.describe_listeners(ListenerArns=[listener_arn])["Listeners"][0]["DefaultActions"]
        return forward_weights(actions)

    def record_weights(self, zone_id: str, record: str, type_: str) -> dict[str, int]:
        """Set identifier -> weight of the weighted record sets named `record`."""
        live = weighted_record_sets(self.aws.client("route53"), zone_id, record, type_)
        return {set_id: int(found.get("Weight", 0)) for set_id, found in live.items()}

    def health_check(self, target_group_arn: str) -> dict[str, Any]:
        """The target group as DescribeTargetGroups answers it (its HealthCheck* fields, Matcher)."""
        found = self.aws.client("elbv2").describe_target_groups(TargetGroupArns=[target_group_arn])["TargetGroups"]
        if not found:
            raise LookupError(f"target group {target_group_arn} not found")
        return found[0]
