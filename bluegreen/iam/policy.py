"""The least-privilege IAM policy a spec needs, worked out offline from the spec alone.

The policy lists only what the code paths of the spec's strategy can call, read from the code:

    planning reads   discovery.py: the read-only calls it makes for each spec shape (all `plan` needs)
    mutations        adapters/actions.py: what the executor's steps (and their inverses) change
    gate reads       adapters/observe.py: what the health gates poll, including failure details
    extras           state.py (DynamoDB), images.py + adapters/ecr.py (building and pushing images)

Each part is a small `Group` (one IAM statement: a Sid, actions, resources, an optional condition
and why it is there), and `groups()` composes them for a spec. Actions are written as the calls
the code makes, in botocore's names (`elbv2:ModifyListener`, `elb:DescribeInstanceHealth`), and
turned into IAM action names with `adapters.aws.iam_action` - the same mapping the tests apply to
the calls recorded during real deployments. A few actions are authorization-only: AWS checks them
while serving another call (iam:PassRole for RegisterTaskDefinition, ecs:TagResource for a
revision registered with tags, ec2:RunInstances when a group moves to a new launch-template
version, the layer uploads of a `docker push` to ECR); each group says so.

Resources are scoped where the spec names them (ECS services, listeners of the named load
balancers, Auto Scaling groups, SSM parameters, the hosted zone and record, the ECR repository,
the DynamoDB table); describe calls that do not support resource-level permissions get `*`.
Account ids are not known offline: `*` unless given.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from bluegreen.adapters.aws.session import iam_action
from bluegreen.domain.spec import DynamoState, Spec, SsmParameterDelivery, Strategy
from bluegreen.iam.controlled import controlled_reads, controlled_rollout
from bluegreen.iam.hooks import hook_groups, notify_groups

VERSION = "2012-10-17"
COLORS = ("blue", "green")
_SID = re.compile(r"[^A-Za-z0-9]")


@dataclass(frozen=True)
class Group:
    """One statement of the policy: the calls it allows, on what, and why."""

    sid: str
    calls: tuple[str, ...]  # botocore names (`elbv2:ModifyListener`) or IAM names for authorization-only actions
    why: str
    resources: tuple[str, ...] = ("*",)
    condition: Mapping[str, Mapping[str, Any]] | None = None

    @property
    def actions(self) -> list[str]:
        return sorted({iam_action(call) for call in self.calls})

    def statement(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Sid": self.sid, "Effect": "Allow", "Action": self.actions,
                               "Resource": list(self.resources) if len(self.resources) > 1 else self.resources[0]}
        if self.condition:
            out["Condition"] = {op: dict(values) for op, values in self.condition.items()}
        return out


@dataclass(frozen=True)
class Arns:
    """ARN builders for one region and account (`*` when the account is not known)."""

    region: str
    account: str = "*"
    partition: str = field(default="")

    def __post_init__(self) -> None:
        if not self.partition:
            object.__setattr__(self, "partition", partition_of(self.region))

    def regional(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def ecs_service(self, cluster: str, service: str) -> str:
        return self.regional("ecs", f"service/{_last(cluster)}/{service}")

    def task_definitions(self) -> str:
        return self.regional("ecs", "task-definition/*")

    def listeners(self, load_balancer: str) -> str:
        return self.regional("elasticloadbalancing", f"listener/*/{load_balancer}/*")

    def listener_rules(self, load_balancer: str) -> str:
        return self.regional("elasticloadbalancing", f"listener-rule/*/{load_balancer}/*")

    def asg(self, name: str) -> str:
        return self.regional("autoscaling", f"autoScalingGroup:*:autoScalingGroupName/{name}")

    def launch_templates(self) -> str:
        return self.regional("ec2", "launch-template/*")

    def parameter(self, name: str) -> str:
        return self.regional("ssm", f"parameter/{name.lstrip('/')}")

    def secrets(self) -> str:
        return self.regional("secretsmanager", "secret:*")

    def repository(self, name: str) -> str:
        return self.regional("ecr", f"repository/{name}")

    def table(self, name: str) -> str:
        return self.regional("dynamodb", f"table/{name}")

    def roles(self) -> str:
        return f"arn:{self.partition}:iam::{self.account}:role/*"

    def hosted_zone(self, zone: str) -> str:
        return f"arn:{self.partition}:route53:::hostedzone/{zone if _is_zone_id(zone) else '*'}"

    def changes(self) -> str:
        return f"arn:{self.partition}:route53:::change/*"


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _last(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1]


def _is_zone_id(zone: str) -> bool:
    return "." not in zone


# --- planning reads: discovery.py, per spec shape ---------------------------------------------


def planning_reads(spec: Spec, arns: Arns) -> list[Group]:
    """Every read discovery makes for this spec: all that `plan` (and `status`) need. Read-only."""
    p, t = spec, spec
    out: list[Group] = [
        Group("PlanReadImage", ("ecr:DescribeRepositories", "ecr:DescribeImages"),
              "discovery: the ECR repository and the digest of the tag to deploy",
              (arns.repository(spec.image.repository),)),
        # Every target group named by a route, the spec, the DNS gates - and the ones the live ECS
        # services and Auto Scaling groups point at - is described with its attributes and health.
        Group("PlanReadTargetGroups", ("elbv2:DescribeTargetGroups", "elbv2:DescribeTargetGroupAttributes",
                                       "elbv2:DescribeTargetHealth"),
              "discovery: target groups (named, or referenced by the live services/groups), deregistration "
              "delay and target health"),
        Group("PlanCountTargetHealth", ("cloudwatch:GetMetricData",),
              "plan: ELB's HealthyHostCount / UnHealthyHostCount of the target groups, one call per 250 (no "
              "resource-level permissions; without it, plan reads each group's target health instead)"),
    ]
    if t.routes:
        calls = ["elbv2:DescribeLoadBalancers", "elbv2:DescribeListeners"]
        if any(route.rule_priority is not None for route in t.routes):
            calls.append("elbv2:DescribeRules")
        out.append(Group("PlanReadListeners", tuple(calls),
                         "discovery: the routes' load balancers, listeners (and rules), live weights"))
    if p.ecs is not None:
        out += [
            Group("PlanReadEcs", ("ecs:DescribeServices", "ecs:DescribeTaskDefinition"),
                  "discovery: the ECS services (deployment controller, load balancers) and their live task "
                  "definitions (with tags)"),
            Group("PlanReadServiceScaling", ("application-autoscaling:DescribeScalableTargets",),
                  "discovery: the services' Application Auto Scaling targets and what of them is suspended "
                  "(no resource-level permissions)"),
            Group("PlanCheckRoles", ("iam:GetRole",),
                  "pre-flight: the execution and task roles of the live task definitions exist (read only "
                  "for a revision no task is running: a running task's roles are proven by it)",
                  (arns.roles(),)),
        ]
        out += secret_reference_checks(spec, arns)
    if p.asg is not None:
        out.append(Group("PlanReadAsg", ("autoscaling:DescribeAutoScalingGroups", "ec2:DescribeLaunchTemplates",
                                         "ec2:DescribeLaunchTemplateVersions"),
                         "discovery: both groups, their attachments and instances; the launch template and "
                         "the versions the groups use"))
        names = image_parameters(spec)
        if names:
            out.append(Group("PlanReadImageParameter", ("ssm:GetParameters",),
                             "discovery: the image each color's instances read (ssm-parameter image delivery; "
                             "never decrypted)", tuple(arns.parameter(n) for n in names)))
    if t.classic_elb:
        out.append(Group("PlanReadClassicElb", ("elb:DescribeLoadBalancers", "elb:DescribeInstanceHealth"),
                         "discovery: the classic ELB and its instances' health"))
    if t.dns is not None:
        zone = t.dns.hosted_zone
        out.append(Group("PlanReadDnsZone", ("route53:GetHostedZone",) if _is_zone_id(zone)
                         else ("route53:ListHostedZonesByName",),
                         "discovery: the hosted zone, by id or by name", (arns.hosted_zone(zone),)
                         if _is_zone_id(zone) else ("*",)))
        out.append(Group("PlanReadDnsRecords", ("route53:ListResourceRecordSets",),
                         "discovery: the weighted records and their TTL", (arns.hosted_zone(zone),)))
    if spec.health.alarms:
        out.append(alarm_reads())
    return out


def secret_reference_checks(spec: Spec, arns: Arns) -> list[Group]:
    """Existence checks of secret references (the spec's and the live task definitions'); values never read.

    Both services are allowed whatever the spec names: the live task definition may reference either.
    """
    return [
        Group("PlanCheckSsmSecretReferences", ("ssm:DescribeParameters",),
              "pre-flight: SSM parameter references exist (DescribeParameters has no resource-level "
              "permissions; it returns metadata, never values)"),
        Group("PlanCheckSecretsManagerReferences", ("secretsmanager:DescribeSecret",),
              "pre-flight: Secrets Manager references exist and are not scheduled for deletion "
              "(never GetSecretValue)", (arns.secrets(),)),
    ]


def alarm_reads() -> Group:
    return Group("ReadAlarms", ("cloudwatch:DescribeAlarms",),
                 "pre-flight and gates: alarm states (an alarm in ALARM refuses the start and fails a bake)")


def image_parameters(spec: Spec) -> list[str]:
    asg = spec.asg
    if asg is None or not isinstance(asg.image_delivery, SsmParameterDelivery):
        return []
    return sorted({asg.image_delivery.name_for(c) for c in COLORS})


# --- mutations and gate reads, per platform and traffic shape ---------------------------------


def ecs_rollout(spec: Spec, arns: Arns) -> list[Group]:
    """RegisterTaskDefinition + UpdateService (forward, inverse, scale-down) and the ECS gate."""
    ecs = spec.ecs
    assert ecs is not None
    names = ecs.service_names
    return [
        Group("EcsRegisterRevision", ("ecs:DescribeTaskDefinition", "ecs:RegisterTaskDefinition"),
              "a new revision copied field for field from the live one (RegisterTaskDefinition has no "
              "resource-level permissions)"),
        Group("EcsTagRevisionOnCreate", ("ecs:TagResource",),
              "authorization-only: the new revision carries the live revision's tags, and ECS checks "
              "ecs:TagResource for tags given at creation; limited to RegisterTaskDefinition",
              (arns.task_definitions(),), {"StringEquals": {"ecs:CreateAction": ["RegisterTaskDefinition"]}}),
        Group("PassTaskRoles", ("iam:PassRole",),
              "authorization-only: RegisterTaskDefinition passes the live revision's execution and task roles",
              (arns.roles(),), {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}),
        Group("EcsUpdateServices", ("ecs:UpdateService",),
              "roll the new revision out (and back, and scale the old color down)",
              tuple(arns.ecs_service(ecs.cluster, n) for n in names)),
        Group("EcsSuspendScaling", ("application-autoscaling:DescribeScalableTargets",
                                    "application-autoscaling:RegisterScalableTarget"),
              "suspend the services' Application Auto Scaling for the deployment and put back exactly what was "
              "there (RegisterScalableTarget with SuspendedState updates an existing target only; scalable "
              "targets are named by generated ids, so no narrower resource can be given offline)"),
        Group("EcsGate", ("ecs:DescribeServices", "ecs:ListTasks", "ecs:DescribeTasks"),
              "gate: steady state; on failure, the stopped tasks' reasons (ListTasks/DescribeTasks "
              "have no useful resource-level scoping here)"),
    ]


def asg_rollout(spec: Spec, arns: Arns, *, attach: bool) -> list[Group]:
    """Launch-template version or SSM image parameter, capacity, scaling processes, attachments."""
    asg = spec.asg
    assert asg is not None
    groups = tuple(arns.asg(asg.group_name(c)) for c in COLORS)
    calls = ["autoscaling:UpdateAutoScalingGroup"]
    if asg.max_remaining_groups < 2:  # finalize deletes the old group; the next deploy recreates it
        calls += ["autoscaling:CreateAutoScalingGroup", "autoscaling:DeleteAutoScalingGroup"]
    if asg.suspend_processes:
        calls += ["autoscaling:SuspendProcesses", "autoscaling:ResumeProcesses"]
    t = spec
    if attach and (t.target_group or t.routes):
        calls += ["autoscaling:AttachLoadBalancerTargetGroups", "autoscaling:DetachLoadBalancerTargetGroups"]
    if attach and t.classic_elb:
        calls += ["autoscaling:AttachLoadBalancers", "autoscaling:DetachLoadBalancers"]
    out = [
        Group("AsgGroups", tuple(calls),
              "capacity and launch-template version of the new color, scaling processes frozen and "
              "resumed, attach/detach (and every inverse)", groups),
        Group("AsgGate", ("autoscaling:DescribeAutoScalingGroups",),
              "gates and idempotent changes: instances InService, current capacity and attachments"),
    ]
    if isinstance(asg.image_delivery, SsmParameterDelivery):
        names = image_parameters(spec)
        out.append(Group("AsgImageParameter", ("ssm:GetParameter", "ssm:PutParameter"),
                         "ssm-parameter image delivery: the new color's image reference (and back)",
                         tuple(arns.parameter(n) for n in names)))
    else:
        out += [
            Group("AsgLaunchTemplateVersion", ("ec2:CreateLaunchTemplateVersion",),
                  "user-data image delivery: a new launch-template version runs the pinned image",
                  (arns.launch_templates(),)),
            Group("AsgUseLaunchTemplate", ("ec2:RunInstances",),
                  "authorization-only: Auto Scaling checks ec2:RunInstances when a group is updated to "
                  "a launch-template version", ("*",),
                  {"ArnLike": {"ec2:LaunchTemplate": arns.launch_templates()}}),
            Group("AsgTagInstancesOnLaunch", ("ec2:CreateTags",),
                  "authorization-only: a launch template with tag specifications tags instances and "
                  "volumes at launch", ("*",), {"StringEquals": {"ec2:CreateAction": ["RunInstances"]}}),
            Group("AsgPassInstanceRole", ("iam:PassRole",),
                  "authorization-only: a launch template with an instance profile passes its role",
                  (arns.roles(),), {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}),
        ]
    if attach and t.classic_elb:
        out.append(Group("ClassicElbGate", ("elb:DescribeInstanceHealth",),
                         "gate: the new group's instances InService in the classic ELB"))
    return out


def listener_traffic(spec: Spec, arns: Arns) -> list[Group]:
    """Weighted forward actions on the routes' listeners (or rules) and the test listener."""
    t = spec
    if not t.routes:
        return []
    lbs = sorted({route.load_balancer for route in t.routes})
    rules = any(route.rule_priority is not None for route in t.routes)
    out = [Group("ReadWeights", ("elbv2:DescribeListeners",) + (("elbv2:DescribeRules",) if rules else ()),
                 "idempotent weight changes: read the current forward action first (no resource-level "
                 "permissions for describe calls)")]
    if t.test_listener is not None or any(route.rule_priority is None for route in t.routes):
        out.append(Group("ShiftListenerWeights", ("elbv2:ModifyListener",),
                         "move traffic: weighted forward default actions (production and test listeners), "
                         "restored in one change on rollback", tuple(arns.listeners(lb) for lb in lbs)))
    if rules:
        out.append(Group("ShiftRuleWeights", ("elbv2:ModifyRule",),
                         "move traffic: weighted forward actions of the routes' listener rules",
                         tuple(arns.listener_rules(lb) for lb in lbs)))
    return out


