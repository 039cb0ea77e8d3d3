"""The deployment spec: one service per YAML file, validated by pydantic (frozen, no unknown fields).

Choices that exclude each other are discriminated unions, so an impossible spec cannot be built:
`platform` is ECS *or* Auto Scaling; ECS has one `service` *or* one service per color (`services`);
`traffic` is listener `routes`, one `target_group`, a `classic_elb` *or* a `dns` record; an Auto
Scaling platform names its `groups` *or* a `name_pattern`; the shift is all-at-once, canary or
linear, each with only its own fields. The YAML is written as before: the key that is present
picks the variant (`one_of`), and the loader turns a union's error into one line naming the keys.

Rules that relate sections to each other live in `consistency_problems`, which returns (field path,
message) pairs so the loader can point at the exact line. Secret values never appear here: only
references (SSM / Secrets Manager ARNs).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Callable, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from bluegreen.domain.colors import Color
from bluegreen.domain.durations import Duration

SCHEMA_URL = "https://bluegreen.dev/schema/spec-v1.json"

_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$"
_SECRET_ARN = re.compile(
    r"^arn:aws[a-z-]*:(ssm:[a-z0-9-]+:\d{12}:parameter/.+|secretsmanager:[a-z0-9-]+:\d{12}:secret:.+)$"
)
SECRET_LOOKING = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL)", re.I)

ONE_OF_ERROR = "one_of"  # the error type of a union whose keys are missing or several (see `one_of`)


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


def one_of(*keys: str, none: str, default: str | None = None) -> Callable[[Any], str | None]:
    """A discriminator picking the variant by which of `keys` is present (exactly one must be).

    With several keys (or none, and no `default`) it returns None, and pydantic raises the error
    type ONE_OF_ERROR; its context carries the keys and the message for "none", so the loader can
    say which were found and point at the line of the extra one.
    """
    def pick(value: Any) -> str | None:
        if isinstance(value, BaseModel):
            return next(k for k in keys if getattr(value, k, None) is not None)
        if not isinstance(value, dict):
            return keys[0]  # not a section: the first variant reports "expected a section of fields"
        present = [k for k in keys if k in value]
        if len(present) == 1:
            return present[0]
        return default if not present else None

    pick.keys = keys  # type: ignore[attr-defined]
    pick.none = none  # type: ignore[attr-defined]
    return pick


def union(*variants: tuple[type, str], pick: Callable[[Any], str | None]) -> Any:
    """`Annotated[A | B, Discriminator(...)]`: each variant chosen by the key `pick` finds.

    Tags are `<key>?` (not identifiers), so the loader can tell them from field names in a location.
    """
    keys: tuple[str, ...] = getattr(pick, "keys")
    listed = " or ".join(f"`{k}`" for k in keys)

    def tag(value: Any) -> str | None:
        key = pick(value)
        return None if key is None else f"{key}?"

    return Annotated[
        Union[tuple(Annotated[model, Tag(f"{key}?")] for model, key in variants)],  # type: ignore[misc]
        Discriminator(tag, custom_error_type=ONE_OF_ERROR,
                      custom_error_message=f"give exactly one of {listed}",
                      custom_error_context={"keys": ",".join(keys), "none": getattr(pick, "none")}),
    ]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColorPair(Model):
    """One name per color: the two environments traffic moves between."""

    blue: Name
    green: Name

    def of(self, color: Color | str) -> str:
        return self.blue if color == Color.BLUE else self.green


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


# --- platform: ECS -----------------------------------------------------------------------------


class _EcsCommon(Model):
    cluster: Name = Field(description="ECS cluster name.")
    task_definition_family: Name | None = Field(
        None, description="Defaults to the family of the live service's task definition."
    )
    container: Name = Field(description="The container that receives the new image.")
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


class EcsService(_EcsCommon):
    """One ECS service, updated in place (task-definition swap)."""

    service: Name = Field(description="The one service of an ECS task-definition swap.")

    @property
    def service_names(self) -> list[str]:
        return [self.service]


class EcsServices(_EcsCommon):
    """One ECS service per color (target-group swap, DNS cutover)."""

    services: ColorPair = Field(description="One ECS service per color.")

    @property
    def service_names(self) -> list[str]:
        return [self.services.blue, self.services.green]


Ecs = union((EcsService, "service"), (EcsServices, "services"),
            pick=one_of("service", "services", none="needs `service` (one service) or `services` (one per color)"))


# --- platform: Auto Scaling ----------------------------------------------------------------------


class Capacity(Model):
    min: int = Field(ge=0)
    max: int = Field(ge=0)
    desired: int = Field(ge=0)


class _Delivery(Model):
    container_port: Port = 80
    host_port: Port = 80


class UserDataDelivery(_Delivery):
    """The image reference is written into the launch template's user data."""

    method: Literal["user-data"] = "user-data"


