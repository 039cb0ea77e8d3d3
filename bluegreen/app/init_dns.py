"""`bluegreen init --zone Z --record R`: a DNS cutover between two stacks behind a weighted Route53 record.

The record's two weighted sets give the endpoints, TTL and health checks. The stacks are the ones
given (`--cluster` with two `--service`, or two `--asg`), or found from the endpoints: a load balancer
whose DNS name is the endpoint, the target group its listener forwards to, and the ECS service (in
`--cluster`, else in any cluster) or Auto Scaling group that registers into it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from bluegreen.app import init_facts as facts
from bluegreen.app.init_stacks import Stack, asg_stacks, ecs_stacks, refuse_foreign_controller
from bluegreen.discovery.names import norm_dns
from bluegreen.domain.spec import Strategy
from bluegreen.errors import InvalidInput
from bluegreen.specfiles.writer import Field

if TYPE_CHECKING:
    from bluegreen.app.init import Found, InitRequest, Reads, _Elb

ALIAS_TTL = 60  # an alias record has no TTL of its own; an ELB's DNS answers carry 60 s


def _endpoint(record: dict[str, Any]) -> str:
    alias = record.get("AliasTarget")
    if alias:
        return alias["DNSName"].rstrip(".")
    values = [v["Value"] for v in record.get("ResourceRecords", [])]
    return values[0].rstrip(".") if len(values) == 1 else ""


def _host(name: str) -> str:
    name = norm_dns(name)
    return name[len("dualstack."):] if name.startswith("dualstack.") else name


def weighted_sets(reads: "Reads", zone: str, record: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    found = reads.hosted_zone(zone)
    if found is None:
        raise InvalidInput(f"hosted zone {zone} not found")
    zone_id = found["Id"].rsplit("/", 1)[-1]
    sets = reads.record_sets(zone_id, record)
    if not sets:
        raise InvalidInput(f"no record named {record} in hosted zone {zone}")
    weighted = [s for s in sets if s.get("SetIdentifier") and s.get("Weight") is not None]
    if len(weighted) != 2 or len({s["Type"] for s in weighted}) != 1 or not all(_endpoint(s) for s in weighted):
        raise InvalidInput(f"record {record} has {len(weighted)} weighted record set(s) with one value each; a DNS "
                           "cutover needs exactly two of one type (one per color's endpoint)")
    return found, sorted(weighted, key=lambda s: s["SetIdentifier"])


def dns_found(reads: "Reads", request: "InitRequest", elb: "_Elb",
              ecs_named: Callable[["Reads", str, list[str]], list[dict[str, Any]]]) -> "Found":
    from bluegreen.app.init import Found

    zone, sets = weighted_sets(reads, request.zone or "", request.record or "")
    stacks, how = _stacks(reads, request, elb, sets, ecs_named)
    behind = request.services == () and request.asgs == ()  # found behind each endpoint, in the sets' order
    by_set = ({x["SetIdentifier"]: st for x, st in zip(sets, stacks)} if behind else _match(elb, sets, stacks))
    live_set = max(sets, key=lambda s: s["Weight"])
    blue_set, green_set, why = _colors(sets, by_set, live_set)
    stacks = [by_set[blue_set["SetIdentifier"]], by_set[green_set["SetIdentifier"]]]
    if stacks[0].kind == "ecs":
        stacks = ecs_stacks(reads, stacks[0].cluster or "", _services(reads, stacks), request.container)
    else:
        stacks = asg_stacks(reads, [s.name for s in stacks], keep_order=True)[0]
    traffic = _traffic(request, zone, blue_set, green_set, stacks)
    names = [s.name for s in stacks]
    return Found(
        service=facts.service_name(*names), strategy=Strategy.DNS_CUTOVER, stacks=stacks, traffic=traffic,
        why=(f"two separate stacks ({names[0]} blue, {names[1]} green), each with its own endpoint, behind the "
             f"weighted record {request.record}: the record weights move step by step, waiting at least the TTL "
             f"between steps. {how} Colors {why}."),
        shift=Field("shift", (Field("mode", "linear"), Field("step_percent", 25)), comment=(
            "Route53 weights move 25% per step; each step holds at least the TTL (resolvers keep the old "
            "answer that long).")),
        sources=[f"Route53 record {request.record} in zone {zone['Name'].rstrip('.')}",
                 *(f"{'ECS service' if s.kind == 'ecs' else 'Auto Scaling group'} {s.name}" for s in stacks)])


def _services(reads: "Reads", stacks: list[Stack]) -> list[dict[str, Any]]:
    by_cluster = {s.cluster or "": [] for s in stacks}  # type: dict[str, list[str]]
    for s in stacks:
        by_cluster[s.cluster or ""].append(s.name)
    if len(by_cluster) != 1:
        raise InvalidInput("the two colors' ECS services run in different clusters; the spec names one cluster")
    cluster = next(iter(by_cluster))
    found = {s["serviceName"]: s for s in reads.ecs_services(cluster, [s.name for s in stacks])}
    return [found[s.name] for s in stacks]


def _stacks(reads: "Reads", request: "InitRequest", elb: "_Elb", sets: list[dict[str, Any]],
            ecs_named: Callable[..., list[dict[str, Any]]]) -> tuple[list[Stack], str]:
    if request.services:
        if len(request.services) != 2:
            raise InvalidInput("a DNS cutover has one ECS service per color: give --service twice")
        services = ecs_named(reads, request.cluster or "", list(request.services))
        return ecs_stacks(reads, request.cluster or "", services, request.container), "The stacks were given."
    if request.asgs:
        if len(request.asgs) != 2:
            raise InvalidInput("a DNS cutover has one Auto Scaling group per color: give --asg twice")
        return asg_stacks(reads, list(request.asgs), keep_order=True)[0], "The stacks were given."
    return [_stack_behind(reads, request, elb, s) for s in sets], (
        "Each stack was found behind its endpoint (load balancer, listener, target group).")


def _stack_behind(reads: "Reads", request: "InitRequest", elb: "_Elb", record: dict[str, Any]) -> Stack:
    """The workload behind one endpoint, found through its load balancer's listener."""
    endpoint = _endpoint(record)
    lb = next((x for x in reads.load_balancers(None) if _host(x.get("DNSName", "")) == _host(endpoint)), None)
    hint = "give the stacks with --cluster and two --service, or two --asg"
    if lb is None:
        raise InvalidInput(f"record set {record['SetIdentifier']} points at {endpoint}, which is no load balancer "
                           f"of this region; {hint}")
    elb.lbs[lb["LoadBalancerArn"]] = lb
    arns = sorted({arn for x in reads.listeners(lb["LoadBalancerArn"])
                   for arn, _ in facts.forward_weights(x.get("DefaultActions", []))})
    clusters = [request.cluster] if request.cluster else reads.clusters()
    for cluster in clusters:
        for service in reads.cluster_services(cluster):
            if set(arns) & {b.get("targetGroupArn") for b in service.get("loadBalancers", [])}:
                refuse_foreign_controller(service, cluster)
                return Stack(kind="ecs", name=service["serviceName"], cluster=cluster, target_group_arns=sorted(
                    b["targetGroupArn"] for b in service["loadBalancers"] if b.get("targetGroupArn")))
    groups = [g for g in reads.auto_scaling_groups(None) if set(arns) & set(g.get("TargetGroupARNs", []))]
    if len(groups) == 1:
        return Stack(kind="asg", name=groups[0]["AutoScalingGroupName"])
    raise InvalidInput(f"no ECS service or Auto Scaling group registers into what {lb['LoadBalancerName']} "
                       f"(behind {endpoint}) forwards to; {hint}")


