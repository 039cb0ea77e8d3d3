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

from pydantic import Field

from bluegreen.domain.spec.base import (  # noqa: F401 - the spec's public names, in one namespace
    ONE_OF_ERROR, SCHEMA_URL, SECRET_LOOKING, ColorPair, Model, Name, Percent, Port, SecretRef, Strategy, one_of,
    union,
)
from bluegreen.domain.spec.platform import (  # noqa: F401
    Asg, AsgGroups, AsgNamePattern, AsgPlatform, Build, Capacity, Ecs, EcsPlatform, EcsService, EcsServices, Image,
    ImageDelivery, Platform, ScalingProcess, SsmParameterDelivery, UserDataDelivery,
)
from bluegreen.domain.spec.policy import (  # noqa: F401
    AllAtOnce, CanaryShift, Check, DynamoState, Health, HttpProbe, LinearShift, LocalState, RollbackPolicy, Shift, State,
)
from bluegreen.domain.spec.hooks import CommandHook, EcsTaskHook, Hook, HookStage, LambdaHook  # noqa: F401
from bluegreen.domain.spec.notify import Notifications, NotifyOn  # noqa: F401
from bluegreen.domain.spec.judgement import Judgement  # noqa: F401
from bluegreen.domain.spec.metrics import Analysis, Comparison, Metric, MetricQuery, NoData  # noqa: F401
from bluegreen.domain.spec.traffic import (  # noqa: F401
    ClassicElbTraffic, Dns, DnsTraffic, Route, RoutesTraffic, TargetGroupTraffic, TestListener, Traffic,
)


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
    analysis: Analysis | None = Field(None, description="CloudWatch metric queries judged through every bake.")
    judgement: Judgement = Field(default_factory=Judgement, description="Pauses for a person's decision.")
    state: State = Field(default_factory=LocalState)
    hooks: list[Hook] = Field(default_factory=list, description="Commands, Lambdas or one-off ECS tasks at named stages.")
    notifications: Notifications | None = None
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

    @property
    def drains(self) -> bool:
        """Whether a deploy takes traffic off a target group, so its deregistration delay times the drain:
        every strategy but the task-definition swap, whose one target group (or classic ELB) stays attached
        while ECS replaces the tasks behind it."""
        return not (isinstance(self.ecs, EcsService) and isinstance(self.traffic, (TargetGroupTraffic,
                                                                                   ClassicElbTraffic)))

    def hold(self) -> float:
        """How long each traffic step holds: linear's interval, else the bake time."""
        if isinstance(self.shift, LinearShift) and self.shift.interval is not None:
            return self.shift.interval
        return self.health.bake


from bluegreen.domain.spec.rules import NEEDED, ONLY_IN, Loc, consistency_problems  # noqa: E402,F401
