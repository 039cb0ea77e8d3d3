"""Assembly of what runs the service: ECS services and their task definitions, or the two Auto
Scaling groups and their launch template (with the user data each version carries)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from bluegreen.discovery import controlled
from bluegreen.discovery.gaps import Gaps
from bluegreen.discovery.names import COLORS, asg_launch_template, decode_user_data, ecs_names, short_td
from bluegreen.discovery.raw import RawState, scaling_key, service_key
from bluegreen.discovery.traffic import TargetGroups
from bluegreen.domain.snapshot import (
    ECS_CONTROLLER, ROLLING, AsgInstance, AutoScalingGroup, EcsDeployment, EcsService, LaunchTemplate, ScalableTarget,
    TaskDefinition,
)
from bluegreen.domain.spec import Spec

# Fields describe_task_definition returns that register_task_definition does not take.
TASK_DEFINITION_READ_ONLY = frozenset({
    "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
    "registeredAt", "registeredBy", "deregisteredAt",
})


def ecs(spec: Spec, raw: RawState, gaps: Gaps, tgs: TargetGroups
        ) -> tuple[dict[str, EcsService], dict[str, TaskDefinition]]:
    """The spec's ECS services by name, and the task definitions they run by ARN."""
    wanted = spec.ecs
    if wanted is None:
        return {}, {}
    services: dict[str, EcsService] = {}
    tds: dict[str, TaskDefinition] = {}
    for name in ecs_names(spec):
        found = raw.service(wanted.cluster, name)
        if found is None:
            gaps.missing("ecs service", service_key(wanted.cluster, name), f"ecs service {name}",
                         f"ecs service {name} not found in cluster {wanted.cluster}")
            continue
        gaps.note_error("scalable target", scaling_key(wanted.cluster, name), f"scaling of ecs service {name}")
        group = controlled.codedeploy_group(raw, gaps, tgs, wanted.cluster, found)
        services[name] = replace(
            ecs_service(wanted.cluster, found, raw.scalable_targets.get(scaling_key(wanted.cluster, name))),
            native=controlled.native_setup(raw, gaps, tgs, found), codedeploy=group,
            codedeploy_weights=controlled.listener_weights(raw, group.prod_listeners[0])
            if group and group.prod_listeners else ())
        if found.get("status") == "DRAINING":
            gaps.add("warning", f"ecs service {name}", f"ecs service {name} is DRAINING")
        for arn in services[name].target_group_arns:
            tgs.add_by_arn(arn, f"ecs service {name}")
        arn = found["taskDefinition"]
        if arn in tds:
            continue
        read = raw.task_definitions.get(arn)
        if read is None:
            gaps.missing("task definition", arn, f"task definition {short_td(arn)}",
                         f"task definition {arn} (used by ecs service {name}) not found")
            continue
        td = task_definition(read["taskDefinition"], read.get("tags", []))
        tds[arn] = td
        if wanted.container and td.container(wanted.container) is None:
            names = ", ".join(c.get("name", "?") for c in td.body.get("containerDefinitions", []))
            gaps.add("error", f"task definition {short_td(arn)}", f"task definition {short_td(arn)} has no "
                     f"container named {wanted.container} (it has {names})")
    return services, tds


def ecs_service(cluster: str, raw: Mapping[str, Any], scaling: Mapping[str, Any] | None = None) -> EcsService:
    deployments = tuple(
        EcsDeployment(
            id=d.get("id", ""), status=d.get("status", ""), task_definition=d.get("taskDefinition", ""),
            desired=int(d.get("desiredCount", 0)), running=int(d.get("runningCount", 0)),
            pending=int(d.get("pendingCount", 0)), failed_tasks=int(d.get("failedTasks", 0)),
            rollout_state=d.get("rolloutState"), rollout_reason=d.get("rolloutStateReason"))
        for d in raw.get("deployments", []))
    configuration = raw.get("deploymentConfiguration") or {}
    breaker = configuration.get("deploymentCircuitBreaker", {})
    return EcsService(
        cluster=cluster, name=raw["serviceName"], arn=raw["serviceArn"], status=raw.get("status", ""),
        task_definition=raw["taskDefinition"], desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)), pending=int(raw.get("pendingCount", 0)),
        launch_type=raw.get("launchType"), deployments=deployments,
        target_group_arns=tuple(dict.fromkeys(lb["targetGroupArn"] for lb in raw.get("loadBalancers", [])
                                              if lb.get("targetGroupArn"))),
        circuit_breaker=bool(breaker.get("enable", False)),
        events=tuple(e.get("message", "") for e in raw.get("events", [])[:10]),
        # ECS leaves both out for a service created with the defaults: the ECS controller, rolling updates
        deployment_controller=(raw.get("deploymentController") or {}).get("type") or ECS_CONTROLLER,
        deployment_strategy=configuration.get("strategy") or ROLLING,
        load_balancer_names=tuple(dict.fromkeys(lb["loadBalancerName"] for lb in raw.get("loadBalancers", [])
                                                if lb.get("loadBalancerName"))),
        containers=tuple(dict.fromkeys((lb["containerName"], int(lb["containerPort"])) for lb in raw.get("loadBalancers", [])
                                       if lb.get("containerName") and lb.get("containerPort"))),
        scaling=scalable_target(scaling) if scaling else None,
    )


