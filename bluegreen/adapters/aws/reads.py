"""Discovery's AWS reads: read-only calls only, batched across every spec at once, into one `RawState`.

Per region, three rounds (a fourth for `plan`); the calls of a round run concurrently (boto3
clients are thread-safe):

1. by name: ECS services (DescribeServices, 10 per call per cluster) and their Application Auto
   Scaling targets (DescribeScalableTargets, 50 per call), load balancers and target
   groups (20 per call), Auto Scaling groups (50), launch templates, classic ELBs, hosted zones
   (ListHostedZonesByName once per zone name), alarms (100), ECR repositories; with an image tag
   to deploy, DescribeImages of it instead, whose answer names the repository (`_image_first`).
2. what those point at: listeners per load balancer, task definitions (once per distinct ARN, with
   tags), target groups known only by ARN, launch-template versions ($Latest, $Default and the ones
   groups use), classic ELB instance health, record sets once per zone, and the target health of
   every target group found by name, with its attributes only where a spec's deploy drains it
   (`Spec.drains`: not a task-definition swap, whose target group stays attached); no batch API exists.
3. the rest: listener rules (only where a route has `rule_priority`), health (and, where drained,
   attributes) of target groups found by ARN, image digests (DescribeImages for the tag the serving
   workload runs, when no tag was given), IAM roles named in
   task definitions, and secret references (ssm DescribeParameters / secretsmanager DescribeSecret:
   existence only, values are never read).
4. with `count_health` (`bluegreen plan`): the host counts of every target group a load balancer uses,
   from CloudWatch (GetMetricData, 250 groups per call), instead of DescribeTargetHealth in rounds two
   and three; then DescribeTargetHealth only for the groups CloudWatch had no count for.

The one value read is the image reference an Auto Scaling group with `ssm-parameter` image delivery
keeps in SSM (GetParameters, round 1): an image name, not a secret; a SecureString is never returned.

A missing resource is an absent entry; a failed call is recorded in `RawState.errors` against every
resource of its batch, and the other reads go on (the assembly turns both into Findings). Three
failures stop discovery instead, because every further call would fail the same way: AWS
unreachable, still throttling after botocore's retries, or credentials it refuses. `read` then
raises `AwsUnavailable` / `AwsDenied` (exit 6) naming the operation, after the round in flight.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

from bluegreen.adapters.aws.errors import (
    Kind, aws_exceptions, describe, error_code, is_credentials_problem, is_not_found, kind_of, our_error,
)
from bluegreen.adapters.aws.reads_calls import Calls
from bluegreen.adapters.aws.session import Aws
from bluegreen.discovery.names import (
    COLORS, asg_launch_template, ecs_names, image_parameter_names, named_target_groups, norm_dns, roles_in_use,
    secret_target, serving_image, spec_task_definitions, task_roles, td_secret_references,
)
from bluegreen.discovery.raw import RawState, image_key, scaling_key, service_key
from bluegreen.domain.spec import Spec

WORKERS = 8  # the fewest threads discovery reads with
MAX_WORKERS = 48  # a 300-service fleet: each round's few hundred calls finish in a handful of latencies
SERVICES_PER_WORKER = 6
SERVICES_PER_CALL = 10
SCALABLE_TARGETS_PER_CALL = 50  # DescribeScalableTargets' ResourceIds limit
ELB_NAMES_PER_CALL = 20
ASGS_PER_CALL = 50
ALARMS_PER_CALL = 100
REPOSITORIES_PER_CALL = 100
IMAGE_IDS_PER_CALL = 100
PARAMETER_NAMES_PER_CALL = 50
IMAGE_PARAMETERS_PER_CALL = 10  # GetParameters' limit
LAUNCH_TEMPLATE_NAMES_PER_CALL = 200
HOST_COUNT_PAIRS_PER_CALL = 250  # GetMetricData takes 500 queries: two per (target group, load balancer)

T = TypeVar("T")
Task = Callable[[], None]


def read(aws: Aws, specs: Sequence[Spec], image_tag: str | None = None, *, count_health: bool = False,
         wall_clock: Callable[[], float] = time.time) -> RawState:
    """Everything the specs refer to in `aws.region`. `image_tag`: the tag whose digest to resolve
    (None: the tag the serving workload runs). `count_health`: target groups behind a load balancer are
    counted by CloudWatch (see `count_round`) instead of read target by target, over the minutes before
    `wall_clock()`. Raises `AwsUnavailable` / `AwsDenied` only (see above)."""
    specs = list(specs)
    workers = workers_for(len(specs))
    aws.want_connections(workers)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="discover") as pool:
        reader = _Reader(aws, pool, count_health, wall_clock)
        reader.run(reader.round_one(specs, image_tag))
        reader.run(reader.round_two(specs))  # each round reads what the earlier ones found
        reader.run(reader.round_three(specs, image_tag))
        four = reader.round_four()
        if four:  # a CODE_DEPLOY service's group: its second target group, read with its health
            reader.run(four)
            reader.run(reader._tg_detail_tasks(sorted(a for a in reader.raw.target_groups
                                                      if a not in reader.health_asked)))
        if reader.to_count:
            reader.run(reader.count_round())
            uncounted = sorted(reader.to_count - set(reader.raw.tg_host_counts))
            reader.run([reader.exact_health(arn) for arn in uncounted])
        return reader.raw


def workers_for(services: int) -> int:
    """Threads for discovering `services` specs: more services, more calls in flight (AWS answers in 30-100 ms)."""
    return max(WORKERS, min(MAX_WORKERS, -(-services // SERVICES_PER_WORKER)))


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _stops_discovery(exc: BaseException) -> bool:
    return kind_of(exc) in (Kind.UNREACHABLE, Kind.THROTTLED) or is_credentials_problem(exc)


@dataclass(frozen=True)
class _Drained:
    """The target groups (by name or ARN) some spec's deploy takes traffic off (`Spec.drains`)."""

    names: set[str]
    arns: set[str]


