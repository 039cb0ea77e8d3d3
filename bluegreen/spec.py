"""The deployment spec: one service per YAML file, validated by pydantic (frozen, no unknown fields).

Field-level rules live on the models; rules that relate sections to each other live in
`consistency_problems`, which returns (field path, message) pairs so the loader can point at the
exact line. Secret values never appear here: only references (SSM / Secrets Manager ARNs).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from .durations import Duration

SCHEMA_URL = "https://bluegreen.dev/schema/spec-v1.json"

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(ssm:[a-z0-9-]+:\d{12}:parameter/.+|secretsmanager:[a-z0-9-]+:\d{12}:secret:.+)$"
)
SECRET_LOOKING = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)


class Strategy(StrEnum):
    AUTO = "auto"
    ECS_TARGET_GROUPS = "ecs-target-group-swap"
    ECS_TASK_DEFINITION = "ecs-task-definition-swap"
    ASG_SWAP = "asg-swap"
    DNS_CUTOVER = "dns-cutover"


class Check(StrEnum):
    ECS_STEADY_STATE = "ecs-steady-state"
    TARGET_HEALTH = "target-health"
    ASG_IN_SERVICE = "asg-in-service"
    HTTP = "http"
    ALARMS = "alarms"


def _secret_reference(value: str) -> str:
    if not _SECRET_ARN.match(value):
        raise ValueError(
            "must be a reference (arn:aws:ssm:REGION:ACCOUNT:parameter/NAME or "
            "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME), never a literal value"
        )
    return value


SecretRef = Annotated[str, AfterValidator(_secret_reference)]
Name = Annotated[str, Field(pattern=_NAME)]
Port = Annotated[int, Field(ge=1, le=65535)]
Percent = Annotated[int, Field(ge=1, le=100)]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColorPair(Model):
    """One name per color: the two environments traffic moves between."""

    blue: Name
    green: Name

    def of(self, color: str) -> str:
        return self.blue if color == "blue" else self.green


# --- image -----------------------------------------------------------------------------------


class Build(Model):
    context: str = Field(".", description="Build context, relative to the spec file's directory.")
    dockerfile: str = "Dockerfile"
    args: dict[str, str] = Field(default_factory=dict, description="Build args (not for secrets).")
    target: str | None = None
    platform: str | None = Field(None, pattern=r"^[a-z0-9]+/[a-z0-9_]+(/[a-z0-9]+)?$")
    labels: dict[str, str] = Field(default_factory=dict)


class Image(Model):
    repository: str = Field(
        pattern=r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$",
        max_length=256,
        description="ECR repository name (not the registry host).",
    )

    @field_validator("repository")
    @classmethod
    def _name_not_address(cls, value: str) -> str:
        if re.search(r"\d{12}\.dkr\.ecr\.|amazonaws\.com", value):
            raise ValueError("give the repository name only (e.g. web), not the registry address")
        return value
    create_repository: bool = Field(False, description="Create the ECR repository when it is missing.")
    tag_immutable: bool = Field(True, description="ECR tag immutability (for a created repository); an immutable tag is never overwritten.")
    scan_on_push: bool = False
    build: Build | None = None


# --- platform --------------------------------------------------------------------------------


class Ecs(Model):
    cluster: Name = Field(description="ECS cluster name.")
    service: Name | None = Field(None, description="The one service of an ECS task-definition swap.")
    services: ColorPair | None = Field(None, description="One ECS service per color.")
    task_definition_family: Name | None = Field(
        None, description="Defaults to the family of the live service's task definition."
    )
    container: Name | None = Field(None, description="The container that receives the new image.")
    desired_count: int | None = Field(None, ge=0, description="Defaults to blue's live count.")
    cpu: int | None = Field(None, ge=128)
    memory: int | None = Field(None, ge=128)
    environment: dict[str, str] = Field(default_factory=dict, description="Variables set on the container; others are kept.")
    secrets: dict[str, SecretRef] = Field(default_factory=dict, description="Name -> SSM parameter or Secrets Manager ARN (never a value).")

    @field_validator("environment")
    @classmethod
    def _no_literal_secrets(cls, env: dict[str, str]) -> dict[str, str]:
        leaked = sorted(k for k, v in env.items() if SECRET_LOOKING.search(k) and v)
        if leaked:
            raise ValueError(
                f"{', '.join(leaked)} looks like a secret; move it to `secrets:` as an SSM or "
                "Secrets Manager ARN (the value is not shown)"
            )
        return env


class Capacity(Model):
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    desired: int = Field(ge=0)


class ImageDelivery(Model):
    """How EC2 instances learn which image to run."""

    method: Literal["user-data", "ssm-parameter"] = "user-data"
    parameter: str | None = Field(None, description="SSM parameter the instances read (ssm-parameter).")
    container_port: Port = 80
    host_port: Port = 80


class Asg(Model):
    launch_template: Name = Field(description="Launch template whose new version carries the image.")
    groups: ColorPair | None = None
    name_pattern: str | None = Field(None, description="e.g. web-{color}")
    capacity: Capacity | None = Field(None, description="Defaults to blue's live capacity.")
    image_delivery: ImageDelivery = Field(default_factory=ImageDelivery)
    max_remaining_groups: int = Field(
        2, ge=1, description="Groups left after a deploy: 2 keeps the old one at 0; 1 deletes it at finalize "
                             "(the next deploy recreates it as a copy of the live group).")
    suspend_processes: list[
        Literal[
            "Launch", "Terminate", "AlarmNotification", "AZRebalance", "ScheduledActions",
            "HealthCheck", "ReplaceUnhealthy", "AddToLoadBalancer", "InstanceRefresh",
        ]
    ] = Field(default_factory=lambda: ["AlarmNotification", "AZRebalance", "ScheduledActions"])

    def group_name(self, color: str) -> str:
        if self.groups:
            return self.groups.of(color)
        assert self.name_pattern is not None
        return self.name_pattern.replace("{color}", color)


class Platform(Model):
    ecs: Ecs | None = None
    asg: Asg | None = None


# --- traffic ---------------------------------------------------------------------------------


class Route(Model):
    """A listener's default action, or one rule of it on a shared ALB, forwarding to blue/green."""

    load_balancer: Name = Field(description="ALB/NLB name.")
    port: Port = Field(description="Production listener port.")
    rule_priority: int | None = Field(None, ge=1, le=50000, description="Omit for the default action.")
    blue_target_group: Name = Field(description="Target group of the blue color.")
    green_target_group: Name = Field(description="Target group of the green color.")


