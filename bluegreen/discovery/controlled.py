"""Assembly of what AWS's own deployment engines need: a native blue/green service's setup (its
advancedConfiguration, lifecycle hooks, bake time and deployment alarms, with the listener rules'
live weights) and a CODE_DEPLOY service's deployment group (with its listeners' live weights).
Pure: it reads what `adapters.aws.reads` stored in the `RawState`.
"""

from __future__ import annotations

from typing import Any, Mapping

from bluegreen.discovery.gaps import Gaps
from bluegreen.discovery.raw import RawState, service_key
from bluegreen.discovery.traffic import TargetGroups, forward_weights
from bluegreen.domain.codedeploy import DeploymentGroup, deployment_group
from bluegreen.domain.native import (
    DEFAULT_HOOK_TIMEOUT_MINUTES, STRATEGIES, NativeHook, NativeLoadBalancer, NativeSetup,
)


def native_setup(raw: RawState, gaps: Gaps, tgs: TargetGroups, service: Mapping[str, Any]) -> NativeSetup | None:
    """The built-in blue/green setup of an ECS-controlled service whose strategy is one ECS swaps itself."""
    configuration = service.get("deploymentConfiguration") or {}
    strategy = configuration.get("strategy")
    if strategy not in STRATEGIES or (service.get("deploymentController") or {}).get("type", "ECS") != "ECS":
        return None
    name = service["serviceName"]
    balancers = []
    for lb in service.get("loadBalancers", []):
        advanced = lb.get("advancedConfiguration") or {}
        if not lb.get("targetGroupArn") or not advanced.get("alternateTargetGroupArn"):
            continue
        tgs.add_by_arn(advanced["alternateTargetGroupArn"], f"ecs service {name}")
        balancers.append(NativeLoadBalancer(
            target_group_arn=lb["targetGroupArn"], alternate_target_group_arn=advanced["alternateTargetGroupArn"],
            production_rule=advanced.get("productionListenerRule"), test_rule=advanced.get("testListenerRule"),
            role_arn=advanced.get("roleArn"), container=lb.get("containerName"), port=lb.get("containerPort"),
            production_weights=_rule_weights(raw, gaps, advanced.get("productionListenerRule"), name),
            test_weights=_rule_weights(raw, gaps, advanced.get("testListenerRule"), name)))
    alarms = configuration.get("alarms") or {}
    linear, canary = configuration.get("linearConfiguration"), configuration.get("canaryConfiguration")
    return NativeSetup(
        strategy=strategy, bake_minutes=float(configuration.get("bakeTimeInMinutes") or 0),
        hooks=tuple(_hook(h) for h in configuration.get("lifecycleHooks") or []),
        load_balancers=tuple(balancers),
        alarms=tuple(alarms.get("alarmNames") or []) if alarms.get("enable") else (),
        alarm_rollback=bool(alarms.get("enable") and alarms.get("rollback")),
        linear=(float(linear.get("stepPercent") or 10.0), float(linear.get("stepBakeTimeInMinutes", 6)))
        if linear else None,
        canary=(float(canary.get("canaryPercent") or 10.0), float(canary.get("canaryBakeTimeInMinutes") or 0))
        if canary else None)


def codedeploy_group(raw: RawState, gaps: Gaps, tgs: TargetGroups, cluster: str,
                     service: Mapping[str, Any]) -> DeploymentGroup | None:
    """The deployment group of a CODE_DEPLOY service, with both of its target groups; None when no ECS
    deployment group deploys it (or its read failed: an error finding then)."""
    if (service.get("deploymentController") or {}).get("type") != "CODE_DEPLOY":
        return None
    name = service["serviceName"]
    key = service_key(cluster, name)
    found = raw.codedeploy_groups.get(key)
    if found is None:  # no group deploys it: only `ecs-codedeploy` needs one, and its planner says so
        gaps.note_error("codedeploy group", key, f"the CodeDeploy deployment group of ecs service {name}")
        return None
    group = deployment_group(found)
    for tg in group.target_groups:
        tgs.add_by_name(tg)
    for arn in group.prod_listeners + group.test_listeners:
        if arn not in raw.listeners_by_arn and raw.error("listener", arn) is None:
            gaps.add("error", f"listener {arn}", f"the listener {arn} of CodeDeploy group {group.name} not found",
                     kind="missing")
    return group


def listener_weights(raw: RawState, arn: str) -> tuple[tuple[str, int], ...]:
    """The default action's forward weights of a listener read by ARN (a CodeDeploy group's)."""
    found = raw.listeners_by_arn.get(arn)
    return forward_weights(found.get("DefaultActions", [])) if found else ()


def _rule_weights(raw: RawState, gaps: Gaps, arn: str | None, service: str) -> tuple[tuple[str, int], ...]:
    if not arn:
        return ()
    found = raw.rules_by_arn.get(arn)
    if found is None:
        if raw.error("listener rule", arn) is None:
            gaps.add("error", f"listener rule {arn}", f"ecs service {service}'s advancedConfiguration names the "
                     f"listener rule {arn}, which does not exist", kind="missing")
        else:
            gaps.note_error("listener rule", arn, f"listener rule {arn}")
        return ()
    return forward_weights(found.get("Actions", []))


def _hook(raw: Mapping[str, Any]) -> NativeHook:
    timeout = raw.get("timeoutConfiguration") or {}
    return NativeHook(stages=tuple(raw.get("lifecycleStages") or []), target_type=raw.get("targetType", "PAUSE"),
                      timeout_minutes=float(timeout.get("timeoutInMinutes") or DEFAULT_HOOK_TIMEOUT_MINUTES),
                      timeout_action=timeout.get("action", "ROLLBACK"), target_arn=raw.get("hookTargetArn"))