def scalable_target(raw: Mapping[str, Any]) -> ScalableTarget:
    suspended = raw.get("SuspendedState") or {}
    return ScalableTarget(
        resource_id=raw["ResourceId"], dimension=raw["ScalableDimension"], min_capacity=int(raw["MinCapacity"]),
        max_capacity=int(raw["MaxCapacity"]),
        dynamic_in_suspended=bool(suspended.get("DynamicScalingInSuspended", False)),
        dynamic_out_suspended=bool(suspended.get("DynamicScalingOutSuspended", False)),
        scheduled_suspended=bool(suspended.get("ScheduledScalingSuspended", False)))


def task_definition(raw: Mapping[str, Any], tags: list[Mapping[str, str]]) -> TaskDefinition:
    """`body` is every field a new registration takes, verbatim."""
    body = {k: v for k, v in raw.items() if k not in TASK_DEFINITION_READ_ONLY}
    return TaskDefinition(arn=raw["taskDefinitionArn"], family=raw["family"], revision=int(raw["revision"]),
                          body=body, tags=tuple((t["key"], t["value"]) for t in tags))


def asgs(spec: Spec, raw: RawState, gaps: Gaps, tgs: TargetGroups
         ) -> tuple[dict[str, AutoScalingGroup], dict[str, LaunchTemplate]]:
    """The spec's two groups by name (one may be gone), and its launch template."""
    wanted = spec.asg
    if wanted is None:
        return {}, {}
    groups: dict[str, AutoScalingGroup] = {}
    absent: list[str] = []
    for color in COLORS:
        name = wanted.group_name(color)
        found = raw.asgs.get(name)
        if found is None:
            absent.append(name)
            continue
        groups[name] = asg(found)
        for arn in groups[name].target_group_arns:
            tgs.add_by_arn(arn, f"auto scaling group {name}")
    for name in absent:
        # One color may be gone (deleted by `max_remaining_groups: 1`): the deploy recreates it.
        if groups:
            gaps.missing("asg", name, f"auto scaling group {name}", f"auto scaling group {name} not found: "
                         f"the deploy creates it as a copy of {next(iter(groups))}", severity="warning")
        else:
            gaps.missing("asg", name, f"auto scaling group {name}", f"auto scaling group {name} not found")
    lt = raw.launch_templates.get(wanted.launch_template)
    if lt is None:
        gaps.missing("launch template", wanted.launch_template, f"launch template {wanted.launch_template}",
                     f"launch template {wanted.launch_template} not found")
        return groups, {}
    gaps.note_error("launch template versions", wanted.launch_template, f"launch template {wanted.launch_template}")
    groups = _with_user_data(groups, lt, raw, gaps)
    return groups, {wanted.launch_template: _launch_template(groups, lt, raw)}


def _with_user_data(groups: dict[str, AutoScalingGroup], lt: Mapping[str, Any], raw: RawState,
                    gaps: Gaps) -> dict[str, AutoScalingGroup]:
    """Each group with the user data of the launch-template version it uses."""
    out = dict(groups)
    for name, group in groups.items():
        if group.launch_template_name in (None, lt["LaunchTemplateName"]):
            own = raw.lt_version(lt, group.launch_template_version)
            if own is not None:
                out[name] = replace(group, user_data=decode_user_data(
                    own.get("LaunchTemplateData", {}).get("UserData")))
        else:
            gaps.add("warning", f"auto scaling group {group.name}", f"auto scaling group {group.name} uses launch "
                     f"template {group.launch_template_name}, not {lt['LaunchTemplateName']}")
    return out


def _launch_template(groups: Mapping[str, AutoScalingGroup], lt: Mapping[str, Any], raw: RawState) -> LaunchTemplate:
    # the version the group with the most desired capacity runs (else $Default)
    version = None
    for group in sorted(groups.values(), key=lambda g: (-g.desired, g.name)):
        if group.launch_template_name == lt["LaunchTemplateName"]:
            version = raw.lt_version(lt, group.launch_template_version)
            break
    version = version or raw.lt_version(lt, "$Default")
    data = version.get("LaunchTemplateData", {}) if version else {}
    return LaunchTemplate(
        id=lt["LaunchTemplateId"], name=lt["LaunchTemplateName"],
        default_version=int(lt["DefaultVersionNumber"]), latest_version=int(lt["LatestVersionNumber"]),
        image_id=data.get("ImageId"), user_data=decode_user_data(data.get("UserData")))


def asg(raw: Mapping[str, Any]) -> AutoScalingGroup:
    lt = asg_launch_template(raw) or {}
    return AutoScalingGroup(
        name=raw["AutoScalingGroupName"], arn=raw.get("AutoScalingGroupARN", ""),
        launch_template_name=lt.get("LaunchTemplateName"), launch_template_version=lt.get("Version"),
        min_size=int(raw["MinSize"]), max_size=int(raw["MaxSize"]), desired=int(raw["DesiredCapacity"]),
        health_check_type=raw.get("HealthCheckType", "EC2"), health_check_grace=int(raw.get("HealthCheckGracePeriod", 0)),
        subnets=tuple(s for s in raw.get("VPCZoneIdentifier", "").split(",") if s),
        target_group_arns=tuple(raw.get("TargetGroupARNs", [])),
        load_balancer_names=tuple(raw.get("LoadBalancerNames", [])),
        suspended=tuple(p["ProcessName"] for p in raw.get("SuspendedProcesses", [])),
        instances=tuple(AsgInstance(i["InstanceId"], i.get("LifecycleState", ""), i.get("HealthStatus", ""),
                                    i.get("LaunchTemplate", {}).get("Version"))
                        for i in raw.get("Instances", [])),
        tags=tuple((t["Key"], t["Value"]) for t in raw.get("Tags", [])),
    )
