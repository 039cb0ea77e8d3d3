"""`bluegreen init`: read what already runs and write the spec that describes it.

    request -> walk (read-only AWS calls through `Reads`) -> `Found` -> `document` (pure) -> YAML text

The walk starts from an ECS service (one, or one per color), an Auto Scaling group (likewise) or a
Route53 weighted record, and follows what AWS says: the service's target groups, their load
balancers, the listeners and rules forwarding to them, the other color, the task definition's
container and image, the alarms whose dimensions name any of these. What it finds decides the
strategy, written explicitly with the reason beside it. One service under ECS's built-in blue/green
is written as `ecs-native`. A service that another deployment controller swaps (CodeDeploy,
EXTERNAL) is refused (exit 2) with what to write instead: init does not look for CodeDeploy's group,
and a spec that plans with an error helps nobody.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bluegreen.app import init_facts as facts
from bluegreen.app.init_document import canary
from bluegreen.app.init_facts import Forwarder
from bluegreen.app.init_stacks import Stack, asg_stacks, ecs_stacks, is_native, refuse_foreign_controller
from bluegreen.domain.spec import Strategy
from bluegreen.errors import InvalidInput
from bluegreen.specfiles.writer import Document, Field, Item, render


class Reads(Protocol):
    region: str

    def ecs_services(self, cluster: str, names: list[str]) -> list[dict[str, Any]]: ...
    def cluster_services(self, cluster: str) -> list[dict[str, Any]]: ...
    def clusters(self) -> list[str]: ...
    def task_definition(self, arn: str) -> dict[str, Any] | None: ...
    def target_groups(self, arns: list[str]) -> list[dict[str, Any]]: ...
    def load_balancers(self, arns: list[str] | None = None) -> list[dict[str, Any]]: ...
    def listeners(self, load_balancer_arn: str) -> list[dict[str, Any]]: ...
    def rules(self, listener_arn: str) -> list[dict[str, Any]]: ...
    def auto_scaling_groups(self, names: list[str] | None = None) -> list[dict[str, Any]]: ...
    def launch_template_version(self, template: dict[str, Any]) -> dict[str, Any] | None: ...
    def parameter_value(self, name: str) -> str | None: ...
    def hosted_zone(self, zone: str) -> dict[str, Any] | None: ...
    def record_sets(self, zone_id: str, name: str) -> list[dict[str, Any]]: ...
    def alarms(self) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class InitRequest:
    """Where to start: `--cluster/--service`, `--asg`, or `--zone/--record` (with the stacks, or found)."""

    region: str
    cluster: str | None = None
    services: tuple[str, ...] = ()
    asgs: tuple[str, ...] = ()
    zone: str | None = None
    record: str | None = None
    name: str | None = None  # the spec's service name (default: from the live names)
    container: str | None = None

    def problems(self) -> list[str]:
        out = []
        if self.services and not self.cluster:
            out.append("--service needs --cluster (the ECS cluster it runs in)")
        if len(self.services) > 2 or len(self.asgs) > 2:
            out.append("give at most two --service or --asg (one per color)")
        if self.services and self.asgs:
            out.append("give --service (ECS) or --asg (Auto Scaling), not both")
        if bool(self.zone) != bool(self.record):
            out.append("--zone and --record go together (the hosted zone and the weighted record's name)")
        if self.name is not None and not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", self.name):
            out.append(f"--name {self.name}: a service name is lowercase letters, digits and -, at most 63")
        if not (self.services or self.asgs or self.zone):
            out.append("say where to start: --cluster C --service S, --asg NAME, or --zone ZONE --record NAME")
        return out


@dataclass
class Found:
    """What the walk found, each value with where it was read from (the comments of the spec)."""

    service: str
    strategy: Strategy
    why: str
    stacks: list[Stack]  # one (task-definition swap) or blue then green
    traffic: Field
    shift: Field
    sources: list[str] = field(default_factory=list)
    alarms: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


# --- the walk -------------------------------------------------------------------------------------


def walk(reads: Reads, request: InitRequest) -> Found:
    """Read the live topology `request` points at. Raises InvalidInput (exit 2) for what cannot be a spec."""
    problems = request.problems()
    if problems:
        raise InvalidInput(problems[0], problems)
    elb = _Elb(reads)
    if request.zone:
        found = _dns(reads, request, elb)
    elif request.services:
        found = _ecs(reads, request, elb)
    else:
        found = _asg(reads, request, elb)
    found.alarms = _alarms(reads, found, elb)
    if request.name:
        found.service = request.name
    return found


class _Elb:
    """Load balancers, listeners and rules reached from target groups, each read once."""

    def __init__(self, reads: Reads) -> None:
        self.reads = reads
        self.tgs: dict[str, dict[str, Any]] = {}
        self.lbs: dict[str, dict[str, Any]] = {}
        self._forwarders: dict[str, list[Forwarder]] = {}

    def target_groups(self, arns: list[str]) -> list[dict[str, Any]]:
        unknown = [a for a in arns if a not in self.tgs]
        for tg in self.reads.target_groups(unknown) if unknown else []:
            self.tgs[tg["TargetGroupArn"]] = tg
        return [self.tgs[a] for a in arns if a in self.tgs]

    def forwarders_to(self, arns: list[str]) -> list[Forwarder]:
        """Every listener default action and rule, on the target groups' load balancers, reaching any of them."""
        lb_arns = sorted({lb for tg in self.target_groups(arns) for lb in tg.get("LoadBalancerArns", [])})
        unknown = [a for a in lb_arns if a not in self.lbs]
        for lb in self.reads.load_balancers(unknown) if unknown else []:
            self.lbs[lb["LoadBalancerArn"]] = lb
        found: list[Forwarder] = []
        for arn in lb_arns:
            if arn not in self._forwarders and arn in self.lbs:
                listeners = self.reads.listeners(arn)
                rules = {x["ListenerArn"]: self.reads.rules(x["ListenerArn"]) for x in listeners}
                self._forwarders[arn] = facts.forwarders(self.lbs[arn], listeners, rules)
            found += [f for f in self._forwarders.get(arn, []) if f.target_groups & set(arns)]
        return found

    def name(self, arn: str) -> str:
        return self.tgs[arn]["TargetGroupName"] if arn in self.tgs else facts.arn_name(arn)


