"""Read the live state the specs refer to: read-only calls only, batched across every spec at once.

Per region, three rounds; the calls of a round run concurrently (boto3 clients are thread-safe):

1. by name: ECS services (DescribeServices, 10 per call per cluster), load balancers and target
   groups (20 per call), Auto Scaling groups (50), launch templates, classic ELBs, hosted zones
   (ListHostedZonesByName once per zone name), alarms (100), ECR repositories.
2. what those point at: listeners per load balancer, task definitions (once per distinct ARN, with
   tags), target groups known only by ARN, launch-template versions ($Latest, $Default and the ones
   groups use), classic ELB instance health, record sets once per zone, and the attributes and
   target health of every target group found by name (no batch API exists for those two).
3. the rest: listener rules (only where a route has `rule_priority`), attributes and health of
   target groups found by ARN, image digests (DescribeImages for the wanted tag), IAM roles named in
   task definitions, and secret references (ssm DescribeParameters / secretsmanager DescribeSecret:
   existence only, values are never read).

The one value read is the image reference an Auto Scaling group with `ssm-parameter` image delivery
keeps in SSM (GetParameters, round 1): an image name, not a secret; a SecureString is never returned.

Nothing here raises for a missing resource or an AWS error: each becomes a `Finding` naming the
resource (and the operation, for errors). Discovery reports weights, attachments and records; the
planner decides which color is live.
"""

from __future__ import annotations

import base64
import gzip
import re
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence, TypeVar

from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.snapshot import (
    AsgInstance,
    AutoScalingGroup,
    ClassicElb,
    DnsRecord,
    EcsDeployment,
    EcsService,
    Finding,
    ImageInfo,
    LaunchTemplate,
    Listener,
    LoadBalancer,
    Rule,
    Snapshot,
    TargetGroup,
    TargetHealth,
    TaskDefinition,
    Weights,
)
from bluegreen.domain.spec import Spec, SsmParameterDelivery

WORKERS = 8
SERVICES_PER_CALL = 10
ELB_NAMES_PER_CALL = 20
ASGS_PER_CALL = 50
ALARMS_PER_CALL = 100
REPOSITORIES_PER_CALL = 100
IMAGE_IDS_PER_CALL = 100
PARAMETER_NAMES_PER_CALL = 50
IMAGE_PARAMETERS_PER_CALL = 10  # GetParameters' limit
LAUNCH_TEMPLATE_NAMES_PER_CALL = 200
DEFAULT_DEREGISTRATION_DELAY = 300

# Fields describe_task_definition returns that register_task_definition does not take.
TASK_DEFINITION_READ_ONLY = frozenset({
    "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities",
    "registeredAt", "registeredBy", "deregisteredAt",
})

NOT_FOUND_CODES = frozenset({
    "LoadBalancerNotFound", "TargetGroupNotFound", "ListenerNotFound", "AccessPointNotFound",
    "RepositoryNotFoundException", "ImageNotFoundException", "NoSuchEntity", "ResourceNotFoundException",
    "NoSuchHostedZone", "InvalidLaunchTemplateName.NotFoundException", "InvalidLaunchTemplateId.NotFound",
    "InvalidLaunchTemplateId.VersionNotFound",
})

T = TypeVar("T")
COLORS = ("blue", "green")


# --- public -------------------------------------------------------------------------------------


def discover(aws: Aws, specs: Sequence[Spec], *, image_tag: str | None = None) -> dict[str, Snapshot]:
    """The live state of every spec, keyed by `spec.service`, read with read-only calls only.

    Every spec is read in `aws.region` (the effective region: a `--region` override, else the
    specs' own region; the caller groups specs by it). `image_tag`: the tag whose digest to resolve
    in each spec's repository; when None, the tag of the image the serving container runs (the
    service/group with the most desired capacity).
    """
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="discover") as pool:
        reader = _Reader(aws, pool)
        reader.read(list(specs), image_tag)
        return {spec.service: _Assembler(spec, reader, image_tag).snapshot() for spec in specs}


def offline_snapshot(spec: Spec, region: str | None = None) -> Snapshot:
    """A snapshot that read nothing: for plans made without AWS access."""
    return Snapshot(
        service=spec.service,
        region=region or spec.region,
        offline=True,
        findings=(Finding("warning", "discovery",
                          "offline: nothing live was read from AWS; the plan shows what the spec asks for, "
                          "not what is deployed (live color, weights, revisions and image digests are unknown)"),),
    )


# --- helpers ------------------------------------------------------------------------------------


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (ClientError, BotoCoreError)


def _code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def _describe_error(exc: BaseException, operation: str) -> str:
    response = getattr(exc, "response", None)
    operation = getattr(exc, "operation_name", None) or operation
    if isinstance(response, dict):
        error = response.get("Error", {})
        return f"{operation} failed: {error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
    return f"{operation} failed: {type(exc).__name__}: {exc}"


def _norm_dns(name: str) -> str:
    return name.replace("\\052", "*").rstrip(".").lower()


def _role_name(arn_or_name: str) -> str:
    return arn_or_name.rsplit("/", 1)[-1] if arn_or_name.startswith("arn:") else arn_or_name


