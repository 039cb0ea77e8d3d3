"""Wiring checks: before anything moves, the live wiring must be what the spec claims.

A spec names target groups; AWS knows which of them a listener forwards to, which an ECS service
registers its tasks into and which an Auto Scaling group is attached to. One wrong word in a spec
(a target group nobody registers into) would otherwise move production traffic to an empty group.
Each check is a named pre-flight check with its own line in the plan; a failure names both sides:

    routes forward only to blue and green     each route's listener (or rule) sends traffic to nothing else
    target groups are the ones each color uses  each color's target groups are the ones its ECS service
                                                registers into, or its Auto Scaling group is attached to
    target groups belong to the load balancer   a route's target groups are not another load balancer's
    blue and green differ                       no target group serves both colors

A check needs what it compares: a resource discovery did not find is left out here (the findings
say it is missing), so one cause is reported once. A check that has nothing to compare is omitted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from bluegreen.domain.colors import COLORS, Color
from bluegreen.domain.plan import PreflightCheck
from bluegreen.domain.snapshot import AutoScalingGroup, EcsService, Snapshot, TargetGroup, _short
from bluegreen.domain.spec import EcsService as OneService
from bluegreen.domain.spec import EcsServices, Spec
from bluegreen.domain.weights import percentages

ROUTES = "routes forward only to blue and green"
OWN = "target groups are the ones each color uses"
LOAD_BALANCER = "target groups belong to the load balancer"
DIFFER = "blue and green differ"


@dataclass(frozen=True)
class Claim:
    """A target group (or classic ELB) the spec names for a color, and the field that names it."""

    color: Color | None  # None: both colors take turns on it (one target group or classic ELB)
    field: str  # e.g. `green_target_group`, `routes[1].blue_target_group`, `dns.target_groups.green`
    name: str
    classic: bool = False


def checks(spec: Spec, snapshot: Snapshot) -> list[PreflightCheck]:
    """The wiring checks that apply to the spec's shape: one line when a check passes, one per problem
    when it fails."""
    claims = spec_claims(spec)
    own, wrong = _own(spec, snapshot, claims)
    return (_routes(spec, snapshot) + own + _load_balancers(spec, snapshot)
            + _differ(spec, snapshot, claims, skip=wrong))


def spec_claims(spec: Spec) -> list[Claim]:
    """Every target group (or classic ELB) the spec names, once per color, with the field(s) naming it.
    Routes that share a pair make one claim, so one cause is one line."""
    claims: list[Claim] = []
    for color in COLORS:
        fields: dict[str, list[str]] = {}
        for i, route in enumerate(spec.routes):
            fields.setdefault(route.target_group(color), []).append(f"routes[{i}].{color}_target_group")
        for name, named in fields.items():
            field = f"{color}_target_group" if len(named) == len(spec.routes) else " and ".join(named)
            claims.append(Claim(color, field, name))
        if spec.dns is not None and spec.dns.target_groups is not None:
            claims.append(Claim(color, f"dns.target_groups.{color}", spec.dns.target_groups.of(color)))
    if spec.target_group:
        claims.append(Claim(None, "target_group", spec.target_group))
    if spec.classic_elb:
        claims.append(Claim(None, "classic_elb", spec.classic_elb, classic=True))
    return claims


def _claim(claims: Sequence[Claim], color: Color, name: str) -> Claim:
    return next(c for c in claims if c.color == color and c.name == name and not c.field.startswith("dns."))


# --- routes ---------------------------------------------------------------------------------------


def route_problem(label: str, forward: Sequence[tuple[str, int]], blue: TargetGroup, green: TargetGroup,
                  snapshot: Snapshot, fields: tuple[str, str] = ("blue_target_group", "green_target_group")) -> str | None:
    """Why a route's forward action is not only to its blue and green target groups (None: it is)."""
    spec_side = f"{fields[0]} {blue.name} nor {fields[1]} {green.name}"
    if not forward:
        return f"listener {label} does not forward to a target group; the spec names {fields[0]} {blue.name} " \
               f"and {fields[1]} {green.name}"
    strangers = [(arn, weight) for arn, weight in forward if arn not in (blue.arn, green.arn) and weight > 0]
    if not strangers:
        return None
    named = ", ".join(f"{tg_name(snapshot, arn)} (weight {weight})" for arn, weight in strangers)
    return f"listener {label} forwards to {named}, which is neither {spec_side}"