class SsmParameterDelivery(_Delivery):
    """Instances read the image reference from an SSM parameter (`{color}` allowed in its name)."""

    method: Literal["ssm-parameter"]
    parameter: str = Field(description="SSM parameter the instances read ({color} allowed).")

    def name_for(self, color: Color | str) -> str:
        return self.parameter.replace("{color}", str(color))


def _delivery_method(value: Any) -> str | None:
    method = value.get("method", "user-data") if isinstance(value, dict) else getattr(value, "method", "user-data")
    return f"{method}?" if method in ("user-data", "ssm-parameter") else None


ImageDelivery = Annotated[
    Union[Annotated[UserDataDelivery, Tag("user-data?")], Annotated[SsmParameterDelivery, Tag("ssm-parameter?")]],
    Discriminator(_delivery_method, custom_error_type="delivery_method",
                  custom_error_message="image_delivery.method must be user-data or ssm-parameter"),
]

ScalingProcess = Literal[
    "Launch", "Terminate", "AlarmNotification", "AZRebalance", "ScheduledActions",
    "HealthCheck", "ReplaceUnhealthy", "AddToLoadBalancer", "InstanceRefresh",
]


class _AsgCommon(Model):
    launch_template: Name = Field(description="Launch template whose new version carries the image.")
    capacity: Capacity | None = Field(None, description="Defaults to blue's live capacity.")
    image_delivery: ImageDelivery = Field(default_factory=UserDataDelivery)
    max_remaining_groups: int = Field(
        2, ge=1, description="Groups left after a deploy: 2 keeps the old one at 0; 1 deletes it at finalize "
                             "(the next deploy recreates it as a copy of the live group).")
    suspend_processes: list[ScalingProcess] = Field(
        default_factory=lambda: ["AlarmNotification", "AZRebalance", "ScheduledActions"])

    def group_name(self, color: Color | str) -> str:  # pragma: no cover - each variant overrides
        raise NotImplementedError


class AsgGroups(_AsgCommon):
    groups: ColorPair

    def group_name(self, color: Color | str) -> str:
        return self.groups.of(color)


class AsgNamePattern(_AsgCommon):
    name_pattern: str = Field(description="e.g. web-{color}")

    @field_validator("name_pattern")
    @classmethod
    def _has_color(cls, value: str) -> str:
        if "{color}" not in value:
            raise ValueError("must contain {color}, e.g. web-{color}")
        return value

    def group_name(self, color: Color | str) -> str:
        return self.name_pattern.replace("{color}", str(color))


Asg = union((AsgGroups, "groups"), (AsgNamePattern, "name_pattern"),
            pick=one_of("groups", "name_pattern", none="needs `groups` (blue, green) or a `name_pattern` with {color}"))


class EcsPlatform(Model):
    ecs: Ecs


class AsgPlatform(Model):
    asg: Asg


Platform = union((EcsPlatform, "ecs"), (AsgPlatform, "asg"),
                 pick=one_of("ecs", "asg", none="give `ecs` (ECS services) or `asg` (Auto Scaling groups)"))


# --- traffic ---------------------------------------------------------------------------------