def target_health_gate() -> Group:
    return Group("TargetHealthGate", ("elbv2:DescribeTargetHealth",),
                 "gates: healthy targets before and while traffic moves")


def dns_traffic(spec: Spec, arns: Arns) -> list[Group]:
    dns = spec.dns
    assert dns is not None
    record = dns.record.rstrip(".").lower()
    return [
        Group("ShiftRecordWeights", ("route53:ChangeResourceRecordSets",),
              "move traffic: UPSERT of the weighted records' weights, only for this record name",
              (arns.hosted_zone(dns.hosted_zone),),
              {"ForAllValues:StringEquals": {"route53:ChangeResourceRecordSetsNormalizedRecordNames": [record],
                                             "route53:ChangeResourceRecordSetsActions": ["UPSERT"]}}),
        Group("WaitRecordChange", ("route53:GetChange",),
              "wait until Route53 reports the weight change INSYNC", (arns.changes(),)),
    ]


def strategy_groups(spec: Spec, strategy: Strategy | None, arns: Arns) -> list[Group]:
    """What the strategy's steps, their inverses and its gates call."""
    p = spec
    out: list[Group] = []
    if strategy is Strategy.ECS_TARGET_GROUPS:
        out += ecs_rollout(spec, arns) + listener_traffic(spec, arns)
    elif strategy is Strategy.ECS_TASK_DEFINITION:
        out += ecs_rollout(spec, arns)
    elif strategy in (Strategy.ECS_NATIVE, Strategy.ECS_CODEDEPLOY):
        out += controlled_rollout(spec, strategy, arns, ecs_rollout(spec, arns))
    elif strategy is Strategy.ASG_SWAP:
        out += asg_rollout(spec, arns, attach=True) + listener_traffic(spec, arns)
    elif strategy is Strategy.DNS_CUTOVER:
        if p.ecs is not None:
            out += ecs_rollout(spec, arns)
        elif p.asg is not None:
            out += asg_rollout(spec, arns, attach=False)
        out += dns_traffic(spec, arns)
    if strategy is not None:
        out.append(target_health_gate())
        if spec.health.alarms:
            out.append(alarm_reads())
        if spec.analysis is not None:
            out.append(metric_reads())
    return out


