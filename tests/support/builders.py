"""Small builders of specs and live snapshots, so a planner test shows only what it varies.

Everything is plain data: ARNs are made up but shaped like AWS's, and a snapshot holds exactly what
discovery would have read. Names follow the examples: web (ECS target-group swap), worker (ECS
task-definition swap), legacy (ASG swap), api (DNS cutover).
"""

from __future__ import annotations

import zlib
from datetime import datetime, timezone
from typing import Any, Iterable, Mapping

from bluegreen.domain.colors import COLORS, Color
from bluegreen.domain.snapshot import (
    AsgInstance, AutoScalingGroup, ClassicElb, DnsRecord, EcsService, ImageInfo, LaunchTemplate, Listener, Rule,
    ScalableTarget, Snapshot, TargetGroup, TargetHealth, TaskDefinition,
)
from bluegreen.domain.spec import Spec

ACCOUNT = "123456789012"
REGION = "us-east-1"
NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
DIGEST = "sha256:" + "ab" * 32
ZONE_ID = "Z0123456789ABC"


def _digits(name: str) -> str:
    """A stable made-up id for a name (the built-in hash() changes between runs)."""
    return f"{zlib.crc32(name.encode()) % 10**8:08d}"


def repo_uri(repository: str) -> str:
    return f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/{repository}"


def pinned(repository: str) -> str:
    """The image reference a plan deploys for tag v2: the repository URI at DIGEST."""
    return f"{repo_uri(repository)}@{DIGEST}"


def image(repository: str, tag: str = "v2", digest: str | None = DIGEST) -> ImageInfo:
    return ImageInfo(repository=repository, repository_exists=True, repository_uri=repo_uri(repository), tag=tag,
                     digest=digest)


# --- specs ----------------------------------------------------------------------------------------


def spec(service: str, platform: Mapping[str, Any], traffic: Mapping[str, Any], **sections: Any) -> Spec:
    """A validated spec; `sections` are top-level keys (shift, health, rollback, strategy, ...)."""
    return Spec.model_validate({"service": service, "image": {"repository": service}, "platform": dict(platform),
                                "traffic": dict(traffic), **sections})


def with_sections(base: Spec, **sections: Any) -> Spec:
    """`base` with top-level sections replaced (the result is validated again)."""
    return Spec.model_validate(base.model_dump(mode="json", exclude_none=True) | sections)


def route(lb: str, port: int, blue: str, green: str, priority: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"load_balancer": lb, "port": port, "blue_target_group": blue, "green_target_group": green}
    return out | ({"rule_priority": priority} if priority is not None else {})


# --- load balancers -----------------------------------------------------------------------------------