def _drained_target_groups(specs: list[Spec], raw: RawState) -> _Drained:
    names: set[str] = set()
    arns: set[str] = set()
    for spec in specs:
        if not spec.drains:
            continue
        names.update(named_target_groups(spec))
        if spec.ecs:
            for name in ecs_names(spec):
                found = raw.service(spec.ecs.cluster, name) or {}
                arns.update(lb["targetGroupArn"] for lb in found.get("loadBalancers", []) if lb.get("targetGroupArn"))
        if spec.asg:
            for color in COLORS:
                arns.update((raw.asgs.get(spec.asg.group_name(color)) or {}).get("TargetGroupARNs", []))
    return _Drained(names, arns)


class _Reader:
    """The rounds: what to read, given the specs and what the earlier rounds found."""

    def __init__(self, aws: Aws, pool: ThreadPoolExecutor, count_health: bool = False,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.pool = pool
        self.count_health, self.wall_clock = count_health, wall_clock
        self.health_asked: set[str] = set()  # target groups whose health is read or counted
        self.to_count: set[str] = set()
        self.raw = RawState()
        self._lock = threading.Lock()
        self.calls = Calls(aws, self.raw, self._lock)
        self._stop: tuple[BaseException, str] | None = None
        self.drained = _Drained(set(), set())

    # plumbing

    def fail(self, kind: str, keys: Iterable[str], exc: BaseException, operation: str) -> None:
        with self._lock:
            if _stops_discovery(exc):
                self._stop = self._stop or (exc, operation)
                return
            message = describe(exc, operation)
            for key in keys:
                self.raw.errors.setdefault(kind, {}).setdefault(key, message)

    def run(self, tasks: list[Task]) -> None:
        for _ in self.pool.map(lambda task: task(), tasks):
            pass
        if self._stop is not None:
            exc, operation = self._stop
            raise our_error(exc, operation) from exc  # type: ignore[misc]  # an AWS error: never None

    def guarded(self, kind: str, keys: list[str], operation: str, task: Task) -> Task:
        errors = aws_exceptions()

        def run() -> None:
            if self._stop is not None:
                return  # the round will raise: do not make calls that fail the same way
            try:
                task()
            except errors as exc:
                self.fail(kind, keys, exc, operation)

        return run

    def batched(self, kind: str, names: list[str], operation: str, fetch: Callable[[list[str]], None]) -> Task:
        """fetch(names); when the whole batch is refused because one name is missing, ask one by one."""
        errors = aws_exceptions()

        def run() -> None:
            if self._stop is not None:
                return
            try:
                fetch(names)
            except errors as exc:
                if not is_not_found(exc):
                    self.fail(kind, names, exc, operation)
                    return
                if len(names) == 1:
                    return  # missing: absent from the maps
                for name in names:
                    try:
                        fetch([name])
                    except errors as inner:
                        if not is_not_found(inner):
                            self.fail(kind, [name], inner, operation)

        return run

    # round one: by name

    def round_one(self, specs: list[Spec], image_tag: str | None) -> list[Task]:
        services: dict[str, set[str]] = defaultdict(set)
        lbs, tgs, asgs, lts, clbs, zones, alarms, repos, image_parameters = (  # type: ignore[var-annotated]
            set() for _ in range(9))
        for spec in specs:
            if spec.ecs:
                services[spec.ecs.cluster].update(ecs_names(spec))
            if spec.asg:
                asgs.update(spec.asg.group_name(c) for c in COLORS)
                lts.add(spec.asg.launch_template)
            lbs.update(route.load_balancer for route in spec.routes)
            tgs.update(named_target_groups(spec))
            if spec.classic_elb:
                clbs.add(spec.classic_elb)
            if spec.dns:
                zones.add(spec.dns.hosted_zone)
            alarms.update(spec.health.alarms)
            repos.add(spec.image.repository)
            image_parameters.update(image_parameter_names(spec).values())

        c = self.calls
        tasks: list[Task] = []
        for cluster, names in services.items():
            for batch in _chunks(sorted(names), SERVICES_PER_CALL):
                tasks.append(self.guarded("ecs service", [service_key(cluster, n) for n in batch], "DescribeServices",
                                          lambda cl=cluster, b=batch: c.services(cl, b)))
        scaling = sorted(scaling_key(cluster, n) for cluster, names in services.items() for n in names)
        for batch in _chunks(scaling, SCALABLE_TARGETS_PER_CALL):
            tasks.append(self.guarded("scalable target", batch, "DescribeScalableTargets",
                                      lambda b=batch: c.scalable_targets(b)))
        for batch in _chunks(sorted(lbs), ELB_NAMES_PER_CALL):
            tasks.append(self.batched("load balancer", batch, "DescribeLoadBalancers", c.load_balancers))
        for batch in _chunks(sorted(tgs), ELB_NAMES_PER_CALL):
            tasks.append(self.batched("target group", batch, "DescribeTargetGroups", c.target_groups_by_name))
        for batch in _chunks(sorted(asgs), ASGS_PER_CALL):
            tasks.append(self.guarded("asg", batch, "DescribeAutoScalingGroups", lambda b=batch: c.asgs(b)))
        for batch in _chunks(sorted(lts), LAUNCH_TEMPLATE_NAMES_PER_CALL):
            tasks.append(self.guarded("launch template", batch, "DescribeLaunchTemplates",
                                      lambda b=batch: c.launch_templates(b)))
        for batch in _chunks(sorted(clbs), ELB_NAMES_PER_CALL):
            tasks.append(self.batched("classic elb", batch, "DescribeLoadBalancers", c.classic_elbs))
        for zone in sorted(zones):
            tasks.append(self.guarded("hosted zone", [zone], "ListHostedZonesByName", lambda z=zone: c.zone(z)))
        for batch in _chunks(sorted(alarms), ALARMS_PER_CALL):
            tasks.append(self.guarded("alarm", batch, "DescribeAlarms", lambda b=batch: c.alarms(b)))
        if image_tag is not None:  # the image read names its repository too (see `_image_first`)
            tasks.extend(self._image_first(repo, image_tag) for repo in sorted(repos))
        else:
            for batch in _chunks(sorted(repos), REPOSITORIES_PER_CALL):
                tasks.append(self.batched("ecr repository", batch, "DescribeRepositories", c.repositories))
        for batch in _chunks(sorted(image_parameters), IMAGE_PARAMETERS_PER_CALL):
            tasks.append(self.guarded("image parameter", batch, "GetParameters",
                                      lambda b=batch: c.image_parameters(b)))
        return tasks

    def _image_first(self, repo: str, tag: str) -> Task:
        """The wanted tag's image, whose answer also tells that its repository exists and its URI; the
        repository is described only when the image read could not tell (the tag is not pushed, or the
        read failed), so a missing repository is still told from a missing tag."""
        errors = aws_exceptions()
        key = image_key(repo, "imageTag", tag)

        def run() -> None:
            if self._stop is not None:
                return
            try:
                self.calls.images(repo, [key])
            except errors as exc:
                if error_code(exc) == "RepositoryNotFoundException":
                    return  # absent from the maps: the repository does not exist
                if not is_not_found(exc):
                    self.fail("image", [key], exc, "DescribeImages")
            if repo not in self.raw.repositories:
                self.batched("ecr repository", [repo], "DescribeRepositories", self.calls.repositories)()

        return run

    # round two: what round one points at

    def round_two(self, specs: list[Spec]) -> list[Task]:
        raw, c = self.raw, self.calls
        tasks: list[Task] = []
        for lb in raw.load_balancers.values():
            arn = lb["LoadBalancerArn"]
            tasks.append(self.guarded("listeners", [arn], "DescribeListeners", lambda a=arn: c.listeners(a)))
        for arn in sorted({svc["taskDefinition"] for svc in raw.services.values()}):
            tasks.append(self.guarded("task definition", [arn], "DescribeTaskDefinition",
                                      lambda a=arn: c.task_definition(a)))
        # target groups the specs reach only through an ECS service or an Auto Scaling group
        referenced = {lb["targetGroupArn"] for svc in raw.services.values()
                      for lb in svc.get("loadBalancers", []) if lb.get("targetGroupArn")}
        referenced |= {arn for g in raw.asgs.values() for arn in g.get("TargetGroupARNs", [])}
        referenced |= {arn for _, advanced in _native_load_balancers(raw)
                       if (arn := advanced.get("alternateTargetGroupArn"))}
        unknown = sorted(referenced - set(raw.target_groups))
        for batch in _chunks(unknown, ELB_NAMES_PER_CALL):
            tasks.append(self.batched("target group arn", batch, "DescribeTargetGroups", c.target_groups_by_arn))
        self.drained = _drained_target_groups(specs, raw)
        tasks.extend(self._tg_detail_tasks(sorted(raw.target_groups)))
        tasks.extend(self._lt_version_tasks())
        for name in sorted(raw.classic_elbs):
            tasks.append(self.guarded("classic elb health", [name], "DescribeInstanceHealth",
                                      lambda n=name: c.classic_health(n)))
        tasks.extend(self._controlled_tasks())
        wanted: dict[str, set[str]] = defaultdict(set)
        for spec in specs:
            if spec.dns and spec.dns.hosted_zone in raw.zones:
                wanted[raw.zones[spec.dns.hosted_zone]].add(norm_dns(spec.dns.record))
        for zone_id, names in sorted(wanted.items()):
            tasks.append(self.guarded("records", [zone_id], "ListResourceRecordSets",
                                      lambda z=zone_id, n=names: c.records(z, n)))
        return tasks

    def _controlled_tasks(self) -> list[Task]:
        """Services AWS deploys itself: ECS native blue/green's listener rules, a CODE_DEPLOY service's group."""
        raw, c = self.raw, self.calls
        rules = sorted({arn for _, advanced in _native_load_balancers(raw) for key in ("productionListenerRule",
                        "testListenerRule") if (arn := advanced.get(key))})
        tasks = [self.guarded("listener rule", batch, "DescribeRules", lambda b=batch: c.rules_by_arn(b))
                 for batch in _chunks(rules, ELB_NAMES_PER_CALL)]
        for key, svc in sorted(raw.services.items()):
            if (svc.get("deploymentController") or {}).get("type") == "CODE_DEPLOY":
                cluster = key.rsplit("/", 1)[0]
                tasks.append(self.guarded("codedeploy group", [key], "GetDeploymentGroup",
                                          lambda cl=cluster, n=svc["serviceName"]: c.codedeploy_group(cl, n)))
        return tasks

    def round_four(self) -> list[Task]:
        """What a CodeDeploy deployment group names: its other target group and its listeners."""
        raw, c = self.raw, self.calls
        if not raw.codedeploy_groups:
            return []
        names = sorted({tg["name"] for group in raw.codedeploy_groups.values()
                        for pair in (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
                        for tg in pair.get("targetGroups") or []} - {tg["TargetGroupName"] for tg in raw.target_groups.values()})
        listeners = sorted({arn for group in raw.codedeploy_groups.values()
                            for pair in (group.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
                            for route in ("prodTrafficRoute", "testTrafficRoute")
                            for arn in (pair.get(route) or {}).get("listenerArns") or []})
        tasks = [self.batched("target group", batch, "DescribeTargetGroups", c.target_groups_by_name)
                 for batch in _chunks(names, ELB_NAMES_PER_CALL)]
        tasks += [self.guarded("listener", batch, "DescribeListeners", lambda b=batch: c.listeners_by_arn(b))
                  for batch in _chunks(listeners, ELB_NAMES_PER_CALL)]
        return tasks

    def _lt_version_tasks(self) -> list[Task]:
        """$Latest, $Default, and every version a group or its instances use, per launch template."""
        tasks: list[Task] = []
        for name, lt in self.raw.launch_templates.items():
            versions = {"$Latest", "$Default"}
            for group in self.raw.asgs.values():
                ref = asg_launch_template(group)
                if ref and (ref.get("LaunchTemplateName") == name or ref.get("LaunchTemplateId") == lt["LaunchTemplateId"]):
                    versions.add(str(ref.get("Version") or "$Default"))
                    versions.update(str(i["LaunchTemplate"]["Version"]) for i in group.get("Instances", [])
                                    if i.get("LaunchTemplate", {}).get("Version"))
            tasks.append(self.guarded("launch template versions", [name], "DescribeLaunchTemplateVersions",
                                      lambda l=lt, v=sorted(versions): self.calls.lt_versions(l, v)))
        return tasks

    def _tg_detail_tasks(self, arns: list[str]) -> list[Task]:
        """Target health of each group (or, counting, the group kept for `count_round`); its attributes (the
        deregistration delay) only where a spec drains it."""
        tasks: list[Task] = []
        for arn in arns:
            self.health_asked.add(arn)
            if arn in self.drained.arns or self.raw.target_groups[arn]["TargetGroupName"] in self.drained.names:
                tasks.append(self.guarded("tg attributes", [arn], "DescribeTargetGroupAttributes",
                                          lambda a=arn: self.calls.tg_attributes(a)))
            if self.count_health and self.raw.target_groups[arn].get("LoadBalancerArns"):
                self.to_count.add(arn)
            else:
                tasks.append(self.exact_health(arn))
        return tasks

    def exact_health(self, arn: str) -> Task:
        return self.guarded("tg health", [arn], "DescribeTargetHealth", lambda: self.calls.tg_health(arn))

    def count_round(self) -> list[Task]:
        """The host counts of every group kept to count, one GetMetricData per 250 (group, load balancer)
        pairs. A plan's live-health pre-flight needs only how many targets are healthy, not which: a fleet
        is one call, not one per group. A count that fails or has no datum (a new group; AWS publishes
        only while health checks run) is not an error: that group is then read target by target."""
        errors = aws_exceptions()
        batches: list[list[tuple[str, list[str]]]] = [[]]
        pairs = 0
        for arn in sorted(self.to_count):
            lbs = list(dict.fromkeys(self.raw.target_groups[arn]["LoadBalancerArns"]))
            if pairs + len(lbs) > HOST_COUNT_PAIRS_PER_CALL and batches[-1]:
                batches.append([])
                pairs = 0
            batches[-1].append((arn, lbs))
            pairs += len(lbs)

        def task(batch: list[tuple[str, list[str]]]) -> Task:
            def run() -> None:
                if self._stop is None:
                    try:
                        self.calls.tg_host_counts(batch, self.wall_clock())
                    except errors:
                        return  # not counted: `read` reads these groups target by target instead
            return run

        return [task(b) for b in batches if b]

    # round three: rules, the rest of the target groups, images, roles and secrets

    def round_three(self, specs: list[Spec], image_tag: str | None) -> list[Task]:
        raw, c = self.raw, self.calls
        tasks: list[Task] = []
        rule_listeners: set[str] = set()  # only listeners a route with rule_priority points at
        for spec in specs:
            for route in spec.routes:
                listener = raw.listener(route.load_balancer, route.port) if route.rule_priority is not None else None
                if listener:
                    rule_listeners.add(listener["ListenerArn"])
        for arn in sorted(rule_listeners):
            tasks.append(self.guarded("rules", [arn], "DescribeRules", lambda a=arn: c.rules(a)))
        self.drained = _drained_target_groups(specs, raw)  # now with the groups round two found by ARN
        tasks.extend(self._tg_detail_tasks(sorted(a for a in raw.target_groups if a not in self.health_asked)))
        tasks.extend(self._image_tasks(specs, image_tag))
        tasks.extend(self._reference_tasks(specs))
        return tasks

    def _image_tasks(self, specs: list[Spec], image_tag: str | None) -> list[Task]:
        image_ids: dict[str, set[tuple[str, str]]] = defaultdict(set)
        for spec in specs:
            repo = spec.image.repository
            if repo not in self.raw.repositories:
                continue
            if image_tag is not None:
                continue  # read in round one
            tag, digest, _ = serving_image(spec, self.raw)
            if digest:
                image_ids[repo].add(("imageDigest", digest))
            elif tag:
                image_ids[repo].add(("imageTag", tag))
        tasks: list[Task] = []
        for repo, ids in sorted(image_ids.items()):
            for batch in _chunks(sorted(ids), IMAGE_IDS_PER_CALL):
                keys = [image_key(repo, kind, value) for kind, value in batch]
                tasks.append(self.batched("image", keys, "DescribeImages",
                                          lambda ks, r=repo: self.calls.images(r, ks)))
        return tasks

    def _reference_tasks(self, specs: list[Spec]) -> list[Task]:
        """Roles (those no running task uses, see `roles_in_use`) and secret references named by the specs
        and their task definitions."""
        roles: set[str] = set()
        references: set[str] = set()
        for spec in specs:
            if spec.ecs:
                references.update(spec.ecs.secrets.values())
            in_use = roles_in_use(spec, self.raw)
            for td in spec_task_definitions(spec, self.raw):
                roles.update(r for r in task_roles(td) if r not in in_use)
                references.update(td_secret_references(td))
        c = self.calls
        tasks: list[Task] = [self.guarded("role", [role], "GetRole", lambda r=role: c.role(r)) for role in sorted(roles)]
        targets = {secret_target(ref) for ref in references}
        parameters = sorted(name for kind, name in targets if kind == "ssm")
        for batch in _chunks(parameters, PARAMETER_NAMES_PER_CALL // 2):  # each name may be asked with a `/`
            tasks.append(self.guarded("secret", batch, "DescribeParameters", lambda b=batch: c.parameters(b)))
        for arn in sorted(name for kind, name in targets if kind == "secretsmanager"):
            tasks.append(self.guarded("secret", [arn], "DescribeSecret", lambda a=arn: c.secret(a)))
        return tasks


def _native_load_balancers(raw: RawState) -> list[tuple[str, dict]]:
    """(service key, advancedConfiguration) of every load balancer of an ECS native blue/green service."""
    return [(key, lb["advancedConfiguration"]) for key, svc in sorted(raw.services.items())
            for lb in svc.get("loadBalancers", []) if lb.get("advancedConfiguration")]