def metric_reads() -> Group:
    return Group("MetricGates", ("cloudwatch:GetMetricData",),
                 "gates: the analysis section's metric queries through every bake (GetMetricData has no "
                 "resource-level permissions)")


# --- extras: the state store and the image ------------------------------------------------------


def state_store(spec: Spec, arns: Arns) -> list[Group]:
    """DynamoDB state: the lock (conditional put, renew, release), journal, records, history."""
    if not isinstance(spec.state, DynamoState):
        return []
    return [Group("StateTable", ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem",
                                 "dynamodb:DeleteItem", "dynamodb:Query"),
                  "locks, journal, deployment records and history (UpdateItem renews the lock's lease)",
                  (arns.table(spec.state.table),))]


def image_build(spec: Spec, arns: Arns) -> list[Group]:
    """`build` / `deploy --build`: look-ups, the registry login, the push, and the repository."""
    image = spec.image
    if image.build is None:
        return []
    calls = ["ecr:DescribeRepositories", "ecr:DescribeImages", "ecr:BatchGetImage",
             # `docker push` to ECR (authorized per layer and for the manifest):
             "ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
             "ecr:CompleteLayerUpload", "ecr:PutImage"]
    if image.create_repository:
        calls.append("ecr:CreateRepository")
    return [
        Group("ImagePush", tuple(calls),
              "build: compare with what the tag holds, push the image (docker push authorizes each layer "
              "upload and PutImage)" + (", create the repository" if image.create_repository else ""),
              (arns.repository(image.repository),)),
        Group("RegistryLogin", ("ecr:GetAuthorizationToken",),
              "build: registry credentials for the push (GetAuthorizationToken has no resource-level "
              "permissions)"),
    ]