def _routes(spec: Spec, snapshot: Snapshot) -> list[PreflightCheck]:
    if not spec.routes:
        return []
    claims = spec_claims(spec)
    problems, shown = [], []
    for route in spec.routes:
        listener = snapshot.listener(route.load_balancer, route.port)
        rule = listener.rule(route.rule_priority) if listener else None
        blue, green = (snapshot.target_groups.get(route.target_group(c)) for c in COLORS)
        if rule is None or blue is None or green is None:
            continue  # missing: the findings (or the strategy) say so once
        fields = (_claim(claims, Color.BLUE, blue.name).field, _claim(claims, Color.GREEN, green.name).field)
        problem = route_problem(route.label, rule.forward, blue, green, snapshot, fields)
        if problem:
            problems.append(problem)
        else:
            shares = percentages(dict(rule.forward))  # a plain forward (weight 1) is 100%, not 1
            shown.append(f"{route.label} -> {blue.name} {shares.get(blue.arn, 0)}% / {green.name} "
                         f"{shares.get(green.arn, 0)}%")
    if not problems and not shown:
        return []
    return _check(ROUTES, problems, "; ".join(shown))


# --- each color's own target groups ----------------------------------------------------------------


def _own(spec: Spec, snapshot: Snapshot, claims: list[Claim]) -> tuple[list[PreflightCheck], set[str]]:
    """Each claimed target group is where its color's workload really is; also the workloads that are not."""
    problems: list[str] = []
    checked: list[str] = []
    wrong: set[str] = set()
    for color, workload in _workloads(spec, snapshot):
        mine = [c for c in claims if c.color == color]
        if isinstance(workload, EcsService):
            found = [(c, _ecs_problem(c, workload, snapshot)) for c in mine]
        elif color is not None and (workload.desired > 0 or spec.dns is not None):
            # Behind routes an idle group is attached when it is brought up; a DNS stack's is not.
            found = [(c, _group_problem(c, workload, snapshot)) for c in mine]
        else:
            continue
        for claim, problem in found:
            if problem is not None:
                problems.append(problem)
                wrong.add(workload.name)
            elif _known(claim, snapshot):
                checked.append(f"{workload.name} -> {claim.name}")
    shared = [c for c in claims if c.color is None]
    if shared and spec.asg is not None:
        found_shared = _shared_problems(shared, [g for _, g in _workloads(spec, snapshot)], snapshot)
        problems += found_shared
        checked += [] if found_shared else [f"{c.name} (shared by both colors)" for c in shared if _known(c, snapshot)]
    if not problems and not checked:
        return [], wrong
    return _check(OWN, problems, ", ".join(checked)), wrong


def _workloads(spec: Spec, snapshot: Snapshot) -> Iterable[tuple[Color | None, EcsService | AutoScalingGroup]]:
    """What runs each color (None: the one ECS service of a task-definition swap), as far as it exists."""
    ecs, asg = spec.ecs, spec.asg
    if isinstance(ecs, EcsServices):
        for color in COLORS:
            service = snapshot.ecs_services.get(ecs.services.of(color))
            if service is not None:
                yield color, service
    elif isinstance(ecs, OneService):
        service = snapshot.ecs_services.get(ecs.service)
        if service is not None:
            yield None, service
    elif asg is not None:
        for color in COLORS:
            group = snapshot.asgs.get(asg.group_name(color))
            if group is not None:
                yield color, group


def _known(claim: Claim, snapshot: Snapshot) -> bool:
    return claim.classic or claim.name in snapshot.target_groups


def _ecs_problem(claim: Claim, service: EcsService, snapshot: Snapshot) -> str | None:
    if claim.classic:
        if claim.name in service.load_balancer_names:
            return None
        where = ", ".join(service.load_balancer_names) or "no classic load balancer"
        return f"{claim.field} {claim.name}, but ECS service {service.name} registers with {where}"
    tg = snapshot.target_groups.get(claim.name)
    if tg is None or tg.arn in service.target_group_arns:
        return None
    return (f"{claim.field} {claim.name}, but ECS service {service.name} registers into "
            f"{_names(snapshot, service.target_group_arns) or 'no target group'}")


def _group_problem(claim: Claim, group: AutoScalingGroup, snapshot: Snapshot) -> str | None:
    tg = snapshot.target_groups.get(claim.name)
    if tg is None or tg.arn in group.target_group_arns:
        return None
    return (f"{claim.field} {claim.name}, but Auto Scaling group {group.name} is attached to "
            f"{_names(snapshot, group.target_group_arns) or 'no target group'}")