class TestListener(Model):
    port: Port


class Dns(Model):
    hosted_zone: str = Field(description="Zone name (example.com) or id (Z123...).")
    record: str = Field(description="Record name, e.g. api.example.com")
    endpoints: ColorPair | None = Field(None, description="Each color's endpoint hostname (CNAME value).")
    ttl: Duration | None = Field(None, description="The record's TTL; each traffic step holds at least this long.")
    health_check_ids: ColorPair | None = None
    target_groups: ColorPair | None = Field(None, description="Each color's target group, for gates.")


class Traffic(Model):
    routes: list[Route] = Field(default_factory=list, description="Listener default actions or rules forwarding to blue/green.")
    test_listener: TestListener | None = Field(None, description="A listener on the first route's load balancer where green is probed first.")
    target_group: Name | None = Field(None, description="A single target group (ECS task-definition swap, ASG swap).")
    classic_elb: Name | None = Field(None, description="A classic ELB (ASG swap).")
    dns: Dns | None = Field(None, description="A Route53 weighted record (DNS cutover).")


# --- policy ----------------------------------------------------------------------------------


class Shift(Model):
    mode: Literal["all-at-once", "canary", "linear"] = Field("all-at-once", description="How production traffic moves to the new color.")
    percentages: list[Percent] | None = Field(None, description="canary: e.g. [10, 50, 100]")
    step_percent: Percent | None = Field(None, description="linear: percent added per step")
    interval: Duration | None = Field(None, description="linear: how long each step holds")

    @field_validator("percentages")
    @classmethod
    def _increasing_to_100(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return value
        if any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError("canary percentages must increase")
        if not value or value[-1] != 100:
            raise ValueError("canary percentages must end at 100")
        return value

    def weights(self) -> list[int]:
        """Green's share of production traffic after each step."""
        if self.mode == "canary" and self.percentages:
            return list(self.percentages)
        if self.mode == "linear" and self.step_percent:
            return list(range(self.step_percent, 100, self.step_percent)) + [100]
        return [100]


class HttpProbe(Model):
    url: str = Field(pattern=r"^https?://[^\s]+$", description="Where the new color answers (e.g. through the test listener).")
    expected_status: list[int] = Field(default_factory=lambda: [200], description="Accepted status code(s).")
    body_contains: str | None = Field(None, description="Text the body must contain.")
    timeout: Duration = Field(5.0, description="Per request.")

    @field_validator("expected_status", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, int) else value


class Health(Model):
    checks: list[Check] | None = Field(None, description="Defaults to every check the strategy supports.")
    http: HttpProbe | None = Field(None, description="HTTP probe of the new color.")
    alarms: list[str] = Field(default_factory=list, description="CloudWatch alarms: any in ALARM fails a gate at once (and refuses to start).")
    deadline: Duration = Field(600.0, description="How long green may take to become healthy.")
    interval: Duration = Field(10.0, description="First wait between health polls (backs off).")
    bake: Duration = Field(60.0, description="How long each traffic step holds with gates.")


class RollbackPolicy(Model):
    automatic: bool = Field(True, description="Roll back by itself on any failed gate, error or interrupt.")
    keep_blue_warm: Duration | None = Field(
        None, description="Defaults to 15m for listener/ASG swaps and 24h for DNS cutovers."
    )


class State(Model):
    backend: Literal["local", "dynamodb"] = Field("local", description="Where locks, journals and history live.")
    directory: str = Field(".bluegreen", description="local: where journals, locks and history live.")
    table: Name | None = Field(None, description="dynamodb: the table (partition key `pk`).")
    lease: Duration = Field(120.0, description="Lock lease; the running deployment renews it.")


class Spec(Model):
    """One service's blue/green deployment."""

    service: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="The service's name: locks, journals and history are kept per service.")
    description: str | None = None
    region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region of every resource below.")
    strategy: Strategy = Field(Strategy.AUTO, description="auto: the planner picks from the spec and live infrastructure, and says why.")
    image: Image
    platform: Platform
    traffic: Traffic
    shift: Shift = Field(default_factory=Shift)
    health: Health = Field(default_factory=Health)
    rollback: RollbackPolicy = Field(default_factory=RollbackPolicy)
    state: State = Field(default_factory=State)
    tags: dict[str, str] = Field(default_factory=dict, description="Free-form labels.")

    def keep_blue_warm(self, strategy: Strategy) -> float:
        if self.rollback.keep_blue_warm is not None:
            return self.rollback.keep_blue_warm
        return 86400.0 if strategy is Strategy.DNS_CUTOVER else 900.0