# --- composing ------------------------------------------------------------------------------------


def strategy_of(spec: Spec) -> Strategy | None:
    from bluegreen.planning.planner import choose_strategy

    return choose_strategy(spec).strategy


def groups(spec: Spec, *, plan_only: bool = False, account: str = "*", region: str | None = None) -> list[Group]:
    """The statements for one spec: planning reads, then (unless plan_only) the strategy's and extras."""
    arns = Arns(region or spec.region, account)
    strategy = strategy_of(spec)
    out = planning_reads(spec, arns) + controlled_reads(spec, strategy, arns)
    if not plan_only:
        out += strategy_groups(spec, strategy, arns)
        out += state_store(spec, arns) + image_build(spec, arns)
        out += hook_groups(spec, arns) + notify_groups(spec, arns)
    return out


def policy(specs: Spec | Sequence[Spec], *, plan_only: bool = False, account: str = "*",
           region: str | None = None) -> dict[str, Any]:
    """The IAM policy document for one spec (or the union for several, with per-service Sids)."""
    many = [specs] if isinstance(specs, Spec) else list(specs)
    statements: list[dict[str, Any]] = []
    for spec in many:
        suffix = _sid_suffix(spec.service) if len(many) > 1 else ""
        for group in groups(spec, plan_only=plan_only, account=account, region=region):
            statement = group.statement()
            statement["Sid"] += suffix
            statements.append(statement)
    return {"Version": VERSION, "Statement": _without_repeats(statements)}


def actions(document: Mapping[str, Any]) -> set[str]:
    """Every action a policy document allows."""
    out: set[str] = set()
    for statement in document["Statement"]:
        granted = statement["Action"]
        out.update([granted] if isinstance(granted, str) else granted)
    return out


def _sid_suffix(service: str) -> str:
    return "".join(part.capitalize() for part in _SID.sub(" ", service).split())


def _key(statement: Mapping[str, Any]) -> str:
    return json.dumps([statement["Resource"], statement.get("Condition")], sort_keys=True)


def _without_repeats(statements: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop actions an earlier statement already grants on the same resources and condition."""
    granted: dict[str, set[str]] = {}
    out: list[dict[str, Any]] = []
    for statement in statements:
        key = _key(statement)
        seen = granted.setdefault(key, set())
        remaining = [a for a in statement["Action"] if a not in seen]
        seen.update(remaining)
        if remaining:
            out.append(statement | {"Action": remaining})
    return out
