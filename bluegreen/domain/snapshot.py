"""What discovery read from AWS: frozen, plain data the planner decides from without calling AWS.

Missing resources are not exceptions: they are absent from the maps and explained in `findings`.
`facts()` flattens the parts of the state a plan depends on, so a saved plan can be checked for
drift at apply time and the refusal can say exactly what changed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Mapping

from bluegreen.domain.codedeploy import DeploymentGroup
from bluegreen.domain.native import NativeSetup

Weights = tuple[tuple[str, int], ...]  # (target group ARN, weight), in listener order


@dataclass(frozen=True)
class Finding:
    severity: str  # "error" stops an apply; "warning" is shown
    subject: str
    message: str
    # "missing": AWS says it does not exist; "gone": it exists but is unusable (or its cluster is gone);
    # "unreadable": the read failed; "" for anything else
    kind: str = ""

    @property
    def line(self) -> str:
        """One readable line: the message, prefixed with the subject only when it does not already name it."""
        return self.message if self.subject.lower() in self.message.lower() else f"{self.subject}: {self.message}"


@dataclass(frozen=True)
class TargetHealth:
    target_id: str
    port: int | None
    state: str
    reason: str | None = None


@dataclass(frozen=True)
class TargetGroup:
    arn: str
    name: str
    protocol: str | None
    port: int | None
    target_type: str
    health_check_interval: int
    healthy_threshold: int
    deregistration_delay: int
    load_balancer_arns: tuple[str, ...]
    targets: tuple[TargetHealth, ...] = ()
    # (healthy, unhealthy) from CloudWatch's HealthyHostCount / UnHealthyHostCount when a plan counted
    # the group's targets instead of reading each one (`targets` is then empty)
    host_counts: tuple[int, int] | None = None

    @property
    def healthy_count(self) -> int:
        if self.host_counts is not None:
            return self.host_counts[0]
        return sum(1 for t in self.targets if t.state == "healthy")

    @property
    def health_budget(self) -> float:
        """How long a new target needs at best to turn healthy: interval x healthy threshold."""
        return float(self.health_check_interval * self.healthy_threshold)


@dataclass(frozen=True)
class Rule:
    arn: str
    priority: int | None  # None for the listener's default action
    forward: Weights  # raw weights: a plain forward to one target group reads as weight 1 (100%)
    actions: tuple[str, ...] = ()  # every action's type, in order (authenticate-oidc, forward, ...)
    stickiness: int | None = None  # seconds, when the forward's target group stickiness is on


@dataclass(frozen=True)
class Listener:
    arn: str
    load_balancer: str
    port: int
    protocol: str | None
    default: Rule
    rules: tuple[Rule, ...] = ()

    def rule(self, priority: int | None) -> Rule | None:
        if priority is None:
            return self.default
        return next((r for r in self.rules if r.priority == priority), None)


@dataclass(frozen=True)
class LoadBalancer:
    arn: str
    name: str
    dns_name: str
    type: str


@dataclass(frozen=True)
class EcsDeployment:
    id: str
    status: str  # PRIMARY / ACTIVE / INACTIVE
    task_definition: str
    desired: int
    running: int
    pending: int
    failed_tasks: int
    rollout_state: str | None
    rollout_reason: str | None


@dataclass(frozen=True)
class ScalableTarget:
    """An Application Auto Scaling target of an ECS service's desired count, and what of it is suspended."""

    resource_id: str  # service/<cluster>/<service>
    dimension: str  # ecs:service:DesiredCount
    min_capacity: int
    max_capacity: int
    dynamic_in_suspended: bool = False
    dynamic_out_suspended: bool = False
    scheduled_suspended: bool = False


# What ECS calls its own controller and its rolling strategy: anything else swaps the service by itself.
ECS_CONTROLLER = "ECS"
ROLLING = "ROLLING"