def tg_arn(name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:targetgroup/{name}/{_digits(name)}"


def lb_arn(name: str) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/{name}/0123456789abcdef"


def listener_arn(lb: str, port: int) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener/app/{lb}/0123456789abcdef/{port:04d}"


def rule_arn(lb: str, port: int, priority: int) -> str:
    return f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:listener-rule/app/{lb}/0123456789abcdef/{port:04d}/{priority}"


def target_group(name: str, healthy: int = 0, *, deregistration_delay: int = 30, interval: int = 10,
                 threshold: int = 3) -> TargetGroup:
    return TargetGroup(arn=tg_arn(name), name=name, protocol="HTTP", port=8080, target_type="ip",
                       health_check_interval=interval, healthy_threshold=threshold,
                       deregistration_delay=deregistration_delay, load_balancer_arns=(),
                       targets=tuple(TargetHealth(f"10.0.0.{i + 1}", 8080, "healthy") for i in range(healthy)))


def forward(weights: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    """Target group name -> weight, as the (ARN, weight) pairs a listener holds."""
    return tuple((tg_arn(name), weight) for name, weight in weights.items())


def listener(lb: str, port: int, default: Mapping[str, int],
             rules: Mapping[int, Mapping[str, int]] | None = None) -> Listener:
    """A listener whose default action (and rules, by priority) forward to target groups by name."""
    return Listener(
        arn=listener_arn(lb, port), load_balancer=lb, port=port, protocol="HTTP",
        default=Rule(arn=listener_arn(lb, port), priority=None, forward=forward(default)),
        rules=tuple(Rule(arn=rule_arn(lb, port, p), priority=p, forward=forward(w)) for p, w in (rules or {}).items()))


def live_weights(blue: str, green: str, live: Color) -> dict[str, int]:
    """All traffic on the live color's target group."""
    return {blue: 100 if live is Color.BLUE else 0, green: 100 if live is Color.GREEN else 0}


# --- ECS ------------------------------------------------------------------------------------------------


def td_arn(family: str, revision: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/{family}:{revision}"


def task_definition(family: str, revision: int, container: str, image_ref: str | None, *,
                    environment: Mapping[str, str] | None = None, secrets: Mapping[str, str] | None = None,
                    cpu: int | None = None, memory: int | None = None) -> TaskDefinition:
    definition: dict[str, Any] = {"name": container}
    if image_ref is not None:
        definition["image"] = image_ref
    if environment:
        definition["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
    if secrets:
        definition["secrets"] = [{"name": k, "valueFrom": v} for k, v in secrets.items()]
    body: dict[str, Any] = {"family": family, "containerDefinitions": [definition]}
    body |= ({"cpu": str(cpu)} if cpu else {}) | ({"memory": str(memory)} if memory else {})
    return TaskDefinition(arn=td_arn(family, revision), family=family, revision=revision, body=body)


def ecs_service(name: str, task_definition_arn: str, desired: int, *, target_groups: Iterable[str] = (),
                cluster: str = "prod", circuit_breaker: bool = False, running: int | None = None,
                classic_elbs: Iterable[str] = (), controller: str = "ECS", strategy: str = "ROLLING",
                scaling: ScalableTarget | None = None) -> EcsService:
    return EcsService(cluster=cluster, name=name, arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{cluster}/{name}",
                      status="ACTIVE", task_definition=task_definition_arn, desired=desired,
                      running=desired if running is None else running, pending=0, launch_type="FARGATE",
                      deployments=(), target_group_arns=tuple(tg_arn(t) for t in target_groups),
                      circuit_breaker=circuit_breaker, load_balancer_names=tuple(classic_elbs),
                      deployment_controller=controller, deployment_strategy=strategy, scaling=scaling)


def scalable_target(service: str, cluster: str = "prod", *, dynamic_in: bool = False, dynamic_out: bool = False,
                    scheduled: bool = False, min_capacity: int = 1, max_capacity: int = 6) -> ScalableTarget:
    """An Application Auto Scaling target of the service's desired count."""
    return ScalableTarget(resource_id=f"service/{cluster}/{service}", dimension="ecs:service:DesiredCount",
                          min_capacity=min_capacity, max_capacity=max_capacity, dynamic_in_suspended=dynamic_in,
                          dynamic_out_suspended=dynamic_out, scheduled_suspended=scheduled)


# --- Auto Scaling ------------------------------------------------------------------------------------


def launch_template(name: str, latest: int = 1, default: int = 1, user_data: str | None = None) -> LaunchTemplate:
    return LaunchTemplate(id=f"lt-0{_digits(name)}", name=name, default_version=default,
                          latest_version=latest, image_id="ami-0123456789abcdef0", user_data=user_data)


def boot_script(image_ref: str, host_port: int = 80, container_port: int = 8080) -> str:
    """User data that runs `image_ref`, as a launch template written by an earlier deploy holds it."""
    return ("#!/bin/bash\nset -euo pipefail\n"
            f"docker pull {image_ref}\n"
            f"docker run -d --restart always --name app -p {host_port}:{container_port} {image_ref}\n")


def asg(name: str, desired: int, *, launch_template_name: str = "legacy", version: str | None = "1",
        min_size: int | None = None, max_size: int = 4, target_groups: Iterable[str] = (),
        classic_elbs: Iterable[str] = (), suspended: Iterable[str] = (), user_data: str | None = None,
        tags: Mapping[str, str] | None = None, grace: int = 90) -> AutoScalingGroup:
    return AutoScalingGroup(
        name=name, arn=f"arn:aws:autoscaling:{REGION}:{ACCOUNT}:autoScalingGroup:0:autoScalingGroupName/{name}",
        launch_template_name=launch_template_name, launch_template_version=version,
        min_size=desired if min_size is None else min_size, max_size=max_size, desired=desired,
        health_check_type="ELB", health_check_grace=grace, subnets=("subnet-a", "subnet-b"),
        target_group_arns=tuple(tg_arn(t) for t in target_groups), load_balancer_names=tuple(classic_elbs),
        suspended=tuple(suspended),
        instances=tuple(AsgInstance(f"i-{name}-{i}", "InService", "Healthy", version) for i in range(desired)),
        tags=tuple((tags or {}).items()), user_data=user_data)


def classic_elb(name: str) -> ClassicElb:
    return ClassicElb(name=name, dns_name=f"{name}-1.{REGION}.elb.amazonaws.com", instances=())


# --- Route53 ------------------------------------------------------------------------------------------


def weighted_records(record: str, endpoints: Mapping[Color, str], live: Color, ttl: int = 60) -> tuple[DnsRecord, ...]:
    """One weighted CNAME per color (set identifier = the color), all weight on `live`."""
    return tuple(DnsRecord(zone_id=ZONE_ID, name=record, type="CNAME", set_identifier=str(color),
                           weight=100 if color is live else 0, ttl=ttl, values=(endpoints[color],))
                 for color in COLORS)


# --- snapshots ----------------------------------------------------------------------------------------


def snapshot(service: str, **fields: Any) -> Snapshot:
    """A snapshot of `service` with the image tag v2 resolving to DIGEST unless `image` is given."""
    fields.setdefault("image", image(service))
    return Snapshot(service=service, region=REGION, **fields)


def by_name(*items: Any) -> dict[str, Any]:
    return {item.name: item for item in items}
