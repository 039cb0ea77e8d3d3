"""Rules that relate one part of a spec to another, and the loader's better words for union errors."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bluegreen.domain.spec.base import ColorPair, Strategy
from bluegreen.domain.spec.hooks import hook_problems
from bluegreen.domain.spec.platform import AsgGroups, EcsService, EcsServices
from bluegreen.domain.spec.policy import AllAtOnce, Check

if TYPE_CHECKING:
    from bluegreen.domain.spec import Spec

Loc = tuple[str | int, ...]

# Where a field that is not allowed in one variant belongs, for a better message than "unknown field".
ONLY_IN: dict[Loc, str] = {
    ("traffic", "test_listener"): "a test listener needs `routes` on a load balancer",
    ("shift", "percentages"): "only used by canary",
    ("shift", "step_percent"): "only used by linear",
    ("shift", "interval"): "only used by linear",
    ("platform", "asg", "image_delivery", "parameter"): "only used by ssm-parameter delivery",
}

# What a missing required field of one variant means, for a better message than "required field is missing".
NEEDED: dict[Loc, str] = {
    ("shift", "percentages"): "canary needs percentages, e.g. [10, 100]",
    ("shift", "step_percent"): "linear needs step_percent, e.g. 25",
    ("traffic", "dns", "ttl"): "DNS cutover needs the record's TTL (e.g. 60s)",
    ("traffic", "dns", "endpoints"): "DNS cutover needs each color's endpoint",
    ("platform", "asg", "image_delivery", "parameter"): "ssm-parameter delivery needs `parameter`",
    ("platform", "ecs", "container"): "ECS strategies need the name of the container to update",
    ("state", "table"): "the dynamodb backend needs a table name",
}


def consistency_problems(spec: Spec) -> list[tuple[Loc, str]]:
    """Rules that relate one part of the spec to another; each names the field to fix."""
    problems: list[tuple[Loc, str]] = []
    add = lambda loc, msg: problems.append((loc, msg))  # noqa: E731

    test = spec.test_listener
    seen: set[tuple[str, int, int | None]] = set()
    for i, route in enumerate(spec.routes):
        if route.blue_target_group == route.green_target_group:
            add(("traffic", "routes", i, "green_target_group"),
                f"must differ from blue_target_group (both are {route.blue_target_group}): each color needs its own")
        if test and test.port == route.port:
            add(("traffic", "test_listener", "port"),
                f"must differ from the production port {route.port} of routes[{i}]")
        key = (route.load_balancer, route.port, route.rule_priority)
        if key in seen:
            add(("traffic", "routes", i), "the same listener/rule is listed twice")
        seen.add(key)

    asg = spec.asg
    if asg is not None and asg.capacity and not asg.capacity.min <= asg.capacity.desired <= asg.capacity.max:
        add(("platform", "asg", "capacity"), "needs min <= desired <= max")
    for pair_loc, pair in _color_pairs(spec):
        if pair.blue == pair.green:
            add(pair_loc + ("green",), f"must differ from blue (both are {pair.blue}): each color needs its own")

    h = spec.health
    if h.checks and Check.HTTP in h.checks and h.http is None:
        add(("health", "http"), "the `http` check needs an `http` probe (url)")
    if h.checks and Check.ALARMS in h.checks and not h.alarms:
        add(("health", "alarms"), "the `alarms` check needs alarm names")
    if h.interval > h.deadline:
        add(("health", "interval"), "must not be longer than the deadline")

    problems.extend(_strategy_fit(spec))
    problems.extend(hook_problems(spec.hooks, spec.ecs is not None))
    return problems


def _color_pairs(spec: Spec) -> list[tuple[Loc, ColorPair]]:
    pairs: list[tuple[Loc, ColorPair | None]] = []
    if isinstance(spec.ecs, EcsServices):
        pairs.append((("platform", "ecs", "services"), spec.ecs.services))
    if isinstance(spec.asg, AsgGroups):
        pairs.append((("platform", "asg", "groups"), spec.asg.groups))
    if spec.dns is not None:
        for name in ("endpoints", "health_check_ids", "target_groups"):
            pairs.append((("traffic", "dns", name), getattr(spec.dns, name)))
    return [(loc, pair) for loc, pair in pairs if pair is not None]


_ENGINE_CONFIG = {Strategy.ECS_NATIVE: "the service's deploymentConfiguration",
                  Strategy.ECS_CODEDEPLOY: "the deployment group's deployment configuration"}


def _strategy_fit(spec: Spec) -> list[tuple[Loc, str]]:
    """An explicit strategy must match the shape of the spec (live infrastructure is checked later)."""
    s, ecs = spec.strategy, spec.ecs
    need: list[tuple[bool, Loc, str]] = []
    if s is Strategy.ECS_TARGET_GROUPS:
        need = [
            (isinstance(ecs, EcsServices), ("platform", "ecs", "services"),
             "ecs-target-group-swap needs one ECS service per color (`services: {blue, green}`)"),
            (bool(spec.routes), ("traffic", "routes"),
             "ecs-target-group-swap needs a listener route with blue and green target groups"),
        ]
    elif s is Strategy.ECS_TASK_DEFINITION:
        need = [
            (isinstance(ecs, EcsService), ("platform", "ecs", "service"),
             "ecs-task-definition-swap needs the one ECS service (`service:`)"),
            (not spec.routes and spec.dns is None, ("traffic",),
             "ecs-task-definition-swap uses a single target group, not routes or DNS"),
        ]
    elif s is Strategy.ASG_SWAP:
        need = [
            (spec.asg is not None, ("platform", "asg"), "asg-swap needs an Auto Scaling platform (`asg:`)"),
            (spec.dns is None, ("traffic",), "asg-swap needs a target group, routes or a classic ELB"),
        ]
    elif s in (Strategy.ECS_NATIVE, Strategy.ECS_CODEDEPLOY):
        need = [
            (isinstance(ecs, EcsService), ("platform", "ecs", "service"),
             f"{s.value} needs the one ECS service (`service:`) that {'ECS' if s is Strategy.ECS_NATIVE else 'CodeDeploy'} deploys"),
            (spec.target_group is not None, ("traffic",),
             f"{s.value} needs `traffic.target_group`: one of the service's pair of target groups (AWS moves the listeners)"),
            (isinstance(spec.shift, AllAtOnce), ("shift",),
             f"{s.value} moves production traffic as {_ENGINE_CONFIG[s]} says (linear and canary included); "
             "remove `shift`"),
        ]
    elif s is Strategy.DNS_CUTOVER:
        need = [(spec.dns is not None, ("traffic", "dns"), "dns-cutover needs a Route53 record (`dns:`)")]
        if ecs is not None:
            need.append((isinstance(ecs, EcsServices), ("platform", "ecs", "services"),
                         "dns-cutover on ECS needs one service per color (`services: {blue, green}`)"))
    return [(loc, msg) for ok, loc, msg in need if not ok]