@dataclass(frozen=True)
class EcsService:
    cluster: str
    name: str
    arn: str
    status: str
    task_definition: str
    desired: int
    running: int
    pending: int
    launch_type: str | None
    deployments: tuple[EcsDeployment, ...]
    target_group_arns: tuple[str, ...]
    circuit_breaker: bool
    events: tuple[str, ...] = ()
    deployment_controller: str = ECS_CONTROLLER  # ECS / CODE_DEPLOY / EXTERNAL
    deployment_strategy: str = ROLLING  # ROLLING / BLUE_GREEN / LINEAR / CANARY (ECS controller only)
    load_balancer_names: tuple[str, ...] = ()  # classic ELBs the service registers its tasks with
    scaling: ScalableTarget | None = None  # its Application Auto Scaling target, if it has one
    containers: tuple[tuple[str, int], ...] = ()  # (container, port) its load balancers send traffic to
    native: NativeSetup | None = None  # ECS's built-in blue/green setup (deployment strategy BLUE_GREEN/LINEAR/CANARY)
    codedeploy: DeploymentGroup | None = None  # the CodeDeploy deployment group of a CODE_DEPLOY service
    codedeploy_weights: tuple[tuple[str, int], ...] = ()  # its production listener's forward, as read


@dataclass(frozen=True)
class TaskDefinition:
    arn: str
    family: str
    revision: int
    body: Mapping[str, Any]  # the registration fields, verbatim, so a new revision drops nothing
    tags: tuple[tuple[str, str], ...] = ()

    def container(self, name: str) -> Mapping[str, Any] | None:
        return next((c for c in self.body.get("containerDefinitions", []) if c.get("name") == name), None)


@dataclass(frozen=True)
class AsgInstance:
    instance_id: str
    lifecycle_state: str
    health_status: str
    launch_template_version: str | None


@dataclass(frozen=True)
class AutoScalingGroup:
    name: str
    arn: str
    launch_template_name: str | None
    launch_template_version: str | None
    min_size: int
    max_size: int
    desired: int
    health_check_type: str
    health_check_grace: int
    subnets: tuple[str, ...]
    target_group_arns: tuple[str, ...]
    load_balancer_names: tuple[str, ...]
    suspended: tuple[str, ...]
    instances: tuple[AsgInstance, ...]
    tags: tuple[tuple[str, str], ...] = ()
    user_data: str | None = None  # of the launch template version this group runs

    @property
    def in_service(self) -> int:
        return sum(1 for i in self.instances if i.lifecycle_state == "InService")


@dataclass(frozen=True)
class LaunchTemplate:
    id: str
    name: str
    default_version: int
    latest_version: int
    image_id: str | None
    user_data: str | None  # decoded text


@dataclass(frozen=True)
class ClassicElb:
    name: str
    dns_name: str
    instances: tuple[TargetHealth, ...]


@dataclass(frozen=True)
class DnsRecord:
    zone_id: str
    name: str
    type: str
    set_identifier: str | None
    weight: int | None
    ttl: int | None
    values: tuple[str, ...]  # the resource records, or the alias target's DNS name
    health_check_id: str | None = None
    alias_zone_id: str | None = None  # an alias record's target hosted zone (its TTL is the target's)
    evaluate_target_health: bool | None = None  # alias records only

    @property
    def alias(self) -> bool:
        return self.alias_zone_id is not None


@dataclass(frozen=True)
class ImageInfo:
    repository: str
    repository_exists: bool
    repository_uri: str | None
    tag: str | None
    digest: str | None
    tag_immutable: bool | None = None