def _ecs(reads: Reads, request: InitRequest, elb: _Elb) -> Found:
    cluster = request.cluster or ""
    named = _ecs_named(reads, cluster, list(request.services))
    if len(named) == 1 and is_native(named[0]):
        return _native(reads, elb, request, named[0])
    if len(named) == 1:
        partner, route_forwarders = _ecs_partner(reads, elb, cluster, named[0])
        if partner is None:
            return _task_definition_swap(reads, elb, request, named[0])
        named.append(partner)
    else:
        route_forwarders = _pair_forwarders(elb, named[0], named[1])
    if not route_forwarders:
        a, b = (s["serviceName"] for s in named)
        raise InvalidInput(f"ECS services {a} and {b} share no listener forwarding to both their target groups; "
                           "for two separate stacks behind DNS give the Route53 record too (--zone, --record)")
    live = max(named, key=lambda s: sum(f.weight_of(_tg_arns(s)) for f in route_forwarders))["serviceName"]
    blue, green, colors_why = facts.assign_colors(named[0]["serviceName"], named[1]["serviceName"], live)
    by_name = {s["serviceName"]: s for s in named}
    stacks = ecs_stacks(reads, cluster, [by_name[blue], by_name[green]], request.container)
    traffic, why_routes = _routes(elb, route_forwarders, stacks)
    return Found(
        service=facts.service_name(blue, green), strategy=Strategy.ECS_TARGET_GROUPS, stacks=stacks, traffic=traffic,
        why=(f"ECS services {blue} (blue) and {green} (green), one per color, behind {why_routes}: traffic moves "
             f"with weighted forward actions, and a rollback is one listener change. Colors {colors_why}."),
        shift=canary(), sources=[f"ECS services {blue}, {green} in cluster {cluster}"])


def _ecs_named(reads: Reads, cluster: str, names: list[str]) -> list[dict[str, Any]]:
    found = {s["serviceName"]: s for s in reads.ecs_services(cluster, names)}
    for name in names:
        if name not in found:
            raise InvalidInput(f"ECS service {name} not found in cluster {cluster} (region {reads.region})")
        refuse_foreign_controller(found[name], cluster, native_ok=len(names) == 1)
    return [found[n] for n in names]