class Route(Model):
    """A listener's default action, or one rule of it on a shared ALB, forwarding to blue/green."""

    load_balancer: Name = Field(description="ALB/NLB name.")
    port: Port = Field(description="Production listener port.")
    rule_priority: int | None = Field(None, ge=1, le=50000, description="Omit for the default action.")
    blue_target_group: Name = Field(description="Target group of the blue color.")
    green_target_group: Name = Field(description="Target group of the green color.")

    def target_group(self, color: Color | str) -> str:
        return self.blue_target_group if color == Color.BLUE else self.green_target_group

    @property
    def label(self) -> str:
        """`web-alb:443` or `web-alb:443 rule 10`."""
        return f"{self.load_balancer}:{self.port}" + (f" rule {self.rule_priority}" if self.rule_priority else "")


class TestListener(Model):
    __test__ = False  # not a pytest test class
    port: Port


class Dns(Model):
    hosted_zone: str = Field(description="Zone name (example.com) or id (Z123...).")
    record: str = Field(description="Record name, e.g. api.example.com")
    endpoints: ColorPair = Field(description="Each color's endpoint hostname (CNAME value).")
    ttl: Duration = Field(description="The record's TTL; each traffic step holds at least this long.")
    health_check_ids: ColorPair | None = None
    target_groups: ColorPair | None = Field(None, description="Each color's target group, for gates.")

    @field_validator("ttl")
    @classmethod
    def _whole_seconds(cls, value: float) -> float:
        if value != int(value):
            raise ValueError("Route53 TTLs are whole seconds")
        return value


class RoutesTraffic(Model):
    routes: list[Route] = Field(min_length=1, description="Listener default actions or rules forwarding to blue/green.")
    test_listener: TestListener | None = Field(None, description="A listener on the first route's load balancer where green is probed first.")


class TargetGroupTraffic(Model):
    target_group: Name = Field(description="A single target group (ECS task-definition swap, ASG swap).")


class ClassicElbTraffic(Model):
    classic_elb: Name = Field(description="A classic ELB (ASG swap).")


class DnsTraffic(Model):
    dns: Dns = Field(description="A Route53 weighted record (DNS cutover).")


Traffic = union((RoutesTraffic, "routes"), (TargetGroupTraffic, "target_group"),
                (ClassicElbTraffic, "classic_elb"), (DnsTraffic, "dns"),
                pick=one_of("routes", "target_group", "classic_elb", "dns",
                            none="give `routes`, `target_group`, `classic_elb` or `dns`"))


# --- policy ----------------------------------------------------------------------------------


class AllAtOnce(Model):
    mode: Literal["all-at-once"] = Field("all-at-once", description="How production traffic moves to the new color.")

    def weights(self) -> list[int]:
        """Green's share of production traffic after each step."""
        return [100]


class CanaryShift(Model):
    mode: Literal["canary"]
    percentages: list[Percent] = Field(description="Green's share after each step, e.g. [10, 50, 100]")

    @field_validator("percentages")
    @classmethod
    def _increasing_to_100(cls, value: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(value, value[1:])):
            raise ValueError("canary percentages must increase")
        if not value or value[-1] != 100:
            raise ValueError("canary percentages must end at 100")
        return value

    def weights(self) -> list[int]:
        return list(self.percentages)


class LinearShift(Model):
    mode: Literal["linear"]
    step_percent: Percent = Field(description="Percent added per step.")
    interval: Duration | None = Field(None, description="How long each step holds (default: health.bake).")

    def weights(self) -> list[int]:
        return list(range(self.step_percent, 100, self.step_percent)) + [100]


def _shift_mode(value: Any) -> str | None:
    mode = value.get("mode", "all-at-once") if isinstance(value, dict) else getattr(value, "mode", "all-at-once")
    return f"{mode}?" if mode in ("all-at-once", "canary", "linear") else None


Shift = Annotated[
    Union[Annotated[AllAtOnce, Tag("all-at-once?")], Annotated[CanaryShift, Tag("canary?")],
          Annotated[LinearShift, Tag("linear?")]],
    Discriminator(_shift_mode, custom_error_type="shift_mode",
                  custom_error_message="shift.mode must be all-at-once, canary or linear"),
]


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


class _StateCommon(Model):
    directory: str = Field(".bluegreen", description="local: where journals, locks and history live; "
                                                     "dynamodb: where the journal falls back to if the table fails.")
    lease: Duration = Field(120.0, description="Lock lease; the running deployment renews it.")