def _match(elb: "_Elb", sets: list[dict[str, Any]], stacks: list[Stack]) -> dict[str, Stack]:
    """Set identifier -> the stack behind it: through load balancer DNS names, else the colors in the names."""
    hosts: dict[str, Stack] = {}
    for stack in stacks:
        for tg in elb.target_groups(stack.target_group_arns):
            for arn in tg.get("LoadBalancerArns", []):
                lb = elb.lbs.get(arn) or next(iter(elb.reads.load_balancers([arn])), None)
                if lb:
                    elb.lbs[arn] = lb
                    hosts[_host(lb["DNSName"])] = stack
    matched = {s["SetIdentifier"]: hosts[_host(_endpoint(s))] for s in sets if _host(_endpoint(s)) in hosts}
    if len(matched) == 2 and matched[sets[0]["SetIdentifier"]] is not matched[sets[1]["SetIdentifier"]]:
        return matched
    by_color = {facts.color_of(s.name): s for s in stacks}
    by_word = {x["SetIdentifier"]: by_color.get(facts.color_of(x["SetIdentifier"])
                                                or facts.color_of(_endpoint(x))) for x in sets}
    if all(by_word.values()) and by_word[sets[0]["SetIdentifier"]] is not by_word[sets[1]["SetIdentifier"]]:
        return by_word  # type: ignore[return-value]
    raise InvalidInput("cannot tell which weighted record set belongs to which stack (no endpoint is one of their "
                       "load balancers, and their names carry no color); name them blue and green")