def _tg_arns(service: dict[str, Any]) -> list[str]:
    return [lb["targetGroupArn"] for lb in service.get("loadBalancers", []) if lb.get("targetGroupArn")]


def _ecs_partner(reads: Reads, elb: _Elb, cluster: str, service: dict[str, Any]
                 ) -> tuple[dict[str, Any] | None, list[Forwarder]]:
    """The other color's service: the one registering into the other target group of a two-way forward."""
    own = set(_tg_arns(service))
    pairs = [f for f in elb.forwarders_to(sorted(own)) if len(f.target_groups) == 2 and len(f.target_groups & own) == 1]
    if not pairs:
        return None, []
    others = {arn for f in pairs for arn in f.target_groups - own}
    candidates = [s for s in reads.cluster_services(cluster)
                  if s["serviceName"] != service["serviceName"] and others & set(_tg_arns(s))]
    if len(candidates) != 1:
        what = ", ".join(sorted(elb.name(a) for a in others))
        listed = ", ".join(sorted(s["serviceName"] for s in candidates)) or "none"
        raise InvalidInput(f"{pairs[0].label} forwards to {elb.name(sorted(own)[0])} and {what}, but the ECS services "
                           f"of cluster {cluster} registering into {what} are: {listed}; give both with --service")
    refuse_foreign_controller(candidates[0], cluster)
    return candidates[0], _pair_forwarders(elb, service, candidates[0])


def _pair_forwarders(elb: _Elb, a: dict[str, Any], b: dict[str, Any]) -> list[Forwarder]:
    """Forwarders whose two target groups are one of a's and one of b's."""
    ta, tb = set(_tg_arns(a)), set(_tg_arns(b))
    return [f for f in elb.forwarders_to(sorted(ta | tb))
            if len(f.target_groups) == 2 and f.target_groups & ta and f.target_groups & tb]


def _routes(elb: _Elb, pair: list[Forwarder], stacks: list[Stack]) -> tuple[Field, str]:
    routes, test, test_why = facts.split_test_listener(pair)
    blue_tgs = set(stacks[0].target_group_arns)
    items = []
    for f in routes:
        blue_arn = next(a for a in sorted(f.target_groups) if a in blue_tgs)
        green_arn = next(a for a in sorted(f.target_groups) if a != blue_arn)
        where = "a rule of the listener" if f.priority else "the listener's default action"
        fields = [Field("load_balancer", f.load_balancer, comment=f"{f.label}: {where} forwards to both colors "
                                                                    "(elbv2 DescribeListeners/DescribeRules)"),
                  Field("port", f.port)]
        if f.priority:
            fields.append(Field("rule_priority", f.priority))
        fields += [Field("blue_target_group", elb.name(blue_arn), trailing=f"weight {f.weight_of([blue_arn])} now"),
                   Field("green_target_group", elb.name(green_arn), trailing=f"weight {f.weight_of([green_arn])} now")]
        items.append(Item(tuple(fields)))
    traffic = [Field("routes", items, comment="Where production traffic is weighted between the colors.")]
    if test is not None:
        traffic.append(Field("test_listener", (Field("port", test.port),), comment=test_why))
    labels = ", ".join(f.label for f in routes)
    return Field("traffic", tuple(traffic)), f"{labels} (a forward to both target groups)"