def _shared_problems(shared: list[Claim], groups: Sequence[EcsService | AutoScalingGroup],
                     snapshot: Snapshot) -> list[str]:
    """One target group (or classic ELB) for both colors: the group serving now must be attached to it."""
    problems = []
    serving = [g for g in groups if isinstance(g, AutoScalingGroup) and g.desired > 0]
    for claim in shared:
        tg = snapshot.target_groups.get(claim.name)
        if not claim.classic and tg is None:
            continue
        on = [g for g in serving if (claim.name in g.load_balancer_names if claim.classic
                                     else tg is not None and tg.arn in g.target_group_arns)]
        if on or not serving:
            continue  # attached, or nothing serves at all (the strategy says so)
        for group in serving:
            where = (", ".join(group.load_balancer_names) or "no classic load balancer") if claim.classic \
                else (_names(snapshot, group.target_group_arns) or "no target group")
            problems.append(f"{claim.field} {claim.name}, but Auto Scaling group {group.name} "
                            f"({group.desired} instance(s)) is attached to {where}")
    return problems


# --- load balancers -------------------------------------------------------------------------------


def _load_balancers(spec: Spec, snapshot: Snapshot) -> list[PreflightCheck]:
    """A target group associated with another load balancer cannot take this route's traffic."""
    if not spec.routes:
        return []
    claims = spec_claims(spec)
    problems, checked = [], []
    for route in spec.routes:
        lb = snapshot.load_balancers.get(route.load_balancer)
        if lb is None:
            continue
        for color in COLORS:
            tg = snapshot.target_groups.get(route.target_group(color))
            if tg is None:
                continue
            if tg.load_balancer_arns and lb.arn not in tg.load_balancer_arns:
                others = ", ".join(dict.fromkeys(_lb_name(a) for a in tg.load_balancer_arns))
                problems.append(f"{_claim(claims, color, tg.name).field} {tg.name} belongs to load balancer "
                                f"{others}, not {route.load_balancer}")
            else:
                checked.append(tg.name)
    if not problems and not checked:
        return []
    return _check(LOAD_BALANCER, problems, f"{', '.join(dict.fromkeys(checked))} on "
                                           f"{', '.join(dict.fromkeys(r.load_balancer for r in spec.routes))}")


# --- blue and green apart ---------------------------------------------------------------------------


def _differ(spec: Spec, snapshot: Snapshot, claims: list[Claim], skip: set[str]) -> list[PreflightCheck]:
    """No workload of one color registers into (or is attached to) the other color's target group.

    A workload in `skip` already failed its own check: that line names the cause once."""
    colored = [c for c in claims if c.color is not None and not c.classic]
    if not colored:
        return []
    problems: list[str] = []
    for color, workload in _workloads(spec, snapshot):
        if color is None or workload.name in skip:
            continue
        kind, verb = (("ECS service", "registers into") if isinstance(workload, EcsService)
                      else ("Auto Scaling group", "is attached to"))
        for claim in colored:
            tg = snapshot.target_groups.get(claim.name)
            if claim.color != color and tg is not None and tg.arn in workload.target_group_arns:
                problems.append(f"{kind} {workload.name} ({color}) {verb} {tg.name} too, which is "
                                f"{claim.color}'s {claim.field}")
    shown = "; ".join(f"{color}: " + ", ".join(dict.fromkeys(c.name for c in colored if c.color == color))
                      for color in COLORS)
    return _check(DIFFER, problems, shown)


# --- helpers -------------------------------------------------------------------------------------------


def _check(name: str, problems: list[str], ok_detail: str) -> list[PreflightCheck]:
    """One passing line, or one failing line per distinct problem (each its own cause)."""
    if problems:
        return [PreflightCheck(name=name, ok=False, detail=p) for p in dict.fromkeys(problems)]
    return [PreflightCheck(name=name, ok=True, detail=ok_detail)]


def tg_name(snapshot: Snapshot, arn: str) -> str:
    found = snapshot.target_group_by_arn(arn)
    return found.name if found is not None else _short(arn)


def _names(snapshot: Snapshot, arns: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(tg_name(snapshot, arn) for arn in arns))


def _lb_name(arn: str) -> str:
    """`...:loadbalancer/app/web-alb/50dc6c495c0c9188` -> `web-alb`."""
    parts = arn.split(":", 5)[-1].split("/")
    return parts[2] if len(parts) > 2 else arn