def _colors(sets: list[dict[str, Any]], by_set: dict[str, Stack], live: dict[str, Any]
            ) -> tuple[dict[str, Any], dict[str, Any], str]:
    ids = [s["SetIdentifier"] for s in sets]
    words = {facts.color_of(i) or facts.color_of(by_set[i].name) for i in ids}
    if words == {"blue", "green"}:
        blue = next(s for s in sets if (facts.color_of(s["SetIdentifier"]) or facts.color_of(by_set[s["SetIdentifier"]].name)) == "blue")
        return blue, next(s for s in sets if s is not blue), "by the color in the set identifiers and stack names"
    other = next(s for s in sets if s is not live)
    return live, other, f"by the weights: set {live['SetIdentifier']} serves the traffic now, so it is blue"


def _traffic(request: "InitRequest", zone: dict[str, Any], blue: dict[str, Any], green: dict[str, Any],
             stacks: list[Stack]) -> Field:
    ttl = blue.get("TTL") if not blue.get("AliasTarget") else None
    ttl_field = (Field("ttl", f"{int(ttl)}s", comment="The record sets' TTL (route53 ListResourceRecordSets).")
                 if ttl else Field("ttl", f"{ALIAS_TTL}s", comment=(
                     "Alias records have no TTL of their own: Route53 answers with the target's (60 s for a load "
                     "balancer).")))
    kind = "alias target" if blue.get("AliasTarget") else f"{blue['Type']} value"
    fields = [
        Field("hosted_zone", zone["Name"].rstrip("."), comment=f"Hosted zone {zone['Id'].rsplit('/', 1)[-1]}."),
        Field("record", norm_dns(blue["Name"])),
        ttl_field,
        Field("endpoints", (Field("blue", _endpoint(blue), trailing=f"set {blue['SetIdentifier']}, weight {blue['Weight']} now"),
                            Field("green", _endpoint(green), trailing=f"set {green['SetIdentifier']}, weight {green['Weight']} now")),
              comment=f"Each color's weighted record set, by its {kind}; only the weights are ever changed."),
    ]
    if blue.get("HealthCheckId") and green.get("HealthCheckId"):
        fields.append(Field("health_check_ids", (Field("blue", blue["HealthCheckId"]),
                                                 Field("green", green["HealthCheckId"])),
                            comment="The Route53 health checks the record sets carry."))
    tgs = [s.target_group_arns for s in stacks]
    if all(len(t) == 1 for t in tgs) and tgs[0] != tgs[1]:
        fields.append(Field("target_groups", (Field("blue", facts.arn_name(tgs[0][0])),
                                              Field("green", facts.arn_name(tgs[1][0]))),
                            comment="Each stack's target group, for the target-health gates."))
    return Field("traffic", (Field("dns", tuple(fields)),))