def _native(reads: Reads, elb: _Elb, request: InitRequest, service: dict[str, Any]) -> Found:
    """One service ECS's built-in blue/green deploys: the spec names it and its primary target group."""
    name, cluster = service["serviceName"], request.cluster or ""
    lb = next(lb for lb in service.get("loadBalancers", [])
              if (lb.get("advancedConfiguration") or {}).get("alternateTargetGroupArn"))
    arn, alternate = lb["targetGroupArn"], lb["advancedConfiguration"]["alternateTargetGroupArn"]
    elb.target_groups([arn, alternate])
    stacks = ecs_stacks(reads, cluster, [service], request.container, target_group_arn=arn)
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy")
    traffic = Field("traffic", (Field("target_group", elb.name(arn), comment=(
        f"The primary of ECS service {name}'s pair (its alternate is {elb.name(alternate)}); ECS moves the "
        "listener rules between them itself.")),))
    return Found(
        service=facts.service_name(name), strategy=Strategy.ECS_NATIVE, stacks=stacks, traffic=traffic,
        why=(f"ECS service {name} is deployed by ECS's built-in {strategy} (advancedConfiguration: alternate "
             f"target group {elb.name(alternate)}): bluegreen starts ECS's deployment, follows it, gates it at its "
             "PAUSE hooks and rolls back through ECS."),
        shift=Field("shift", (Field("mode", "all-at-once"),), comment=(
            f"Not bluegreen's: ECS moves production traffic as the service's deploymentConfiguration says ({strategy}).")),
        sources=[f"ECS service {name} in cluster {cluster}"])


def _task_definition_swap(reads: Reads, elb: _Elb, request: InitRequest, service: dict[str, Any]) -> Found:
    name, cluster = service["serviceName"], request.cluster or ""
    arns = _tg_arns(service)
    if not arns:
        raise InvalidInput(f"ECS service {name} has no target group: bluegreen gates on a load balancer's target "
                           "group (a service without one cannot be deployed blue/green)")
    reached = elb.forwarders_to(arns)
    arn = next((a for a in arns if any(a in f.target_groups for f in reached)), arns[0])
    elb.target_groups([arn])
    stacks = ecs_stacks(reads, cluster, [service], request.container, target_group_arn=arn)
    listeners = ", ".join(f.label for f in reached if arn in f.target_groups) or "no listener"
    traffic = Field("traffic", (Field("target_group", elb.name(arn), comment=(
        f"The target group ECS service {name} registers into (ecs DescribeServices loadBalancers); "
        f"{listeners} forwards to it.")),))
    return Found(
        service=facts.service_name(name), strategy=Strategy.ECS_TASK_DEFINITION, stacks=stacks, traffic=traffic,
        why=(f"one ECS service ({name}) behind one target group ({elb.name(arn)}), and no listener forwards to a "
             "second one for another color: a new task-definition revision is rolled out with UpdateService, and "
             "a rollback updates the service back to the previous revision."),
        shift=Field("shift", (Field("mode", "all-at-once"),), comment=(
            "ECS replaces the tasks itself during UpdateService; the gates run when it is done.")),
        sources=[f"ECS service {name} in cluster {cluster}"])


def _asg(reads: Reads, request: InitRequest, elb: _Elb) -> Found:
    stacks, why_pair = asg_stacks(reads, list(request.asgs))
    blue, green = stacks
    arns = sorted(set(blue.target_group_arns) | set(green.target_group_arns))
    clbs = sorted(set(blue.classic_elbs) | set(green.classic_elbs))
    if len(arns) == 1 and not clbs:
        elb.target_groups(arns)
        traffic = Field("traffic", (Field("target_group", elb.name(arns[0]), comment=(
            "The target group the live group is attached to (autoscaling DescribeAutoScalingGroups "
            "TargetGroupARNs); the green group is attached to it, then blue detached.")),))
        behind = f"target group {elb.name(arns[0])}"
    elif len(clbs) == 1 and not arns:
        traffic = Field("traffic", (Field("classic_elb", clbs[0], comment=(
            "The classic ELB the live group is attached to (DescribeAutoScalingGroups LoadBalancerNames).")),))
        behind = f"classic ELB {clbs[0]}"
    else:
        attached = ", ".join([elb.name(a) for a in arns] + clbs) or "nothing"
        raise InvalidInput(f"Auto Scaling groups {blue.name} and {green.name} are attached to {attached}; an ASG swap "
                           "needs exactly one target group or one classic ELB")
    return Found(
        service=facts.service_name(blue.name, green.name), strategy=Strategy.ASG_SWAP, stacks=stacks, traffic=traffic,
        why=(f"EC2 Auto Scaling groups {blue.name} (blue) and {green.name} (green) behind {behind}: the idle "
             f"group gets a new launch-template version and blue's capacity, is attached and gated, then blue is "
             f"detached and kept at capacity for the keep-warm time. {why_pair}"),
        shift=Field("shift", (Field("mode", "all-at-once"),), comment=(
            "Attaching the green group and detaching blue moves all traffic at once.")),
        sources=[f"Auto Scaling groups {blue.name}, {green.name}"])