Loc = tuple[str | int, ...]


def consistency_problems(spec: Spec) -> list[tuple[Loc, str]]:
    """Rules that relate one part of the spec to another; each names the field to fix."""
    problems: list[tuple[Loc, str]] = []
    add = lambda loc, msg: problems.append((loc, msg))  # noqa: E731
    p, t = spec.platform, spec.traffic

    if (p.ecs is None) == (p.asg is None):
        add(("platform",), "give exactly one of `ecs` or `asg`")
    kinds = [k for k in ("routes", "target_group", "classic_elb", "dns") if getattr(t, k)]
    if len(kinds) != 1:
        add(("traffic",), "give exactly one of `routes`, `target_group`, `classic_elb` or `dns`"
            + (f" (found {', '.join(kinds)})" if kinds else ""))
    if t.test_listener and not t.routes:
        add(("traffic", "test_listener"), "a test listener needs `routes` on a load balancer")
    for i, route in enumerate(t.routes):
        if route.blue_target_group == route.green_target_group:
            add(("traffic", "routes", i, "green_target_group"), "must differ from blue_target_group")
        if t.test_listener and t.test_listener.port == route.port:
            add(("traffic", "test_listener", "port"),
                f"must differ from the production port {route.port} of routes[{i}]")
    seen: set[tuple[str, int, int | None]] = set()
    for i, route in enumerate(t.routes):
        key = (route.load_balancer, route.port, route.rule_priority)
        if key in seen:
            add(("traffic", "routes", i), "the same listener/rule is listed twice")
        seen.add(key)

    if p.ecs:
        if p.ecs.service and p.ecs.services:
            add(("platform", "ecs", "services"), "give `service` or `services`, not both")
        if not p.ecs.service and not p.ecs.services:
            add(("platform", "ecs"), "needs `service` (one service) or `services` (one per color)")
        if not p.ecs.container:
            add(("platform", "ecs", "container"), "ECS strategies need the name of the container to update")
    if p.asg:
        if (p.asg.groups is None) == (p.asg.name_pattern is None):
            add(("platform", "asg"), "give exactly one of `groups` or `name_pattern`")
        if p.asg.name_pattern is not None and "{color}" not in p.asg.name_pattern:
            add(("platform", "asg", "name_pattern"), "must contain {color}, e.g. web-{color}")
        delivery = p.asg.image_delivery
        if delivery.method == "ssm-parameter" and not delivery.parameter:
            add(("platform", "asg", "image_delivery", "parameter"), "ssm-parameter delivery needs `parameter`")
        if p.asg.capacity and not p.asg.capacity.min <= p.asg.capacity.desired <= p.asg.capacity.max:
            add(("platform", "asg", "capacity"), "needs min <= desired <= max")
    for pair_loc, pair in _color_pairs(spec):
        if pair.blue == pair.green:
            add(pair_loc + ("green",), "must differ from blue")

    if t.dns:
        if t.dns.ttl is None:
            add(("traffic", "dns", "ttl"), "DNS cutover needs the record's TTL (e.g. 60s)")
        elif t.dns.ttl != int(t.dns.ttl):
            add(("traffic", "dns", "ttl"), "Route53 TTLs are whole seconds")
        if t.dns.endpoints is None:
            add(("traffic", "dns", "endpoints"), "DNS cutover needs each color's endpoint")

    s = spec.shift
    if s.mode == "canary" and not s.percentages:
        add(("shift", "percentages"), "canary needs percentages, e.g. [10, 100]")
    if s.mode == "linear" and not s.step_percent:
        add(("shift", "step_percent"), "linear needs step_percent, e.g. 25")
    if s.mode != "canary" and s.percentages:
        add(("shift", "percentages"), f"only used by canary, not {s.mode}")
    if s.mode != "linear" and (s.step_percent or s.interval is not None):
        add(("shift", "step_percent" if s.step_percent else "interval"), f"only used by linear, not {s.mode}")

    h = spec.health
    if h.checks and Check.HTTP in h.checks and h.http is None:
        add(("health", "http"), "the `http` check needs an `http` probe (url)")
    if h.checks and Check.ALARMS in h.checks and not h.alarms:
        add(("health", "alarms"), "the `alarms` check needs alarm names")
    if h.interval > h.deadline:
        add(("health", "interval"), "must not be longer than the deadline")
    if spec.state.backend == "dynamodb" and not spec.state.table:
        add(("state", "table"), "the dynamodb backend needs a table name")

    problems.extend(_strategy_fit(spec))
    return problems


