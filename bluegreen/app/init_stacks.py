"""The compute side `bluegreen init` reads: ECS services (with their task definition's container and image)
and Auto Scaling groups (with their launch template, image delivery and attachments), one `Stack` per color.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bluegreen.app import init_facts as facts
from bluegreen.discovery.names import asg_launch_template, decode_user_data
from bluegreen.errors import InvalidInput

if TYPE_CHECKING:
    from bluegreen.app.init import Reads

FOREIGN_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")


@dataclass
class Stack:
    """One color's workload: an ECS service or an Auto Scaling group, and where its facts were read."""

    kind: str  # "ecs" or "asg"
    name: str
    cluster: str | None = None
    target_group_arns: list[str] = field(default_factory=list)
    classic_elbs: list[str] = field(default_factory=list)
    container: str | None = None
    container_why: str = ""
    image: facts.Image | None = None
    image_source: str = ""  # where the image reference was read (a container, user data, a parameter)
    image_seen: str = ""  # what was there, when it is not an image from ECR
    launch_template: str | None = None
    delivery: facts.Delivery | None = None
    desired: int = 0

    @property
    def target_group_names(self) -> dict[str, str]:
        return {arn: facts.arn_name(arn) for arn in self.target_group_arns}


# --- ECS ------------------------------------------------------------------------------------------