@dataclass(frozen=True)
class Snapshot:
    """The live state one spec refers to."""

    service: str
    region: str
    load_balancers: Mapping[str, LoadBalancer] = field(default_factory=dict)
    listeners: tuple[Listener, ...] = ()
    target_groups: Mapping[str, TargetGroup] = field(default_factory=dict)  # by name
    ecs_services: Mapping[str, EcsService] = field(default_factory=dict)  # by service name
    task_definitions: Mapping[str, TaskDefinition] = field(default_factory=dict)  # by ARN
    asgs: Mapping[str, AutoScalingGroup] = field(default_factory=dict)
    launch_templates: Mapping[str, LaunchTemplate] = field(default_factory=dict)
    classic_elbs: Mapping[str, ClassicElb] = field(default_factory=dict)
    dns_zone_id: str | None = None
    dns_records: tuple[DnsRecord, ...] = ()
    alarms: Mapping[str, str] = field(default_factory=dict)  # name -> OK / ALARM / INSUFFICIENT_DATA
    image: ImageInfo | None = None
    roles: Mapping[str, bool] = field(default_factory=dict)  # role ARN -> exists
    roles_in_use: frozenset[str] = frozenset()  # of `roles`: not read, a running task uses them
    secrets: Mapping[str, bool] = field(default_factory=dict)  # reference ARN -> exists (value never read)
    image_parameters: Mapping[str, str] = field(default_factory=dict)  # SSM image parameter -> current value
    findings: tuple[Finding, ...] = ()
    offline: bool = False

    def listener(self, load_balancer: str, port: int) -> Listener | None:
        return next((l for l in self.listeners if l.load_balancer == load_balancer and l.port == port), None)

    def target_group_by_arn(self, arn: str) -> TargetGroup | None:
        return next((tg for tg in self.target_groups.values() if tg.arn == arn), None)

    def facts(self) -> dict[str, str]:
        """The state a plan depends on, flattened; health and alarm states are left out (they move)."""
        out: dict[str, str] = {}
        for l in self.listeners:
            for rule in (l.default, *l.rules):
                where = f"listener {l.load_balancer}:{l.port}" + (f" rule {rule.priority}" if rule.priority else "")
                out[where] = ", ".join(f"{_short(arn)}={w}" for arn, w in rule.forward)
        for s in self.ecs_services.values():
            out[f"ecs service {s.name}"] = f"{_short(s.task_definition)} desired={s.desired}"
            # what the wiring checks relied on: a changed controller or registration makes a saved plan stale
            out[f"ecs service {s.name} wiring"] = (
                f"controller={s.deployment_controller}/{s.deployment_strategy} "
                f"tgs={','.join(sorted(map(_short, s.target_group_arns)))} elbs={','.join(sorted(s.load_balancer_names))}")
            if s.native is not None:
                n = s.native
                out[f"ecs service {s.name} native"] = (
                    f"{n.strategy} bake={n.bake_minutes:g}m pauses={','.join(n.pause_stages())} " + " ".join(
                        f"serving={_short(lb.serving() or 'split')} alternate={_short(lb.alternate_target_group_arn)}"
                        for lb in n.load_balancers))
            if s.codedeploy is not None:
                g = s.codedeploy
                out[f"ecs service {s.name} codedeploy"] = (
                    f"{g.application}/{g.name} {g.config} wait={g.waits_for_reroute} "
                    + ", ".join(f"{_short(arn)}={w}" for arn, w in s.codedeploy_weights))
            if s.scaling is not None:
                t = s.scaling
                out[f"ecs service {s.name} scaling"] = (f"suspended in={t.dynamic_in_suspended} "
                                                        f"out={t.dynamic_out_suspended} scheduled={t.scheduled_suspended}")
        for g in self.asgs.values():
            out[f"asg {g.name}"] = (f"lt={g.launch_template_name}:{g.launch_template_version} "
                                    f"capacity={g.min_size}/{g.desired}/{g.max_size} "
                                    f"tgs={','.join(sorted(map(_short, g.target_group_arns)))} "
                                    f"elbs={','.join(sorted(g.load_balancer_names))}")
        for lt in self.launch_templates.values():
            out[f"launch template {lt.name}"] = f"latest={lt.latest_version}"
        for r in self.dns_records:
            out[f"record {r.name} {r.set_identifier or ''}".strip()] = f"weight={r.weight} ttl={r.ttl} {','.join(r.values)}"
        if self.image and self.image.digest:
            out[f"image {self.image.repository}:{self.image.tag}"] = self.image.digest
        return out

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.facts(), sort_keys=True).encode()).hexdigest()[:16]


def _short(arn: str) -> str:
    """The readable part of an ARN: `...:targetgroup/web-blue/abc` -> `web-blue`, `...:task-definition/web:3` -> `web:3`."""
    if not arn.startswith("arn:"):
        return arn
    parts = arn.split(":", 5)[5].split("/")
    return parts[1] if parts[0] == "targetgroup" and len(parts) > 1 else parts[-1]


def diff_facts(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    """Readable lines for what changed between two `facts()`."""
    lines = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            lines.append(f"{key}: {old if old is not None else '(absent)'} -> {new if new is not None else '(absent)'}")
    return lines