def _color_pairs(spec: Spec) -> list[tuple[Loc, ColorPair]]:
    pairs: list[tuple[Loc, ColorPair | None]] = [
        (("platform", "ecs", "services"), spec.platform.ecs.services if spec.platform.ecs else None),
        (("platform", "asg", "groups"), spec.platform.asg.groups if spec.platform.asg else None),
    ]
    if spec.traffic.dns:
        for field in ("endpoints", "health_check_ids", "target_groups"):
            pairs.append((("traffic", "dns", field), getattr(spec.traffic.dns, field)))
    return [(loc, pair) for loc, pair in pairs if pair is not None]


def _strategy_fit(spec: Spec) -> list[tuple[Loc, str]]:
    """An explicit strategy must match the shape of the spec (live infrastructure is checked later)."""
    p, t, s = spec.platform, spec.traffic, spec.strategy
    need: list[tuple[bool, Loc, str]] = []
    if s is Strategy.ECS_TARGET_GROUPS:
        need = [
            (p.ecs is not None and p.ecs.services is not None, ("platform", "ecs", "services"),
             "ecs-target-group-swap needs one ECS service per color (`services: {blue, green}`)"),
            (bool(t.routes), ("traffic", "routes"),
             "ecs-target-group-swap needs a listener route with blue and green target groups"),
        ]
    elif s is Strategy.ECS_TASK_DEFINITION:
        need = [
            (p.ecs is not None and p.ecs.service is not None, ("platform", "ecs", "service"),
             "ecs-task-definition-swap needs the one ECS service (`service:`)"),
            (not t.routes and t.dns is None, ("traffic",),
             "ecs-task-definition-swap uses a single target group, not routes or DNS"),
        ]
    elif s is Strategy.ASG_SWAP:
        need = [
            (p.asg is not None, ("platform", "asg"), "asg-swap needs an Auto Scaling platform (`asg:`)"),
            (bool(t.routes or t.target_group or t.classic_elb), ("traffic",),
             "asg-swap needs a target group, routes or a classic ELB"),
        ]
    elif s is Strategy.DNS_CUTOVER:
        need = [(t.dns is not None, ("traffic", "dns"), "dns-cutover needs a Route53 record (`dns:`)")]
        if p.ecs is not None:
            need.append((p.ecs.services is not None, ("platform", "ecs", "services"),
                         "dns-cutover on ECS needs one service per color (`services: {blue, green}`)"))
    return [(loc, msg) for ok, loc, msg in need if not ok]
