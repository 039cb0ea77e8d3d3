"""Assembly of where traffic goes: load balancers, listeners and rules with their live weights,
target groups (timing, deregistration delay, target health), classic ELBs and weighted DNS records.

Discovery reports weights, attachments and records; the planner decides which color is live and
whether the wiring is what the spec claims (`bluegreen.planning.wiring`).
"""

from __future__ import annotations

from typing import Any, Mapping

from bluegreen.discovery.gaps import Gaps
from bluegreen.discovery.names import norm_dns
from bluegreen.discovery.raw import RawState
from bluegreen.domain.snapshot import (
    ClassicElb, DnsRecord, Listener, LoadBalancer, Rule, TargetGroup, TargetHealth, Weights,
)
from bluegreen.domain.spec import Spec

DEFAULT_DEREGISTRATION_DELAY = 300  # ELB's default when the attribute could not be read


def routing_rule(arn: str, priority: int | None, actions: list[Mapping[str, Any]]) -> Rule:
    """A listener's default action or rule: its forward weights, and what sits around them."""
    ordered = sorted(actions, key=lambda a: a.get("Order", 0))
    forward = next((a for a in ordered if a.get("Type") == "forward"), {})
    sticky = (forward.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig") or {}
    return Rule(arn, priority, forward_weights(actions), tuple(str(a.get("Type")) for a in ordered),
                int(sticky.get("DurationSeconds", 0)) if sticky.get("Enabled") else None)


def forward_weights(actions: list[Mapping[str, Any]]) -> Weights:
    """(target group ARN, weight) of the first forward action; a plain TargetGroupArn weighs 1."""
    for action in sorted(actions, key=lambda a: a.get("Order", 0)):
        if action.get("Type") != "forward":
            continue
        groups = action.get("ForwardConfig", {}).get("TargetGroups")
        if groups:
            return tuple((g["TargetGroupArn"], int(g.get("Weight", 1))) for g in groups)
        if action.get("TargetGroupArn"):
            return ((action["TargetGroupArn"], 1),)
    return ()


class TargetGroups:
    """The spec's target groups, by name, each built once whichever way it was reached."""

    def __init__(self, raw: RawState, gaps: Gaps) -> None:
        self.raw, self.gaps = raw, gaps
        self.by_name: dict[str, TargetGroup] = {}

    def add_by_name(self, name: str) -> TargetGroup | None:
        raw = self.raw.target_group(name)
        if raw is None:
            self.gaps.missing("target group", name, f"target group {name}", f"target group {name} not found")
            return None
        return self.add(raw)

    def add_by_arn(self, arn: str, subject: str) -> None:
        """A target group `subject` (an ECS service, a group) points at."""
        raw = self.raw.target_groups.get(arn)
        if raw is not None:
            self.add(raw)
        else:
            self.gaps.missing("target group arn", arn, f"target group {arn}",
                              f"{subject} points at target group {arn}, which does not exist")

    def add(self, raw: Mapping[str, Any]) -> TargetGroup:
        name, arn = raw["TargetGroupName"], raw["TargetGroupArn"]
        if name in self.by_name:
            return self.by_name[name]
        subject = f"target group {name}"
        self.gaps.note_error("tg attributes", arn, subject)
        self.gaps.note_error("tg health", arn, subject)
        attributes = self.raw.tg_attributes.get(arn, {})
        targets = tuple(
            TargetHealth(
                target_id=d["Target"]["Id"], port=d["Target"].get("Port"),
                state=d.get("TargetHealth", {}).get("State", "unavailable"),
                reason=d.get("TargetHealth", {}).get("Reason") or d.get("TargetHealth", {}).get("Description"))
            for d in self.raw.tg_health.get(arn, []))
        counted = self.raw.tg_host_counts.get(arn) if arn not in self.raw.tg_health else None
        tg = TargetGroup(
            arn=arn, name=name, protocol=raw.get("Protocol"), port=raw.get("Port"),
            target_type=raw.get("TargetType", "instance"),
            health_check_interval=int(raw.get("HealthCheckIntervalSeconds", 30)),
            healthy_threshold=int(raw.get("HealthyThresholdCount", 5)),
            deregistration_delay=int(attributes.get("deregistration_delay.timeout_seconds",
                                                    DEFAULT_DEREGISTRATION_DELAY)),
            load_balancer_arns=tuple(dict.fromkeys(raw.get("LoadBalancerArns", []))),
            targets=targets,
            host_counts=(int(counted[0]), int(counted[1])) if counted else None,
        )
        self.by_name[name] = tg
        return tg


def routes(spec: Spec, raw: RawState, gaps: Gaps) -> tuple[dict[str, LoadBalancer], tuple[Listener, ...]]:
    """The routes' load balancers, and the listeners (and rules) they and the test listener use."""
    lbs: dict[str, LoadBalancer] = {}
    wanted: dict[tuple[str, int], set[int]] = {}  # (lb, port) -> rule priorities
    for route in spec.routes:
        priorities = wanted.setdefault((route.load_balancer, route.port), set())
        if route.rule_priority is not None:
            priorities.add(route.rule_priority)
    route_lbs = list(dict.fromkeys(route.load_balancer for route in spec.routes))
    for name in route_lbs:
        found = raw.load_balancer(name)
        if found is None:
            gaps.missing("load balancer", name, f"load balancer {name}", f"load balancer {name} not found")
            continue
        lbs[name] = LoadBalancer(found["LoadBalancerArn"], name, found.get("DNSName", ""), found.get("Type", ""))
        gaps.note_error("listeners", found["LoadBalancerArn"], f"load balancer {name}")
    if spec.test_listener:
        _want_test_listener(spec.test_listener.port, route_lbs, lbs, raw, gaps, wanted)
    listeners: list[Listener] = []
    for (lb_name, port), priorities in wanted.items():
        if lb_name not in lbs or gaps.failed("listeners", lbs[lb_name].arn):
            continue
        listener = _listener(lb_name, port, priorities, raw, gaps)
        if listener is not None:
            listeners.append(listener)
    return lbs, tuple(listeners)


def _want_test_listener(port: int, route_lbs: list[str], lbs: Mapping[str, LoadBalancer], raw: RawState,
                        gaps: Gaps, wanted: dict[tuple[str, int], set[int]]) -> None:
    readable = [n for n in route_lbs if n in lbs and not gaps.failed("listeners", lbs[n].arn)]
    found = False
    for name in readable:
        if raw.listener(name, port):
            wanted.setdefault((name, port), set())
            found = True
    if not found and readable:
        gaps.add("error", f"test listener :{port}",
                 f"no listener on port {port} (the test listener) on load balancer {', '.join(lbs)}")


def _listener(lb_name: str, port: int, priorities: set[int], raw: RawState, gaps: Gaps) -> Listener | None:
    found = raw.listener(lb_name, port)
    if found is None:
        gaps.add("error", f"listener {lb_name}:{port}", f"no listener on port {port} of load balancer {lb_name}")
        return None
    arn = found["ListenerArn"]
    default = routing_rule(arn, None, found.get("DefaultActions", []))
    rules = []
    if priorities:
        gaps.note_error("rules", arn, f"listener {lb_name}:{port}")
    for priority in sorted(priorities):
        found_rule = next((x for x in raw.rules.get(arn, []) if str(x.get("Priority")) == str(priority)), None)
        if found_rule is None:
            if not gaps.failed("rules", arn):
                gaps.add("error", f"listener {lb_name}:{port} rule {priority}",
                         f"no rule with priority {priority} on listener {lb_name}:{port}")
            continue
        rules.append(routing_rule(found_rule["RuleArn"], priority, found_rule.get("Actions", [])))
    return Listener(arn, lb_name, port, found.get("Protocol"), default, tuple(rules))


def dns_record(zone_id: str, found: Mapping[str, Any]) -> DnsRecord:
    """One listed record set. An alias record has no TTL of its own (Route53 uses its target's),
    whatever the listing says (moto answers TTL 0)."""
    alias = found.get("AliasTarget") or None
    values = tuple(v["Value"] for v in found.get("ResourceRecords", []))
    if alias:
        values = (alias["DNSName"].rstrip("."),)
    return DnsRecord(
        zone_id=zone_id, name=norm_dns(found["Name"]), type=found["Type"], set_identifier=found.get("SetIdentifier"),
        weight=found.get("Weight"), ttl=None if alias else found.get("TTL"), values=values,
        health_check_id=found.get("HealthCheckId"), alias_zone_id=alias["HostedZoneId"] if alias else None,
        evaluate_target_health=bool(alias.get("EvaluateTargetHealth")) if alias else None)


def classic_elbs(spec: Spec, raw: RawState, gaps: Gaps) -> dict[str, ClassicElb]:
    name = spec.classic_elb
    if not name:
        return {}
    found = raw.classic_elbs.get(name)
    if found is None:
        gaps.missing("classic elb", name, f"classic load balancer {name}", f"classic load balancer {name} not found")
        return {}
    gaps.note_error("classic elb health", name, f"classic load balancer {name}")
    instances = tuple(TargetHealth(s["InstanceId"], None, s.get("State", "Unknown"),
                                   None if s.get("ReasonCode") in (None, "N/A") else s["ReasonCode"])
                      for s in raw.classic_health.get(name, []))
    return {name: ClassicElb(name, found.get("DNSName", ""), instances)}


def dns(spec: Spec, raw: RawState, gaps: Gaps) -> tuple[str | None, tuple[DnsRecord, ...]]:
    """The hosted zone's id and the spec's record sets (one per color's stack, weighted)."""
    wanted_dns = spec.dns
    if wanted_dns is None:
        return None, ()
    zone, record = wanted_dns.hosted_zone, wanted_dns.record
    zone_id = raw.zones.get(zone)
    if zone_id is None:
        gaps.missing("hosted zone", zone, f"hosted zone {zone}", f"hosted zone {zone} not found")
        return None, ()
    if zone in raw.zone_notes:
        gaps.add("warning", f"hosted zone {zone}", raw.zone_notes[zone])
    if gaps.failed("records", zone_id):
        gaps.note_error("records", zone_id, f"record {record}")
        return zone_id, ()
    wanted = norm_dns(record)
    records = []
    for found in raw.records.get(zone_id, []):
        if norm_dns(found["Name"]) != wanted:
            continue
        records.append(dns_record(zone_id, found))
    if not records:
        gaps.add("error", f"record {record}", f"no record named {record} in hosted zone {zone}")
    elif not any(r.weight is not None for r in records):
        gaps.add("error", f"record {record}", f"record {record} is not weighted (no SetIdentifier/Weight)")
    records.sort(key=lambda r: (r.type, r.set_identifier or ""))
    return zone_id, tuple(records)