# --- DNS cutover ----------------------------------------------------------------------------------


def _dns(reads: Reads, request: InitRequest, elb: _Elb) -> Found:
    from bluegreen.app.init_dns import dns_found

    return dns_found(reads, request, elb, _ecs_named)


def _alarms(reads: Reads, found: Found, elb: _Elb) -> list[tuple[str, str]]:
    """The alarms whose dimensions name a target group, load balancer, ECS service or group of the spec."""
    wanted: dict[tuple[str, str], str] = {}
    for stack in found.stacks:
        for arn, name in stack.target_group_names.items():
            wanted[("TargetGroup", facts.dimension_value(arn))] = f"target group {name}"
        if stack.kind == "ecs":
            wanted[("ServiceName", stack.name)] = f"ECS service {stack.name}"
        else:
            wanted[("AutoScalingGroupName", stack.name)] = f"Auto Scaling group {stack.name}"
        for clb in stack.classic_elbs:
            wanted[("LoadBalancerName", clb)] = f"classic ELB {clb}"
    elb.target_groups([a for s in found.stacks for a in s.target_group_arns])
    for tg in elb.tgs.values():  # the load balancers in front of them (a 5xx alarm is often on the ALB)
        for arn in tg.get("LoadBalancerArns", []):
            wanted.setdefault(("LoadBalancer", facts.dimension_value(arn)), f"load balancer {facts.arn_name(arn)}")
    cluster = found.stacks[0].cluster if found.stacks else None
    return facts.alarms_naming(reads.alarms(), wanted, cluster)


# --- the document ---------------------------------------------------------------------------------


def document(found: Found, request: InitRequest, command: str) -> Document:
    """The commented spec of what was found (pure)."""
    from bluegreen.app.init_document import spec_document

    return spec_document(found, request, command)


# --- the use case ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    path: str | None  # None: printed to stdout
    text: str
    found: Found


def spec_path(out: str | None, service: str) -> Path | None:
    """Where the spec goes: `--out`, `-` for stdout (None), else deployments/<service>.yaml."""
    if out == "-":
        return None
    return Path(out) if out else Path("deployments") / f"{service}.yaml"


def init(reads: Reads, request: InitRequest, *, out: str | None, force: bool, command: str) -> Written:
    """Walk what runs, render the spec, check it loads as a valid spec, and write it (never over a file
    without `force`). Nothing in AWS is changed: every call through `reads` is a read."""
    early = spec_path(out, request.name) if request.name or out not in (None, "-") else None
    if early is not None and early.exists() and not force:
        raise InvalidInput(f"{early} already exists: not overwritten (--force replaces it)")
    found = walk(reads, request)
    target = spec_path(out, found.service)
    if target is not None and target.exists() and not force:
        raise InvalidInput(f"{target} already exists: not overwritten (--force replaces it)")
    serving = [s for s in found.stacks if s.image_source]
    if serving and all(s.image is None for s in serving):
        found.warnings.append(f"{serving[0].image_source} runs {serving[0].image_seen}, not an image from ECR: "
                              "the spec names a repository to create (check image.repository)")
    text = render(document(found, request, command))
    _check(text, target)
    if target is not None:
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        scratch.write_text(text, encoding="utf-8")
        os.replace(scratch, target)
    return Written(str(target) if target is not None else None, text, found)


def _check(text: str, target: Path | None) -> None:
    """The text must load as a valid spec; anything else is a bug of init, never a file left behind."""
    from bluegreen.specfiles.loader import validate_file

    with tempfile.TemporaryDirectory(prefix="bluegreen-init-") as scratch:
        path = Path(scratch) / (target.name if target is not None else "spec.yaml")
        path.write_text(text, encoding="utf-8")
        _, problems = validate_file(path)
    if problems:
        raise RuntimeError("the spec init generated does not validate (a bug of bluegreen init): "
                           + "; ".join(str(p) for p in problems))