class LocalState(_StateCommon):
    backend: Literal["local"] = Field("local", description="Where locks, journals and history live.")


class DynamoState(_StateCommon):
    backend: Literal["dynamodb"]
    table: Name = Field(description="The table (partition key `pk`, sort key `sk`).")


def _backend(value: Any) -> str | None:
    backend = value.get("backend", "local") if isinstance(value, dict) else getattr(value, "backend", "local")
    return f"{backend}?" if backend in ("local", "dynamodb") else None


State = Annotated[
    Union[Annotated[LocalState, Tag("local?")], Annotated[DynamoState, Tag("dynamodb?")]],
    Discriminator(_backend, custom_error_type="state_backend",
                  custom_error_message="state.backend must be local or dynamodb"),
]


class Spec(Model):
    """One service's blue/green deployment."""

    service: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="The service's name: locks, journals and history are kept per service.")
    description: str | None = None
    region: str = Field("us-east-1", pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$", description="AWS region of every resource below.")
    strategy: Strategy = Field(Strategy.AUTO, description="auto: the planner picks from the spec and live infrastructure, and says why.")
    image: Image
    platform: Platform
    traffic: Traffic
    shift: Shift = Field(default_factory=AllAtOnce)
    health: Health = Field(default_factory=Health)
    rollback: RollbackPolicy = Field(default_factory=RollbackPolicy)
    state: State = Field(default_factory=LocalState)
    tags: dict[str, str] = Field(default_factory=dict, description="Free-form labels.")

    def keep_blue_warm(self, strategy: Strategy) -> float:
        if self.rollback.keep_blue_warm is not None:
            return self.rollback.keep_blue_warm
        return 86400.0 if strategy is Strategy.DNS_CUTOVER else 900.0

    # The variant chosen, for code that only needs to know which one (None when it is another).

    @property
    def ecs(self) -> EcsService | EcsServices | None:
        return self.platform.ecs if isinstance(self.platform, EcsPlatform) else None

    @property
    def asg(self) -> AsgGroups | AsgNamePattern | None:
        return self.platform.asg if isinstance(self.platform, AsgPlatform) else None

    @property
    def routes(self) -> list[Route]:
        return list(self.traffic.routes) if isinstance(self.traffic, RoutesTraffic) else []

    @property
    def test_listener(self) -> TestListener | None:
        return self.traffic.test_listener if isinstance(self.traffic, RoutesTraffic) else None

    @property
    def target_group(self) -> str | None:
        return self.traffic.target_group if isinstance(self.traffic, TargetGroupTraffic) else None

    @property
    def classic_elb(self) -> str | None:
        return self.traffic.classic_elb if isinstance(self.traffic, ClassicElbTraffic) else None

    @property
    def dns(self) -> Dns | None:
        return self.traffic.dns if isinstance(self.traffic, DnsTraffic) else None

    def hold(self) -> float:
        """How long each traffic step holds: linear's interval, else the bake time."""
        if isinstance(self.shift, LinearShift) and self.shift.interval is not None:
            return self.shift.interval
        return self.health.bake


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
            add(("traffic", "routes", i, "green_target_group"), "must differ from blue_target_group")
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
            add(pair_loc + ("green",), "must differ from blue")

    h = spec.health
    if h.checks and Check.HTTP in h.checks and h.http is None:
        add(("health", "http"), "the `http` check needs an `http` probe (url)")
    if h.checks and Check.ALARMS in h.checks and not h.alarms:
        add(("health", "alarms"), "the `alarms` check needs alarm names")
    if h.interval > h.deadline:
        add(("health", "interval"), "must not be longer than the deadline")

    problems.extend(_strategy_fit(spec))
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
    elif s is Strategy.DNS_CUTOVER:
        need = [(spec.dns is not None, ("traffic", "dns"), "dns-cutover needs a Route53 record (`dns:`)")]
        if ecs is not None:
            need.append((isinstance(ecs, EcsServices), ("platform", "ecs", "services"),
                         "dns-cutover on ECS needs one service per color (`services: {blue, green}`)"))
    return [(loc, msg) for ok, loc, msg in need if not ok]