def _short_td(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def _decode_user_data(data: str | None) -> str | None:
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


def _image_pattern(repository_uri: str) -> re.Pattern[str]:
    return re.compile(re.escape(repository_uri)
                      + r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?"
                      + r"(?![A-Za-z0-9_./:@-])")


def _secret_target(reference: str) -> tuple[str, str]:
    """('ssm', parameter name) or ('secretsmanager', secret ARN without a JSON-key suffix)."""
    if reference.startswith("arn:") and ":secretsmanager:" in reference:
        return "secretsmanager", ":".join(reference.split(":")[:7])
    if reference.startswith("arn:") and ":ssm:" in reference:
        rest = reference.split(":", 5)[5].split("/", 1)[1]  # parameter/NAME
        return "ssm", ("/" + rest if "/" in rest else rest)
    return "ssm", reference  # a bare parameter name (same region)


def _ssm_candidates(name: str) -> tuple[str, ...]:
    # `parameter/x` is the ARN of both `x` and `/x`; hierarchical names always start with `/`
    return (name,) if name.startswith("/") else (name, "/" + name)


# --- round-by-round reads -----------------------------------------------------------------------


@dataclass
class _Reader:
    """Everything read for the specs of one region, keyed for lookup, plus errors per resource."""

    aws: Aws
    pool: ThreadPoolExecutor
    errors: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, key) -> the failed call
    gone: dict[tuple[str, str], str] = field(default_factory=dict)  # (kind, key) -> why it is not usable
    services: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    load_balancers: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    target_groups: dict[str, dict[str, Any]] = field(default_factory=dict)  # by ARN
    tg_attributes: dict[str, dict[str, str]] = field(default_factory=dict)  # by TG ARN
    tg_health: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by TG ARN
    listeners: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by LB ARN
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by listener ARN
    task_definitions: dict[str, tuple[dict[str, Any], list[dict[str, str]]]] = field(default_factory=dict)
    asgs: dict[str, dict[str, Any]] = field(default_factory=dict)
    launch_templates: dict[str, dict[str, Any]] = field(default_factory=dict)  # by name
    lt_versions: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (LT id, number)
    classic_elbs: dict[str, dict[str, Any]] = field(default_factory=dict)
    classic_health: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    zones: dict[str, str] = field(default_factory=dict)  # spec zone (name or id) -> zone id
    zone_notes: dict[str, str] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # by zone id
    alarms: dict[str, str] = field(default_factory=dict)
    repositories: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)  # (repo, kind, value)
    roles: dict[str, bool] = field(default_factory=dict)
    secrets: dict[str, bool] = field(default_factory=dict)  # by secret target (ARN / parameter name)
    image_parameters: dict[str, str] = field(default_factory=dict)  # SSM image parameter -> image
    image_parameter_notes: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # plumbing

    def client(self, name: str) -> Any:
        return self.aws.client(name)

    def fail(self, kind: str, keys: Iterable[str], exc: BaseException, operation: str) -> None:
        message = _describe_error(exc, operation)
        with self._lock:
            for key in keys:
                self.errors.setdefault((kind, key), message)

    def run(self, tasks: list[Callable[[], None]]) -> None:
        for _ in self.pool.map(lambda task: task(), tasks):
            pass

    def guarded(self, kind: str, keys: list[str], operation: str, task: Callable[[], None]) -> Callable[[], None]:
        errors = _aws_errors()

        def run() -> None:
            try:
                task()
            except errors as exc:
                self.fail(kind, keys, exc, operation)

        return run

    def batched(self, kind: str, names: list[str], operation: str,
                fetch: Callable[[list[str]], None]) -> Callable[[], None]:
        """fetch(names); when the whole batch is refused because one name is missing, ask one by one."""
        errors = _aws_errors()

        def run() -> None:
            try:
                fetch(names)
            except errors as exc:
                if _code(exc) not in NOT_FOUND_CODES:
                    self.fail(kind, names, exc, operation)
                    return
                if len(names) == 1:
                    return  # missing: absent from the maps
                for name in names:
                    try:
                        fetch([name])
                    except errors as inner:
                        if _code(inner) not in NOT_FOUND_CODES:
                            self.fail(kind, [name], inner, operation)

        return run

    # the rounds

    def read(self, specs: list[Spec], image_tag: str | None) -> None:
        self.run(self._round_one(specs))
        self.run(self._round_two(specs))
        self.run(self._round_three(specs, image_tag))

    def _round_one(self, specs: list[Spec]) -> list[Callable[[], None]]:
        services: dict[str, set[str]] = defaultdict(set)
        lbs, tgs, asgs, lts, clbs, zones, alarms, repos, image_parameters = (  # type: ignore[var-annotated]
            set() for _ in range(9))
        for spec in specs:
            ecs, asg, t = spec.ecs, spec.asg, spec
            if ecs:
                services[ecs.cluster].update(_ecs_names(spec))
            if asg:
                asgs.update(asg.group_name(c) for c in COLORS)
                lts.add(asg.launch_template)
            for route in t.routes:
                lbs.add(route.load_balancer)
                tgs.update((route.blue_target_group, route.green_target_group))
            if t.target_group:
                tgs.add(t.target_group)
            if t.dns and t.dns.target_groups:
                tgs.update((t.dns.target_groups.blue, t.dns.target_groups.green))
            if t.classic_elb:
                clbs.add(t.classic_elb)
            if t.dns:
                zones.add(t.dns.hosted_zone)
            alarms.update(spec.health.alarms)
            repos.add(spec.image.repository)
            image_parameters.update(_image_parameter_names(spec).values())

        tasks: list[Callable[[], None]] = []
        for cluster, names in services.items():
            for batch in _chunks(sorted(names), SERVICES_PER_CALL):
                tasks.append(self.guarded("ecs service", [f"{cluster}/{n}" for n in batch], "DescribeServices",
                                          lambda c=cluster, b=batch: self._services(c, b)))
        for batch in _chunks(sorted(lbs), ELB_NAMES_PER_CALL):
            tasks.append(self.batched("load balancer", batch, "DescribeLoadBalancers", self._load_balancers))
        for batch in _chunks(sorted(tgs), ELB_NAMES_PER_CALL):
            tasks.append(self.batched("target group", batch, "DescribeTargetGroups", self._target_groups_by_name))
        for batch in _chunks(sorted(asgs), ASGS_PER_CALL):
            tasks.append(self.guarded("asg", batch, "DescribeAutoScalingGroups", lambda b=batch: self._asgs(b)))
        for batch in _chunks(sorted(lts), LAUNCH_TEMPLATE_NAMES_PER_CALL):
            tasks.append(self.guarded("launch template", batch, "DescribeLaunchTemplates",
                                      lambda b=batch: self._launch_templates(b)))
        for batch in _chunks(sorted(clbs), ELB_NAMES_PER_CALL):
            tasks.append(self.batched("classic elb", batch, "DescribeLoadBalancers", self._classic_elbs))
        for zone in sorted(zones):
            tasks.append(self.guarded("hosted zone", [zone], "ListHostedZonesByName", lambda z=zone: self._zone(z)))
        for batch in _chunks(sorted(alarms), ALARMS_PER_CALL):
            tasks.append(self.guarded("alarm", batch, "DescribeAlarms", lambda b=batch: self._alarms(b)))
        for batch in _chunks(sorted(repos), REPOSITORIES_PER_CALL):
            tasks.append(self.batched("ecr repository", batch, "DescribeRepositories", self._repositories))
        for batch in _chunks(sorted(image_parameters), IMAGE_PARAMETERS_PER_CALL):
            tasks.append(self.guarded("image parameter", batch, "GetParameters",
                                      lambda b=batch: self._image_parameters(b)))
        return tasks

    def _round_two(self, specs: list[Spec]) -> list[Callable[[], None]]:
        tasks: list[Callable[[], None]] = []
        for lb in self.load_balancers.values():
            arn = lb["LoadBalancerArn"]
            tasks.append(self.guarded("listeners", [arn], "DescribeListeners", lambda a=arn: self._listeners(a)))
        for arn in sorted({svc["taskDefinition"] for svc in self.services.values()}):
            tasks.append(self.guarded("task definition", [arn], "DescribeTaskDefinition",
                                      lambda a=arn: self._task_definition(a)))
        # target groups the specs reach only through an ECS service or an Auto Scaling group
        referenced = {lb["targetGroupArn"] for svc in self.services.values()
                      for lb in svc.get("loadBalancers", []) if lb.get("targetGroupArn")}
        referenced |= {arn for g in self.asgs.values() for arn in g.get("TargetGroupARNs", [])}
        unknown = sorted(referenced - set(self.target_groups))
        for batch in _chunks(unknown, ELB_NAMES_PER_CALL):
            tasks.append(self.batched("target group arn", batch, "DescribeTargetGroups", self._target_groups_by_arn))
        tasks.extend(self._tg_detail_tasks(sorted(self.target_groups)))
        for name, lt in self.launch_templates.items():
            versions = {"$Latest", "$Default"}
            for group in self.asgs.values():
                spec_lt = _asg_launch_template(group)
                if spec_lt and (spec_lt.get("LaunchTemplateName") == name
                                or spec_lt.get("LaunchTemplateId") == lt["LaunchTemplateId"]):
                    versions.add(str(spec_lt.get("Version") or "$Default"))
                    versions.update(str(i["LaunchTemplate"]["Version"]) for i in group.get("Instances", [])
                                    if i.get("LaunchTemplate", {}).get("Version"))
            tasks.append(self.guarded("launch template versions", [name], "DescribeLaunchTemplateVersions",
                                      lambda l=lt, v=sorted(versions): self._lt_versions(l, v)))
        for name in sorted(self.classic_elbs):
            tasks.append(self.guarded("classic elb health", [name], "DescribeInstanceHealth",
                                      lambda n=name: self._classic_health(n)))
        wanted: dict[str, set[str]] = defaultdict(set)
        for spec in specs:
            if spec.dns and spec.dns.hosted_zone in self.zones:
                wanted[self.zones[spec.dns.hosted_zone]].add(_norm_dns(spec.dns.record))
        for zone_id, names in sorted(wanted.items()):
            tasks.append(self.guarded("records", [zone_id], "ListResourceRecordSets",
                                      lambda z=zone_id, n=names: self._records(z, n)))
        return tasks

    def _round_three(self, specs: list[Spec], image_tag: str | None) -> list[Callable[[], None]]:
        tasks: list[Callable[[], None]] = []
        # rules, only for listeners a route with rule_priority points at
        rule_listeners: set[str] = set()
        for spec in specs:
            for route in spec.routes:
                if route.rule_priority is None:
                    continue
                listener = self.listener(route.load_balancer, route.port)
                if listener:
                    rule_listeners.add(listener["ListenerArn"])
        for arn in sorted(rule_listeners):
            tasks.append(self.guarded("rules", [arn], "DescribeRules", lambda a=arn: self._rules(a)))
        tasks.extend(self._tg_detail_tasks(sorted(a for a in self.target_groups if a not in self.tg_attributes
                                                  and ("tg attributes", a) not in self.errors)))
        # images
        image_ids: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for spec in specs:
            repo = spec.image.repository
            if repo not in self.repositories:
                continue
            if image_tag is not None:
                image_ids[repo].add(("imageTag", image_tag))
            else:
                tag, digest, _ = _serving_image(spec, self)
                if digest:
                    image_ids[repo].add(("imageDigest", digest))
                elif tag:
                    image_ids[repo].add(("imageTag", tag))
        for repo, ids in sorted(image_ids.items()):
            for batch in _chunks(sorted(ids), IMAGE_IDS_PER_CALL):
                keys = [f"{repo}:{kind}:{value}" for kind, value in batch]
                tasks.append(self.batched("image", keys, "DescribeImages",
                                          lambda ks, r=repo: self._images(r, ks)))
        # roles and secret references named by the specs and their task definitions
        roles: set[str] = set()
        references: set[str] = set()
        for spec in specs:
            if spec.ecs:
                references.update(spec.ecs.secrets.values())
            for td in _spec_task_definitions(spec, self):
                roles.update(r for r in (td.get("executionRoleArn"), td.get("taskRoleArn")) if r)
                references.update(_td_secret_references(td))
        for role in sorted(roles):
            tasks.append(self.guarded("role", [role], "GetRole", lambda r=role: self._role(r)))
        targets = {_secret_target(ref) for ref in references}
        parameters = sorted(name for kind, name in targets if kind == "ssm")
        for batch in _chunks(parameters, PARAMETER_NAMES_PER_CALL // 2):
            tasks.append(self.guarded("secret", batch, "DescribeParameters", lambda b=batch: self._parameters(b)))
        for arn in sorted(name for kind, name in targets if kind == "secretsmanager"):
            tasks.append(self.guarded("secret", [arn], "DescribeSecret", lambda a=arn: self._secret(a)))
        return tasks

    def _tg_detail_tasks(self, arns: list[str]) -> list[Callable[[], None]]:
        tasks: list[Callable[[], None]] = []
        for arn in arns:
            tasks.append(self.guarded("tg attributes", [arn], "DescribeTargetGroupAttributes",
                                      lambda a=arn: self._tg_attributes(a)))
            tasks.append(self.guarded("tg health", [arn], "DescribeTargetHealth", lambda a=arn: self._tg_health(a)))
        return tasks

    # lookups used by the rounds and the assembler

    def load_balancer(self, name: str) -> dict[str, Any] | None:
        return self.load_balancers.get(name)

    def target_group(self, name: str) -> dict[str, Any] | None:
        return next((tg for tg in self.target_groups.values() if tg["TargetGroupName"] == name), None)

    def listener(self, lb_name: str, port: int) -> dict[str, Any] | None:
        lb = self.load_balancers.get(lb_name)
        if lb is None:
            return None
        return next((l for l in self.listeners.get(lb["LoadBalancerArn"], []) if l.get("Port") == port), None)

    # the calls (read-only, each for one batch)

    def _services(self, cluster: str, names: list[str]) -> None:
        from botocore.exceptions import ClientError

        try:
            response = self.client("ecs").describe_services(cluster=cluster, services=names)
        except ClientError as exc:
            if _code(exc) == "ClusterNotFoundException":
                with self._lock:
                    for name in names:
                        self.gone[("ecs service", f"{cluster}/{name}")] = f"ECS cluster {cluster} not found"
                return
            raise
        for svc in response.get("services", []):
            key = (cluster, svc["serviceName"])
            if svc.get("status") == "INACTIVE":
                self.gone[("ecs service", f"{cluster}/{svc['serviceName']}")] = (
                    f"ecs service {svc['serviceName']} is INACTIVE (deleted) in cluster {cluster}")
                continue
            self.services[key] = svc

    def _load_balancers(self, names: list[str]) -> None:
        for lb in self.client("elbv2").describe_load_balancers(Names=names)["LoadBalancers"]:
            self.load_balancers[lb["LoadBalancerName"]] = lb

    def _target_groups_by_name(self, names: list[str]) -> None:
        for tg in self.client("elbv2").describe_target_groups(Names=names)["TargetGroups"]:
            self.target_groups[tg["TargetGroupArn"]] = tg

    def _target_groups_by_arn(self, arns: list[str]) -> None:
        for tg in self.client("elbv2").describe_target_groups(TargetGroupArns=arns)["TargetGroups"]:
            self.target_groups[tg["TargetGroupArn"]] = tg

    def _tg_attributes(self, arn: str) -> None:
        attributes = self.client("elbv2").describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
        self.tg_attributes[arn] = {a["Key"]: a["Value"] for a in attributes}

    def _tg_health(self, arn: str) -> None:
        self.tg_health[arn] = self.client("elbv2").describe_target_health(
            TargetGroupArn=arn)["TargetHealthDescriptions"]

    def _listeners(self, lb_arn: str) -> None:
        found: list[dict[str, Any]] = []
        for page in self.client("elbv2").get_paginator("describe_listeners").paginate(LoadBalancerArn=lb_arn):
            found.extend(page["Listeners"])
        self.listeners[lb_arn] = found

    def _rules(self, listener_arn: str) -> None:
        found: list[dict[str, Any]] = []
        for page in self.client("elbv2").get_paginator("describe_rules").paginate(ListenerArn=listener_arn):
            found.extend(page["Rules"])
        self.rules[listener_arn] = found

    def _task_definition(self, arn: str) -> None:
        response = self.client("ecs").describe_task_definition(taskDefinition=arn, include=["TAGS"])
        self.task_definitions[arn] = (response["taskDefinition"], response.get("tags", []))

    def _asgs(self, names: list[str]) -> None:
        paginator = self.client("autoscaling").get_paginator("describe_auto_scaling_groups")
        for page in paginator.paginate(AutoScalingGroupNames=names):
            for group in page["AutoScalingGroups"]:
                self.asgs[group["AutoScalingGroupName"]] = group

    def _launch_templates(self, names: list[str]) -> None:
        # a name filter, not LaunchTemplateNames: one missing name must not hide the others
        response = self.client("ec2").describe_launch_templates(
            Filters=[{"Name": "launch-template-name", "Values": names}])
        for lt in response["LaunchTemplates"]:
            self.launch_templates[lt["LaunchTemplateName"]] = lt

    def _lt_versions(self, lt: dict[str, Any], versions: list[str]) -> None:
        response = self.client("ec2").describe_launch_template_versions(
            LaunchTemplateId=lt["LaunchTemplateId"], Versions=versions)
        for version in response["LaunchTemplateVersions"]:
            self.lt_versions[(lt["LaunchTemplateId"], int(version["VersionNumber"]))] = version

    def _classic_elbs(self, names: list[str]) -> None:
        response = self.client("elb").describe_load_balancers(LoadBalancerNames=names)
        for lb in response["LoadBalancerDescriptions"]:
            self.classic_elbs[lb["LoadBalancerName"]] = lb

    def _classic_health(self, name: str) -> None:
        self.classic_health[name] = self.client("elb").describe_instance_health(
            LoadBalancerName=name)["InstanceStates"]

    def _zone(self, zone: str) -> None:
        route53 = self.client("route53")
        if "." not in zone:  # an id
            found = route53.get_hosted_zone(Id=zone)["HostedZone"]
            self.zones[zone] = found["Id"].rsplit("/", 1)[-1]
            return
        wanted = zone.rstrip(".").lower() + "."
        response = route53.list_hosted_zones_by_name(DNSName=wanted, MaxItems="10")
        matches = [z for z in response["HostedZones"] if z["Name"].lower() == wanted]
        if not matches:
            return
        public = [z for z in matches if not z.get("Config", {}).get("PrivateZone")]
        chosen = (public or matches)[0]
        self.zones[zone] = chosen["Id"].rsplit("/", 1)[-1]
        if len(matches) > 1:
            self.zone_notes[zone] = (f"{len(matches)} hosted zones are named {zone}; read "
                                     f"{self.zones[zone]} ({'public' if public else 'private'})")

    def _records(self, zone_id: str, names: set[str]) -> None:
        """All record sets of the zone with one of `names`; one listing per zone, paginated."""
        route53 = self.client("route53")
        kwargs: dict[str, Any] = {"HostedZoneId": zone_id}
        single = next(iter(names)) if len(names) == 1 else None
        if single:  # records come sorted by name: start at it and stop after it
            kwargs["StartRecordName"] = single
        found: list[dict[str, Any]] = []
        while True:
            page = route53.list_resource_record_sets(**kwargs)
            past = False
            for record in page["ResourceRecordSets"]:
                name = _norm_dns(record["Name"])
                if name in names:
                    found.append(record)
                elif single:  # listing started at `single`: any other name comes after it
                    past = True
            if past or not page.get("IsTruncated"):
                break
            kwargs["StartRecordName"] = page["NextRecordName"]
            kwargs["StartRecordType"] = page["NextRecordType"]
            if page.get("NextRecordIdentifier"):
                kwargs["StartRecordIdentifier"] = page["NextRecordIdentifier"]
            else:
                kwargs.pop("StartRecordIdentifier", None)
        # a page boundary may repeat a record: keep the first of each (name, type, identifier)
        unique: dict[tuple[str, str, str], dict[str, Any]] = {}
        for record in found:
            unique.setdefault((record["Name"], record["Type"], record.get("SetIdentifier", "")), record)
        self.records[zone_id] = list(unique.values())

    def _alarms(self, names: list[str]) -> None:
        paginator = self.client("cloudwatch").get_paginator("describe_alarms")
        for page in paginator.paginate(AlarmNames=names, AlarmTypes=["MetricAlarm", "CompositeAlarm"]):
            for alarm in page.get("MetricAlarms", []) + page.get("CompositeAlarms", []):
                self.alarms[alarm["AlarmName"]] = alarm["StateValue"]

    def _repositories(self, names: list[str]) -> None:
        for repo in self.client("ecr").describe_repositories(repositoryNames=names)["repositories"]:
            self.repositories[repo["repositoryName"]] = repo

    def _images(self, repo: str, keys: list[str]) -> None:
        ids = []
        for key in keys:
            _, kind, value = key.split(":", 2)  # repo:imageTag:v1 / repo:imageDigest:sha256:...
            ids.append({kind: value})
        response = self.client("ecr").describe_images(repositoryName=repo, imageIds=ids)
        for detail in response["imageDetails"]:
            self.images[(repo, "imageDigest", detail["imageDigest"])] = detail
            for tag in detail.get("imageTags", []):
                self.images[(repo, "imageTag", tag)] = detail

    def _role(self, role: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client("iam").get_role(RoleName=_role_name(role))
            self.roles[role] = True
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            self.roles[role] = False

    def _parameters(self, names: list[str]) -> None:
        candidates = sorted({c for name in names for c in _ssm_candidates(name)})
        found: set[str] = set()
        paginator = self.client("ssm").get_paginator("describe_parameters")
        for page in paginator.paginate(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": candidates}]):
            found.update(p["Name"] for p in page["Parameters"])
        for name in names:
            self.secrets[name] = any(c in found for c in _ssm_candidates(name))

    def _image_parameters(self, names: list[str]) -> None:
        response = self.client("ssm").get_parameters(Names=names, WithDecryption=False)
        for parameter in response["Parameters"]:
            if parameter.get("Type") == "SecureString":
                self.image_parameter_notes[parameter["Name"]] = (
                    f"SSM parameter {parameter['Name']} is a SecureString; an image parameter should be a String "
                    "(its value was not read)")
                continue
            self.image_parameters[parameter["Name"]] = parameter["Value"]

    def _secret(self, arn: str) -> None:
        from botocore.exceptions import ClientError

        try:
            described = self.client("secretsmanager").describe_secret(SecretId=arn)
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            self.secrets[arn] = False
            return
        if described.get("DeletedDate"):
            self.gone[("secret", arn)] = f"secret {described.get('Name', arn)} is scheduled for deletion"
            self.secrets[arn] = False
        else:
            self.secrets[arn] = True


# --- from raw reads to one spec's snapshot -----------------------------------------------------


def _ecs_names(spec: Spec) -> list[str]:
    ecs = spec.ecs
    if ecs is None:
        return []
    return ecs.service_names


def _image_parameter_names(spec: Spec) -> dict[str, str]:
    """color -> SSM parameter holding the image, for `ssm-parameter` image delivery."""
    asg = spec.asg
    if asg is None or not isinstance(asg.image_delivery, SsmParameterDelivery):
        return {}
    return {c: asg.image_delivery.name_for(c) for c in COLORS}


def _asg_launch_template(group: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return group.get("LaunchTemplate") or (
        group.get("MixedInstancesPolicy", {}).get("LaunchTemplate", {}).get("LaunchTemplateSpecification"))


def _spec_task_definitions(spec: Spec, r: _Reader) -> list[dict[str, Any]]:
    ecs = spec.ecs
    if ecs is None:
        return []
    out = []
    for name in _ecs_names(spec):
        svc = r.services.get((ecs.cluster, name))
        if svc and svc["taskDefinition"] in r.task_definitions:
            out.append(r.task_definitions[svc["taskDefinition"]][0])
    return out


def _td_secret_references(td: Mapping[str, Any]) -> set[str]:
    refs = set()
    for container in td.get("containerDefinitions", []):
        refs.update(s["valueFrom"] for s in container.get("secrets", []) if s.get("valueFrom"))
    return refs


def _lt_version(r: _Reader, lt: Mapping[str, Any], version: str | None) -> Mapping[str, Any] | None:
    if version in (None, "$Default"):
        number = int(lt["DefaultVersionNumber"])
    elif version == "$Latest":
        number = int(lt["LatestVersionNumber"])
    else:
        try:
            number = int(version)  # type: ignore[arg-type]
        except ValueError:
            return None
    return r.lt_versions.get((lt["LaunchTemplateId"], number))


def _serving_image(spec: Spec, r: _Reader) -> tuple[str | None, str | None, str | None]:
    """(tag, digest, note) of the image from the spec's repository that the serving workload runs.

    The serving workload is the spec's ECS service, or Auto Scaling group, with the most desired
    capacity: only to pick which image's digest to resolve; the planner decides the live color."""
    repo = r.repositories.get(spec.image.repository)
    if repo is None:
        return None, None, None
    pattern = _image_pattern(repo["repositoryUri"])
    ecs, asg = spec.ecs, spec.asg
    seen: list[str] = []
    if ecs:
        services = [r.services[(ecs.cluster, n)] for n in _ecs_names(spec) if (ecs.cluster, n) in r.services]
        services.sort(key=lambda s: (-s.get("desiredCount", 0), -s.get("runningCount", 0), s["serviceName"]))
        for svc in services:
            td = r.task_definitions.get(svc["taskDefinition"])
            if td is None:
                continue
            container = next((c for c in td[0].get("containerDefinitions", []) if c.get("name") == ecs.container), None)
            if container is None:
                continue
            match = pattern.fullmatch(container.get("image", ""))
            if match:
                return match["tag"], match["digest"], None
            seen.append(container.get("image", ""))
    if asg:
        groups = [r.asgs[asg.group_name(c)] for c in COLORS if asg.group_name(c) in r.asgs]
        groups.sort(key=lambda g: (-g.get("DesiredCapacity", 0), g["AutoScalingGroupName"]))
        lt = r.launch_templates.get(asg.launch_template)
        parameters = _image_parameter_names(spec)
        for group in groups:
            if parameters:
                color = next(c for c in COLORS if asg.group_name(c) == group["AutoScalingGroupName"])
                match = pattern.fullmatch(r.image_parameters.get(parameters[color], ""))
                if match:
                    return match["tag"], match["digest"], None
                continue
            ref = _asg_launch_template(group)
            if lt is None or ref is None:
                continue
            version = _lt_version(r, lt, ref.get("Version"))
            text = _decode_user_data(version.get("LaunchTemplateData", {}).get("UserData")) if version else None
            match = pattern.search(text or "")
            if match:
                return match["tag"], match["digest"], None
    if seen:
        return None, None, (f"container {ecs.container if ecs else ''} runs {seen[0]}, "
                            f"not an image from repository {spec.image.repository}")
    return None, None, None


def _forward(actions: list[Mapping[str, Any]]) -> Weights:
    for action in sorted(actions, key=lambda a: a.get("Order", 0)):
        if action.get("Type") != "forward":
            continue
        groups = action.get("ForwardConfig", {}).get("TargetGroups")
        if groups:
            return tuple((g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups)
        if action.get("TargetGroupArn"):
            return ((action["TargetGroupArn"], 1),)
    return ()


class _Assembler:
    """Builds one spec's Snapshot from the shared reads, explaining every gap as a Finding."""

    def __init__(self, spec: Spec, reader: _Reader, image_tag: str | None) -> None:
        self.spec, self.r, self.image_tag = spec, reader, image_tag
        self.findings: list[Finding] = []
        self.target_groups: dict[str, TargetGroup] = {}

    def missing(self, kind: str, key: str, subject: str, message: str, severity: str = "error") -> None:
        """`subject` is absent: say whether reading it failed, why it is unusable, or that it is not there."""
        error = self.r.errors.get((kind, key))
        if error:
            self.findings.append(Finding("error", subject, f"could not read {subject}: {error}"))
        else:
            self.findings.append(Finding(severity, subject, self.r.gone.get((kind, key), message)))

    def note_error(self, kind: str, key: str, subject: str) -> None:
        """A read about `subject` (which exists) failed."""
        error = self.r.errors.get((kind, key))
        if error:
            self.findings.append(Finding("error", subject, f"could not read {subject}: {error}"))

    def snapshot(self) -> Snapshot:
        spec = self.spec
        load_balancers, listeners = self.routes()
        for name in self.named_target_groups():
            self.add_target_group_by_name(name)
        ecs_services, task_definitions = self.ecs()
        asgs, launch_templates = self.asgs()
        classic_elbs = self.classic_elbs()
        zone_id, records = self.dns()
        alarms = self.alarms()
        image = self.image()
        roles, secrets = self.roles_and_secrets(task_definitions)
        image_parameters = self.image_parameters()
        return Snapshot(
            service=spec.service, region=self.r.aws.region, load_balancers=load_balancers, listeners=listeners,
            target_groups=dict(self.target_groups), ecs_services=ecs_services, task_definitions=task_definitions,
            asgs=asgs, launch_templates=launch_templates, classic_elbs=classic_elbs, dns_zone_id=zone_id,
            dns_records=records, alarms=alarms, image=image, roles=roles, secrets=secrets,
            image_parameters=image_parameters, findings=tuple(self.findings),
        )

    # traffic

    def named_target_groups(self) -> list[str]:
        t = self.spec
        names = [n for route in t.routes for n in (route.blue_target_group, route.green_target_group)]
        if t.target_group:
            names.append(t.target_group)
        if t.dns and t.dns.target_groups:
            names += [t.dns.target_groups.blue, t.dns.target_groups.green]
        return list(dict.fromkeys(names))

    def add_target_group_by_name(self, name: str) -> TargetGroup | None:
        raw = self.r.target_group(name)
        if raw is None:
            self.missing("target group", name, f"target group {name}", f"target group {name} not found")
            return None
        return self.add_target_group(raw)

    def add_target_group(self, raw: Mapping[str, Any]) -> TargetGroup:
        name, arn = raw["TargetGroupName"], raw["TargetGroupArn"]
        if name in self.target_groups:
            return self.target_groups[name]
        subject = f"target group {name}"
        self.note_error("tg attributes", arn, subject)
        self.note_error("tg health", arn, subject)
        attributes = self.r.tg_attributes.get(arn, {})
        delay = int(attributes.get("deregistration_delay.timeout_seconds", DEFAULT_DEREGISTRATION_DELAY))
        targets = tuple(
            TargetHealth(
                target_id=d["Target"]["Id"], port=d["Target"].get("Port"),
                state=d.get("TargetHealth", {}).get("State", "unavailable"),
                reason=d.get("TargetHealth", {}).get("Reason") or d.get("TargetHealth", {}).get("Description"))
            for d in self.r.tg_health.get(arn, []))
        tg = TargetGroup(
            arn=arn, name=name, protocol=raw.get("Protocol"), port=raw.get("Port"),
            target_type=raw.get("TargetType", "instance"),
            health_check_interval=int(raw.get("HealthCheckIntervalSeconds", 30)),
            healthy_threshold=int(raw.get("HealthyThresholdCount", 5)),
            deregistration_delay=delay,
            load_balancer_arns=tuple(dict.fromkeys(raw.get("LoadBalancerArns", []))),
            targets=targets,
        )
        self.target_groups[name] = tg
        return tg

    def add_target_group_by_arn(self, arn: str, subject: str) -> None:
        raw = self.r.target_groups.get(arn)
        if raw is not None:
            self.add_target_group(raw)
        else:
            self.missing("target group arn", arn, f"target group {arn}",
                         f"{subject} points at target group {arn}, which does not exist")

    def routes(self) -> tuple[dict[str, LoadBalancer], tuple[Listener, ...]]:
        t = self.spec
        lbs: dict[str, LoadBalancer] = {}
        wanted: dict[tuple[str, int], set[int]] = {}  # (lb, port) -> rule priorities
        for route in t.routes:
            priorities = wanted.setdefault((route.load_balancer, route.port), set())
            if route.rule_priority is not None:
                priorities.add(route.rule_priority)
        route_lbs = list(dict.fromkeys(route.load_balancer for route in t.routes))
        for name in route_lbs:
            raw = self.r.load_balancer(name)
            if raw is None:
                self.missing("load balancer", name, f"load balancer {name}", f"load balancer {name} not found")
                continue
            lbs[name] = LoadBalancer(raw["LoadBalancerArn"], name, raw.get("DNSName", ""), raw.get("Type", ""))
            self.note_error("listeners", raw["LoadBalancerArn"], f"load balancer {name}")
        if t.test_listener:
            test_found = False
            readable = [n for n in route_lbs if n in lbs and ("listeners", lbs[n].arn) not in self.r.errors]
            for name in readable:
                if self.r.listener(name, t.test_listener.port):
                    wanted.setdefault((name, t.test_listener.port), set())
                    test_found = True
            if not test_found and readable:
                self.findings.append(Finding(
                    "error", f"test listener :{t.test_listener.port}",
                    f"no listener on port {t.test_listener.port} (the test listener) on load balancer "
                    f"{', '.join(lbs)}"))
        listeners: list[Listener] = []
        for (lb_name, port), priorities in wanted.items():
            if lb_name not in lbs or (("listeners", lbs[lb_name].arn) in self.r.errors):
                continue
            raw = self.r.listener(lb_name, port)
            if raw is None:
                self.findings.append(Finding("error", f"listener {lb_name}:{port}",
                                             f"no listener on port {port} of load balancer {lb_name}"))
                continue
            default = Rule(raw["ListenerArn"], None, _forward(raw.get("DefaultActions", [])))
            rules = []
            if priorities:
                self.note_error("rules", raw["ListenerArn"], f"listener {lb_name}:{port}")
            for priority in sorted(priorities):
                found = next((x for x in self.r.rules.get(raw["ListenerArn"], [])
                              if str(x.get("Priority")) == str(priority)), None)
                if found is None:
                    if ("rules", raw["ListenerArn"]) not in self.r.errors:
                        self.findings.append(Finding("error", f"listener {lb_name}:{port} rule {priority}",
                                                     f"no rule with priority {priority} on listener {lb_name}:{port}"))
                    continue
                rules.append(Rule(found["RuleArn"], priority, _forward(found.get("Actions", []))))
            listeners.append(Listener(raw["ListenerArn"], lb_name, port, raw.get("Protocol"), default, tuple(rules)))
        self.check_forwards(listeners)
        return lbs, tuple(listeners)

    def check_forwards(self, listeners: list[Listener]) -> None:
        """Warn when a route's listener/rule forwards somewhere other than its blue/green pair."""
        for route in self.spec.routes:
            pair = (self.r.target_group(route.blue_target_group), self.r.target_group(route.green_target_group))
            arns = {tg["TargetGroupArn"] for tg in pair if tg}
            if len(arns) != 2:
                continue
            listener = next((l for l in listeners if l.load_balancer == route.load_balancer and l.port == route.port), None)
            rule = listener.rule(route.rule_priority) if listener else None
            if rule is None:
                continue
            others = [arn for arn, _ in rule.forward if arn not in arns]
            where = f"listener {route.load_balancer}:{route.port}" + (
                f" rule {route.rule_priority}" if route.rule_priority else "")
            if not rule.forward:
                self.findings.append(Finding("error", where, f"{where} does not forward to a target group"))
            elif others:
                self.findings.append(Finding("warning", where, f"{where} also forwards to {', '.join(others)}, "
                                             f"which is neither {route.blue_target_group} nor {route.green_target_group}"))

    def classic_elbs(self) -> dict[str, ClassicElb]:
        name = self.spec.classic_elb
        if not name:
            return {}
        raw = self.r.classic_elbs.get(name)
        if raw is None:
            self.missing("classic elb", name, f"classic load balancer {name}", f"classic load balancer {name} not found")
            return {}
        self.note_error("classic elb health", name, f"classic load balancer {name}")
        instances = tuple(TargetHealth(s["InstanceId"], None, s.get("State", "Unknown"),
                                       None if s.get("ReasonCode") in (None, "N/A") else s["ReasonCode"])
                          for s in self.r.classic_health.get(name, []))
        return {name: ClassicElb(name, raw.get("DNSName", ""), instances)}

    def dns(self) -> tuple[str | None, tuple[DnsRecord, ...]]:
        dns = self.spec.dns
        if dns is None:
            return None, ()
        zone_id = self.r.zones.get(dns.hosted_zone)
        if zone_id is None:
            self.missing("hosted zone", dns.hosted_zone, f"hosted zone {dns.hosted_zone}",
                         f"hosted zone {dns.hosted_zone} not found")
            return None, ()
        if dns.hosted_zone in self.r.zone_notes:
            self.findings.append(Finding("warning", f"hosted zone {dns.hosted_zone}", self.r.zone_notes[dns.hosted_zone]))
        if ("records", zone_id) in self.r.errors:
            self.note_error("records", zone_id, f"record {dns.record}")
            return zone_id, ()
        wanted = _norm_dns(dns.record)
        records = []
        for raw in self.r.records.get(zone_id, []):
            if _norm_dns(raw["Name"]) != wanted:
                continue
            values = tuple(v["Value"] for v in raw.get("ResourceRecords", []))
            if not values and raw.get("AliasTarget"):
                values = (raw["AliasTarget"]["DNSName"].rstrip("."),)
            records.append(DnsRecord(
                zone_id=zone_id, name=_norm_dns(raw["Name"]), type=raw["Type"], set_identifier=raw.get("SetIdentifier"),
                weight=raw.get("Weight"), ttl=raw.get("TTL"), values=values, health_check_id=raw.get("HealthCheckId")))
        if not records:
            self.findings.append(Finding("error", f"record {dns.record}",
                                         f"no record named {dns.record} in hosted zone {dns.hosted_zone}"))
        elif not any(r.weight is not None for r in records):
            self.findings.append(Finding("error", f"record {dns.record}",
                                         f"record {dns.record} is not weighted (no SetIdentifier/Weight)"))
        records.sort(key=lambda r: (r.type, r.set_identifier or ""))
        return zone_id, tuple(records)

    # compute

    def ecs(self) -> tuple[dict[str, EcsService], dict[str, TaskDefinition]]:
        ecs = self.spec.ecs
        if ecs is None:
            return {}, {}
        services: dict[str, EcsService] = {}
        tds: dict[str, TaskDefinition] = {}
        for name in _ecs_names(self.spec):
            raw = self.r.services.get((ecs.cluster, name))
            if raw is None:
                self.missing("ecs service", f"{ecs.cluster}/{name}", f"ecs service {name}",
                             f"ecs service {name} not found in cluster {ecs.cluster}")
                continue
            services[name] = _ecs_service(ecs.cluster, raw)
            if raw.get("status") == "DRAINING":
                self.findings.append(Finding("warning", f"ecs service {name}", f"ecs service {name} is DRAINING"))
            for arn in services[name].target_group_arns:
                self.add_target_group_by_arn(arn, f"ecs service {name}")
            arn = raw["taskDefinition"]
            if arn in tds:
                continue
            found = self.r.task_definitions.get(arn)
            if found is None:
                self.missing("task definition", arn, f"task definition {_short_td(arn)}",
                             f"task definition {arn} (used by ecs service {name}) not found")
                continue
            td = _task_definition(*found)
            tds[arn] = td
            if ecs.container and td.container(ecs.container) is None:
                names = ", ".join(c.get("name", "?") for c in td.body.get("containerDefinitions", []))
                self.findings.append(Finding("error", f"task definition {_short_td(arn)}",
                                             f"task definition {_short_td(arn)} has no container named "
                                             f"{ecs.container} (it has {names})"))
        return services, tds

    def asgs(self) -> tuple[dict[str, AutoScalingGroup], dict[str, LaunchTemplate]]:
        asg = self.spec.asg
        if asg is None:
            return {}, {}
        groups: dict[str, AutoScalingGroup] = {}
        absent: list[str] = []
        for color in COLORS:
            name = asg.group_name(color)
            raw = self.r.asgs.get(name)
            if raw is None:
                absent.append(name)
                continue
            groups[name] = _asg(raw)
            for arn in groups[name].target_group_arns:
                self.add_target_group_by_arn(arn, f"auto scaling group {name}")
        for name in absent:
            # One color may be gone (deleted by `max_remaining_groups: 1`): the deploy recreates it.
            if groups:
                self.missing("asg", name, f"auto scaling group {name}", f"auto scaling group {name} not found: "
                             f"the deploy creates it as a copy of {next(iter(groups))}", severity="warning")
            else:
                self.missing("asg", name, f"auto scaling group {name}", f"auto scaling group {name} not found")
        lts: dict[str, LaunchTemplate] = {}
        lt = self.r.launch_templates.get(asg.launch_template)
        if lt is None:
            self.missing("launch template", asg.launch_template, f"launch template {asg.launch_template}",
                         f"launch template {asg.launch_template} not found")
            return groups, lts
        self.note_error("launch template versions", asg.launch_template, f"launch template {asg.launch_template}")
        for name, group in list(groups.items()):
            if group.launch_template_name in (None, lt["LaunchTemplateName"]):
                own = _lt_version(self.r, lt, group.launch_template_version)
                if own is not None:
                    groups[name] = replace(group, user_data=_decode_user_data(
                        own.get("LaunchTemplateData", {}).get("UserData")))
        for group in groups.values():
            if group.launch_template_name not in (None, lt["LaunchTemplateName"]):
                self.findings.append(Finding("warning", f"auto scaling group {group.name}",
                                             f"auto scaling group {group.name} uses launch template "
                                             f"{group.launch_template_name}, not {asg.launch_template}"))
        # the version the group with the most desired capacity runs (else $Default)
        serving = sorted(groups.values(), key=lambda g: (-g.desired, g.name))
        version = None
        for group in serving:
            if group.launch_template_name == lt["LaunchTemplateName"]:
                version = _lt_version(self.r, lt, group.launch_template_version)
                break
        version = version or _lt_version(self.r, lt, "$Default")
        data = version.get("LaunchTemplateData", {}) if version else {}
        lts[asg.launch_template] = LaunchTemplate(
            id=lt["LaunchTemplateId"], name=lt["LaunchTemplateName"],
            default_version=int(lt["DefaultVersionNumber"]), latest_version=int(lt["LatestVersionNumber"]),
            image_id=data.get("ImageId"), user_data=_decode_user_data(data.get("UserData")))
        return groups, lts

    # gates, image and pre-flight references

    def image_parameters(self) -> dict[str, str]:
        out = {}
        for name in dict.fromkeys(_image_parameter_names(self.spec).values()):
            if name in self.r.image_parameters:
                out[name] = self.r.image_parameters[name]
            elif name in self.r.image_parameter_notes:
                self.findings.append(Finding("warning", f"ssm parameter {name}", self.r.image_parameter_notes[name]))
            else:
                self.missing("image parameter", name, f"ssm parameter {name}",
                             f"SSM parameter {name} (image delivery) not found", severity="warning")
        return out

    def alarms(self) -> dict[str, str]:
        out = {}
        for name in self.spec.health.alarms:
            if name in self.r.alarms:
                out[name] = self.r.alarms[name]
            else:
                self.missing("alarm", name, f"alarm {name}", f"alarm {name} not found")
        return out

    def image(self) -> ImageInfo:
        spec_image = self.spec.image
        repo = spec_image.repository
        raw = self.r.repositories.get(repo)
        if raw is None:
            error = self.r.errors.get(("ecr repository", repo))
            if error:
                self.findings.append(Finding("error", f"ecr repository {repo}", f"could not read ecr repository {repo}: {error}"))
            elif spec_image.create_repository:
                self.findings.append(Finding("warning", f"ecr repository {repo}",
                                             f"ecr repository {repo} does not exist yet (create_repository: it will be created)"))
            else:
                self.findings.append(Finding("error", f"ecr repository {repo}",
                                             f"ecr repository {repo} not found (set image.create_repository to create it)"))
            return ImageInfo(repo, False, None, self.image_tag, None)
        immutable = raw.get("imageTagMutability") == "IMMUTABLE"
        if self.image_tag is not None:
            tag, digest, note = self.image_tag, None, None
        else:
            tag, digest, note = _serving_image(self.spec, self.r)
            if note:
                self.findings.append(Finding("warning", f"image {repo}", note))
        key = ("imageDigest", digest) if digest else ("imageTag", tag) if tag else None
        if key is not None:
            detail = self.r.images.get((repo, *key))
            error = self.r.errors.get(("image", f"{repo}:{key[0]}:{key[1]}"))
            if detail is not None:
                digest = detail["imageDigest"]
                if tag is None and detail.get("imageTags"):  # pinned by digest: name a tag it carries
                    tag = detail["imageTags"][0]
            elif error:
                self.findings.append(Finding("error", f"image {repo}:{tag or digest}",
                                             f"could not read image {repo}:{tag or digest}: {error}"))
            else:
                self.findings.append(Finding("warning", f"image {repo}:{tag or digest}",
                                             f"image {repo}:{tag or digest} is not in ECR"
                                             + (" (it must be pushed before it can be deployed)"
                                                if self.image_tag else "")))
        return ImageInfo(repo, True, raw["repositoryUri"], tag, digest, immutable)

    def roles_and_secrets(self, tds: Mapping[str, TaskDefinition]) -> tuple[dict[str, bool], dict[str, bool]]:
        roles: dict[str, bool] = {}
        for td in tds.values():
            for field_name in ("executionRoleArn", "taskRoleArn"):
                role = td.body.get(field_name)
                if not role or role in roles:
                    continue
                if role in self.r.roles:
                    roles[role] = self.r.roles[role]
                    if not roles[role]:
                        self.findings.append(Finding("error", f"role {_role_name(role)}",
                                                     f"role {role} ({field_name} of task definition "
                                                     f"{td.family}:{td.revision}) does not exist"))
                else:
                    self.note_error("role", role, f"role {_role_name(role)}")
        references: dict[str, str] = {}  # reference -> who names it
        ecs = self.spec.ecs
        for env_name, ref in (ecs.secrets.items() if ecs else ()):
            references.setdefault(ref, f"secret {env_name}")
        for td in tds.values():
            for container in td.body.get("containerDefinitions", []):
                for s in container.get("secrets", []):
                    if s.get("valueFrom"):
                        references.setdefault(s["valueFrom"], f"secret {s.get('name')}")
        secrets: dict[str, bool] = {}
        for ref, subject in references.items():
            kind, target = _secret_target(ref)
            if target in self.r.secrets:
                secrets[ref] = self.r.secrets[target]
                if not secrets[ref]:
                    why = self.r.gone.get(("secret", target))
                    self.findings.append(Finding("error", subject, f"{subject}: reference {ref} "
                                                 + (f"is unusable: {why}" if why else "does not exist")))
            else:
                error = self.r.errors.get(("secret", target))
                self.findings.append(Finding("error", subject, f"could not check {subject} ({ref}): {error}"
                                             if error else f"{subject}: reference {ref} was not checked"))
        return roles, secrets


def _ecs_service(cluster: str, raw: Mapping[str, Any]) -> EcsService:
    deployments = tuple(
        EcsDeployment(
            id=d.get("id", ""), status=d.get("status", ""), task_definition=d.get("taskDefinition", ""),
            desired=int(d.get("desiredCount", 0)), running=int(d.get("runningCount", 0)),
            pending=int(d.get("pendingCount", 0)), failed_tasks=int(d.get("failedTasks", 0)),
            rollout_state=d.get("rolloutState"), rollout_reason=d.get("rolloutStateReason"))
        for d in raw.get("deployments", []))
    breaker = raw.get("deploymentConfiguration", {}).get("deploymentCircuitBreaker", {})
    return EcsService(
        cluster=cluster, name=raw["serviceName"], arn=raw["serviceArn"], status=raw.get("status", ""),
        task_definition=raw["taskDefinition"], desired=int(raw.get("desiredCount", 0)),
        running=int(raw.get("runningCount", 0)), pending=int(raw.get("pendingCount", 0)),
        launch_type=raw.get("launchType"), deployments=deployments,
        target_group_arns=tuple(dict.fromkeys(lb["targetGroupArn"] for lb in raw.get("loadBalancers", [])
                                              if lb.get("targetGroupArn"))),
        circuit_breaker=bool(breaker.get("enable", False)),
        events=tuple(e.get("message", "") for e in raw.get("events", [])[:10]),
    )


def _task_definition(raw: Mapping[str, Any], tags: list[Mapping[str, str]]) -> TaskDefinition:
    body = {k: v for k, v in raw.items() if k not in TASK_DEFINITION_READ_ONLY}
    return TaskDefinition(arn=raw["taskDefinitionArn"], family=raw["family"], revision=int(raw["revision"]),
                          body=body, tags=tuple((t["key"], t["value"]) for t in tags))


def _asg(raw: Mapping[str, Any]) -> AutoScalingGroup:
    lt = _asg_launch_template(raw) or {}
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
