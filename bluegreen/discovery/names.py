"""What a spec names, and how AWS spells it: shared by the reads (what to ask for) and the assembly.

Pure functions over the spec, the raw answers and strings; nothing here calls AWS.
"""

from __future__ import annotations

import base64
import gzip
import re
from typing import Any, Mapping

from bluegreen.discovery.raw import RawState
from bluegreen.domain.spec import Spec, SsmParameterDelivery

COLORS = ("blue", "green")


def ecs_names(spec: Spec) -> list[str]:
    return spec.ecs.service_names if spec.ecs else []


def image_parameter_names(spec: Spec) -> dict[str, str]:
    """color -> SSM parameter holding the image, for `ssm-parameter` image delivery."""
    asg = spec.asg
    if asg is None or not isinstance(asg.image_delivery, SsmParameterDelivery):
        return {}
    return {c: asg.image_delivery.name_for(c) for c in COLORS}


def named_target_groups(spec: Spec) -> list[str]:
    """Every target group the spec names (routes, single target group, DNS stacks), once, in order."""
    names = [n for route in spec.routes for n in (route.blue_target_group, route.green_target_group)]
    if spec.target_group:
        names.append(spec.target_group)
    if spec.dns and spec.dns.target_groups:
        names += [spec.dns.target_groups.blue, spec.dns.target_groups.green]
    return list(dict.fromkeys(names))