def is_native(service: dict[str, Any]) -> bool:
    """ECS's built-in blue/green with somewhere to put green: `ecs-native` deploys it."""
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy", "ROLLING")
    return controller == "ECS" and strategy in FOREIGN_STRATEGIES and any(
        (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn") for lb in service.get("loadBalancers", []))


def refuse_foreign_controller(service: dict[str, Any], cluster: str, *, native_ok: bool = False) -> None:
    """Exit 2 for a service another deployment controller swaps and no spec of `init`'s can drive
    (`native_ok`: one service under ECS's built-in blue/green is written as `ecs-native`)."""
    name = service["serviceName"]
    controller = (service.get("deploymentController") or {}).get("type", "ECS")
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy", "ROLLING")
    if native_ok and is_native(service):
        return
    if controller == "CODE_DEPLOY":
        what = ("the CODE_DEPLOY deployment controller (CodeDeploy swaps it, and ECS refuses a task-definition "
                "update from anyone else; write a spec with strategy ecs-codedeploy, as deployments/billing.yaml "
                "does, or move it to the ECS controller)")
    elif controller == "EXTERNAL":
        what = "the EXTERNAL deployment controller (its task sets belong to another tool)"
    elif strategy in FOREIGN_STRATEGIES:
        what = (f"ECS's built-in {strategy} deployments (ECS moves its listener rules itself; set its "
                "deploymentConfiguration.strategy to ROLLING for bluegreen to drive it)")
    else:
        return
    raise InvalidInput(f"ECS service {name} in cluster {cluster} is deployed by {what}: bluegreen refuses to edit "
                       "it, and no spec was written")


def ecs_stacks(reads: "Reads", cluster: str, services: list[dict[str, Any]], container: str | None,
               target_group_arn: str | None = None) -> list[Stack]:
    """One stack per service, in the order given; the container is the same for all (the spec names one)."""
    stacks = [_ecs_stack(reads, cluster, s, container, target_group_arn) for s in services]
    names = {s.container for s in stacks}
    if len(names) > 1:
        listed = ", ".join(f"{s.name}: {s.container}" for s in stacks)
        raise InvalidInput(f"the services' load-balanced containers differ ({listed}); the spec names one: "
                           "give --container")
    return stacks


def _ecs_stack(reads: "Reads", cluster: str, service: dict[str, Any], wanted: str | None,
               target_group_arn: str | None) -> Stack:
    name = service["serviceName"]
    arns = [lb["targetGroupArn"] for lb in service.get("loadBalancers", []) if lb.get("targetGroupArn")]
    td = reads.task_definition(service["taskDefinition"]) or {}
    containers = {c["name"]: c for c in td.get("containerDefinitions", [])}
    chosen, why = _container(service, containers, wanted, target_group_arn)
    if chosen is None:
        listed = ", ".join(sorted(containers)) or "none"
        raise InvalidInput(f"cannot tell which container of ECS service {name} gets the new image "
                           f"(containers: {listed}); give --container")
    image_text = containers[chosen].get("image", "")
    revision = td.get("taskDefinitionArn", service["taskDefinition"]).rsplit("/", 1)[-1]
    return Stack(kind="ecs", name=name, cluster=cluster, target_group_arns=[target_group_arn] if target_group_arn
                 else arns, container=chosen, container_why=why, image=facts.ecr_image(image_text),
                 image_source=f"container {chosen} of task definition {revision} (service {name})",
                 image_seen=image_text or "no image", desired=int(service.get("desiredCount", 0)))


def _container(service: dict[str, Any], containers: dict[str, Any], wanted: str | None,
               target_group_arn: str | None) -> tuple[str | None, str]:
    if wanted:
        return (wanted, "given with --container") if wanted in containers else (None, "")
    balanced = [lb.get("containerName") for lb in service.get("loadBalancers", [])
                if lb.get("containerName") in containers
                and (target_group_arn is None or lb.get("targetGroupArn") == target_group_arn)]
    if balanced:
        return balanced[0], "the container the service's load balancer sends traffic to (DescribeServices)"
    if len(containers) == 1:
        return next(iter(containers)), "the task definition's only container"
    in_ecr = [n for n, c in containers.items() if facts.ecr_image(c.get("image", ""))]
    if len(in_ecr) == 1:
        return in_ecr[0], "the only container running an image from ECR"
    return None, ""


# --- Auto Scaling ---------------------------------------------------------------------------------


def asg_stacks(reads: "Reads", names: list[str], *, keep_order: bool = False) -> tuple[list[Stack], str]:
    """[blue, green] from one or two group names, and how the pair and its colors were found
    (`keep_order`: the two names are already blue then green, e.g. matched to DNS record sets)."""
    found = {g["AutoScalingGroupName"]: g for g in reads.auto_scaling_groups(names)}
    for name in names:
        if name not in found:
            raise InvalidInput(f"Auto Scaling group {name} not found (region {reads.region})")
    groups = [found[n] for n in names]
    how = "Both groups were given."
    if len(groups) == 1:
        partner, how = _asg_partner(reads, groups[0])
        groups.append(partner)
    live = max(groups, key=lambda g: (bool(g.get("TargetGroupARNs") or g.get("LoadBalancerNames")),
                                      g.get("DesiredCapacity", 0)))["AutoScalingGroupName"]
    first, second = groups[0]["AutoScalingGroupName"], groups[1]["AutoScalingGroupName"]
    blue, green, why = (first, second, "as matched") if keep_order else facts.assign_colors(first, second, live)
    by_name = {g["AutoScalingGroupName"]: g for g in groups}
    stacks = [_asg_stack(reads, by_name[blue], live == blue or keep_order),
              _asg_stack(reads, by_name[green], live == green)]
    templates = {s.launch_template for s in stacks}
    if len(templates) != 1:
        raise InvalidInput(f"Auto Scaling groups {blue} and {green} use different launch templates "
                           f"({', '.join(sorted(t or '?' for t in templates))}); an ASG swap uses one")
    return stacks, f"{how} Colors {why}."


def _asg_partner(reads: "Reads", group: dict[str, Any]) -> tuple[dict[str, Any], str]:
    name = group["AutoScalingGroupName"]
    other = facts.other_color_name(name)
    if other:
        found = reads.auto_scaling_groups([other])
        if found:
            return found[0], f"The other color's group {other} is named like {name}."
    template = _template_name(group)
    siblings = [g for g in reads.auto_scaling_groups(None)
                if g["AutoScalingGroupName"] != name and template and _template_name(g) == template]
    if len(siblings) == 1:
        return siblings[0], f"{siblings[0]['AutoScalingGroupName']} is the only other group using launch template {template}."
    listed = ", ".join(sorted(g["AutoScalingGroupName"] for g in siblings)) or "none"
    raise InvalidInput(f"cannot find the other color's group for {name} (groups using launch template {template}: "
                       f"{listed}); give both with --asg")


def _template_name(group: dict[str, Any]) -> str | None:
    ref = asg_launch_template(group)
    return (ref or {}).get("LaunchTemplateName")


def _asg_stack(reads: "Reads", group: dict[str, Any], live: bool) -> Stack:
    name = group["AutoScalingGroupName"]
    ref = dict(asg_launch_template(group) or {})
    if not ref:
        raise InvalidInput(f"Auto Scaling group {name} uses no launch template (a launch configuration?); "
                           "bluegreen puts the image in a new launch-template version")
    stack = Stack(kind="asg", name=name, target_group_arns=list(group.get("TargetGroupARNs", [])),
                  classic_elbs=list(group.get("LoadBalancerNames", [])), launch_template=ref.get("LaunchTemplateName"),
                  desired=int(group.get("DesiredCapacity", 0)))
    if not live:
        return stack
    version = reads.launch_template_version(ref) or {}
    stack.launch_template = stack.launch_template or version.get("LaunchTemplateName")
    user_data = decode_user_data((version.get("LaunchTemplateData") or {}).get("UserData")) or ""
    stack.delivery = facts.delivery_from(user_data)
    if stack.delivery.parameter:
        parameter = stack.delivery.parameter.replace("{color}", facts.color_of(name) or "blue")
        value = reads.parameter_value(parameter) or ""
        stack.image, stack.image_source = facts.ecr_image(value), f"SSM parameter {parameter} (group {name})"
        stack.image_seen = value or "no String value"
    else:
        stack.image = facts.ecr_image(user_data)
        stack.image_source = (f"the user data of launch template {stack.launch_template} version "
                              f"{version.get('VersionNumber', '?')} (group {name})")
        stack.image_seen = "no image from ECR"
    return stack