def asg_launch_template(group: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The launch template a group uses, directly or through a mixed-instances policy."""
    return group.get("LaunchTemplate") or (
        group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification"))


def norm_dns(name: str) -> str:
    """Route53 returns `*` as `\\052` and names with a trailing dot; compare without either."""
    return name.replace("\\052", "*").rstrip(".").lower()


def role_name(arn_or_name: str) -> str:
    return arn_or_name.rsplit("/", 1)[-1] if arn_or_name.startswith("arn:") else arn_or_name


def short_td(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def decode_user_data(data: str | None) -> str | None:
    """Launch-template user data is base64, sometimes of gzip; plain text is returned as it is."""
    if not data:
        return None
    try:
        raw = base64.b64decode(data)
    except (ValueError, TypeError):
        return data
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except OSError:
            pass
    return raw.decode("utf-8", errors="replace")


def image_pattern(repository_uri: str) -> re.Pattern[str]:
    """`uri[:tag][@digest]`, not followed by more of a reference (Docker's tag grammar)."""
    return re.compile(re.escape(repository_uri)
                      + r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
                      + r"(?![A-Za-z0-9_./:@-])")


def secret_target(reference: str) -> tuple[str, str]:
    """('ssm', parameter name) or ('secretsmanager', secret ARN without a JSON-key suffix)."""
    if reference.startswith("arn:") and ":secretsmanager:" in reference:
        return "secretsmanager", ":".join(reference.split(":")[:7])
    if reference.startswith("arn:") and ":ssm:" in reference:
        rest = reference.split(":", 5)[5].split("/", 1)[1]  # parameter/NAME
        return "ssm", ("/" + rest if "/" in rest else rest)
    return "ssm", reference  # a bare parameter name (same region)


def ssm_candidates(name: str) -> tuple[str, ...]:
    # `parameter/x` is the ARN of both `x` and `/x`; hierarchical names always start with `/`
    return (name,) if name.startswith("/") else (name, "/" + name)


def td_secret_references(td: Mapping[str, Any]) -> set[str]:
    refs = set()
    for container in td.get("containerDefinitions", []):
        refs.update(s["valueFrom"] for s in container.get("secrets", []) if s.get("valueFrom"))
    return refs


def task_roles(td: Mapping[str, Any]) -> list[str]:
    """The execution and task role ARNs a task definition names."""
    return [r for r in (td.get("executionRoleArn"), td.get("taskRoleArn")) if r]


def roles_in_use(spec: Spec, raw: RawState) -> set[str]:
    """Roles of the revisions the spec's ECS services run that a running task uses now.

    ECS assumed them to start that task, so they are not read again: a deploy copies them into the new
    revision, and a role deleted since makes its tasks fail to start, which the steady-state gate reports
    (ECS's stopped reason) and rolls back. Roles of a revision no task runs are read (GetRole): nothing
    else tells that they exist. One IAM call saved per role per deploy, and per role per service in a plan
    of a fleet, where IAM's low request quotas are the first to throttle."""
    ecs = spec.ecs
    if ecs is None:
        return set()
    out: set[str] = set()
    for name in ecs_names(spec):
        svc = raw.service(ecs.cluster, name)
        if not svc:
            continue
        arn = svc["taskDefinition"]
        td = raw.task_definition(arn)
        running = int(svc.get("runningCount") or 0) > 0 and any(  # the service's and its revision's count
            d.get("taskDefinition") == arn and int(d.get("runningCount") or 0) > 0 for d in svc.get("deployments") or [])
        if running and td is not None:
            out.update(task_roles(td))
    return out


def spec_task_definitions(spec: Spec, raw: RawState) -> list[dict[str, Any]]:
    """The task definitions the spec's ECS services run (those that were read)."""
    ecs = spec.ecs
    if ecs is None:
        return []
    out = []
    for name in ecs_names(spec):
        svc = raw.service(ecs.cluster, name)
        td = raw.task_definition(svc["taskDefinition"]) if svc else None
        if td is not None:
            out.append(td)
    return out


def serving_image(spec: Spec, raw: RawState) -> tuple[str | None, str | None, str | None]:
    """(tag, digest, note) of the image from the spec's repository that the serving workload runs.

    The serving workload is the spec's ECS service, or Auto Scaling group, with the most desired
    capacity: only to pick which image's digest to resolve; the planner decides the live color."""
    repo = raw.repositories.get(spec.image.repository)
    if repo is None:
        return None, None, None
    pattern = image_pattern(repo["repositoryUri"])
    found, seen = _ecs_serving_image(spec, raw, pattern)
    if found is None:
        found = _asg_serving_image(spec, raw, pattern)
    if found is not None:
        return found[0], found[1], None
    if seen:
        ecs = spec.ecs
        return None, None, (f"container {ecs.container if ecs else ''} runs {seen[0]}, "
                            f"not an image from repository {spec.image.repository}")
    return None, None, None


def _ecs_serving_image(spec: Spec, raw: RawState, pattern: re.Pattern[str]
                       ) -> tuple[tuple[str | None, str | None] | None, list[str]]:
    ecs = spec.ecs
    seen: list[str] = []
    if ecs is None:
        return None, seen
    services = [s for s in (raw.service(ecs.cluster, n) for n in ecs_names(spec)) if s is not None]
    services.sort(key=lambda s: (-s.get("desiredCount", 0), -s.get("runningCount", 0), s["serviceName"]))
    for svc in services:
        td = raw.task_definition(svc["taskDefinition"])
        if td is None:
            continue
        container = next((c for c in td.get("containerDefinitions", []) if c.get("name") == ecs.container), None)
        if container is None:
            continue
        match = pattern.fullmatch(container.get("image", ""))
        if match:
            return (match["tag"], match["digest"]), seen
        seen.append(container.get("image", ""))
    return None, seen


def _asg_serving_image(spec: Spec, raw: RawState, pattern: re.Pattern[str]) -> tuple[str | None, str | None] | None:
    asg = spec.asg
    if asg is None:
        return None
    groups = [raw.asgs[asg.group_name(c)] for c in COLORS if asg.group_name(c) in raw.asgs]
    groups.sort(key=lambda g: (-g.get("DesiredCapacity", 0), g["AutoScalingGroupName"]))
    lt = raw.launch_templates.get(asg.launch_template)
    parameters = image_parameter_names(spec)
    for group in groups:
        if parameters:  # the image is in SSM, one parameter per color
            color = next(c for c in COLORS if asg.group_name(c) == group["AutoScalingGroupName"])
            match = pattern.fullmatch(raw.image_parameters.get(parameters[color], ""))
            if match:
                return match["tag"], match["digest"]
            continue
        ref = asg_launch_template(group)
        if lt is None or ref is None:
            continue
        version = raw.lt_version(lt, ref.get("Version"))
        text = decode_user_data(version.get("LaunchTemplateData", {}).get("UserData")) if version else None
        match = pattern.search(text or "")
        if match:
            return match["tag"], match["digest"]
    return None
