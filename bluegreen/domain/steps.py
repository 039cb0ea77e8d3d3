"""The closed set of plan steps: small frozen records, each able to describe itself and name its inverse.

A step never calls AWS; the executor dispatches on its type. A value written as `@<step id>` refers
to what an earlier step produced (e.g. the ARN of the task definition it registered); the executor
resolves it from the journal, so resume and rollback on another machine see the same values.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from bluegreen.domain.analysis import BakeMetrics
from bluegreen.domain.durations import format_duration
from bluegreen.domain.hook_steps import RunHook
from bluegreen.domain.controlled_steps import (
    AnswerLifecycleHook, ContinueCodeDeployDeployment, FollowCodeDeployDeployment, FollowServiceDeployment,
    RollBackServiceDeployment, StartCodeDeployDeployment, StartServiceDeployment, StopCodeDeployDeployment,
)
from bluegreen.domain.step_base import Phase, Probe, _Step  # noqa: F401 - the base every step builds on
from bluegreen.domain.weights import percentages


def _pct(weights: dict[str, int], labels: dict[str, str]) -> str:
    """`web-blue 100% / web-green 0%`: shares of the total, so a plain forward (weight 1) reads 100%."""
    if weights and not any(weights.values()):
        return " / ".join(f"{labels.get(arn, arn)} weight 0" for arn in weights)
    return " / ".join(f"{labels.get(arn, arn)} {p}%" for arn, p in percentages(weights).items())


# --- ECS ---------------------------------------------------------------------------------------


class RegisterTaskDefinition(_Step):
    kind: Literal["register-task-definition"] = "register-task-definition"
    family: str
    base_arn: str  # the live revision copied field for field
    container: str
    image: str  # repository@sha256:digest
    environment: dict[str, str] = Field(default_factory=dict)
    secrets: dict[str, str] = Field(default_factory=dict)  # name -> reference ARN
    cpu: int | None = None
    memory: int | None = None

    def describe(self) -> str:
        return f"register a new revision of {self.family} from {self.base_arn.rsplit('/', 1)[-1]} with image {self.image}"


class UpdateService(_Step):
    kind: Literal["update-service"] = "update-service"
    cluster: str
    service: str
    desired_count: int
    previous_desired_count: int
    task_definition: str | None = None  # ARN or @step-id; None keeps the current one
    previous_task_definition: str | None = None

    def describe(self) -> str:
        td = (" to the new revision" if self.task_definition and self.task_definition.startswith("@") else f" to {self.task_definition.rsplit('/', 1)[-1]}" if self.task_definition else "")
        return f"update ECS service {self.service}{td}, desired {self.previous_desired_count} -> {self.desired_count}"

    def inverse(self) -> "Step":
        return UpdateService(
            id=f"undo-{self.id}", phase=self.phase, cluster=self.cluster, service=self.service,
            desired_count=self.previous_desired_count, previous_desired_count=self.desired_count,
            task_definition=self.previous_task_definition if self.task_definition else None,
            previous_task_definition=self.task_definition,
        )

    def target_key(self) -> str:
        return f"ecs:{self.cluster}/{self.service}"


class WaitServiceStable(_Step):
    kind: Literal["wait-service-stable"] = "wait-service-stable"
    mutates: ClassVar[bool] = False
    cluster: str
    service: str
    task_definition: str  # ARN or @step-id: running tasks must be of this revision
    desired_count: int
    deadline: float
    interval: float
    expected: float = 60.0

    def describe(self) -> str:
        return (f"wait until {self.service} runs {self.desired_count} task(s) of the new revision and its "
                f"deployment is COMPLETED (deadline {format_duration(self.deadline)})")

    def budget(self) -> float:
        return min(self.expected, self.deadline)


class ScalingSuspension(BaseModel):
    """Which Application Auto Scaling activities of a scalable target are suspended."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    dynamic_in: bool = False  # scale-in by a target tracking or step scaling policy
    dynamic_out: bool = False  # scale-out by a policy
    scheduled: bool = False  # scheduled actions

    def __str__(self) -> str:
        held = [name for name, on in (("scale-in", self.dynamic_in), ("scale-out", self.dynamic_out),
                                      ("scheduled", self.scheduled)) if on]
        return f"{', '.join(held)} suspended" if held else "nothing suspended"


class SuspendScaling(_Step):
    """Set what Application Auto Scaling may do to an ECS service's desired count; the inverse puts back
    exactly what was there."""

    kind: Literal["suspend-scaling"] = "suspend-scaling"
    service: str
    resource_id: str  # service/<cluster>/<service>
    dimension: str  # ecs:service:DesiredCount
    suspended: ScalingSuspension
    previous: ScalingSuspension

    def describe(self) -> str:
        return f"Application Auto Scaling of {self.service}: {self.previous} -> {self.suspended}"

    def inverse(self) -> "Step":
        return self.model_copy(update={"id": f"undo-{self.id}", "suspended": self.previous, "previous": self.suspended})

    def target_key(self) -> str:
        return f"scaling:{self.resource_id}"


# --- load balancers ----------------------------------------------------------------------------


class SetWeights(_Step):
    """The weights of the forward action of a listener's default action or of one of its rules.

    Only the weights change: the live action list is read at run time and every other action
    (authenticate-oidc/cognito before the forward), the order and the stickiness are kept.
    """

    kind: Literal["set-weights"] = "set-weights"
    listener_arn: str
    rule_arn: str | None = None
    label: str  # e.g. "web-alb:80" or "web-alb:443 rule 10"
    weights: dict[str, int]  # target group ARN -> weight
    previous: dict[str, int]
    names: dict[str, str] = Field(default_factory=dict)  # target group ARN -> name, for display
    production: bool = True

    def describe(self) -> str:
        what = "production" if self.production else "test"
        return f"{what} listener {self.label}: {_pct(self.previous, self.names)} -> {_pct(self.weights, self.names)}"

    def inverse(self) -> "Step":
        return self.model_copy(update={"id": f"undo-{self.id}", "weights": self.previous, "previous": self.weights})

    def target_key(self) -> str:
        return f"listener:{self.rule_arn or self.listener_arn}"


class WaitTargetsHealthy(_Step):
    kind: Literal["wait-targets-healthy"] = "wait-targets-healthy"
    mutates: ClassVar[bool] = False
    target_group_arn: str
    target_group: str
    min_healthy: int
    deadline: float
    interval: float
    expected: float = 30.0  # health-check interval x healthy threshold
    group: str | None = None  # count only this Auto Scaling group's instances

    def describe(self) -> str:
        return (f"wait for {self.min_healthy} healthy target(s) in {self.target_group} "
                f"(expected {format_duration(self.expected)}, deadline {format_duration(self.deadline)})")

    def budget(self) -> float:
        return min(self.expected, self.deadline)


class ProbeHttp(_Step):
    kind: Literal["probe-http"] = "probe-http"
    mutates: ClassVar[bool] = False
    probe: Probe
    deadline: float
    interval: float

    def describe(self) -> str:
        body = f" containing {self.probe.body_contains!r}" if self.probe.body_contains else ""
        return f"probe {self.probe.url} until it answers {'/'.join(map(str, self.probe.expected_status))}{body}"

    def budget(self) -> float:
        return min(self.interval, self.deadline)


class CheckAlarms(_Step):
    kind: Literal["check-alarms"] = "check-alarms"
    mutates: ClassVar[bool] = False
    alarms: list[str]

    def describe(self) -> str:
        return f"refuse to start if any alarm is in ALARM: {', '.join(self.alarms)}"

    def budget(self) -> float:
        return 0.5


class Bake(_Step):
    """Hold a traffic step while watching alarms, target health and the probe; any failure rolls back."""

    kind: Literal["bake"] = "bake"
    mutates: ClassVar[bool] = False
    duration: float
    alarms: list[str] = Field(default_factory=list)
    target_group_arns: list[str] = Field(default_factory=list)
    probe: Probe | None = None
    interval: float = 10.0
    reason: str = ""
    metrics: BakeMetrics | None = None  # the analysis section's queries (domain.analysis)

    def describe(self) -> str:
        watched = [f"alarms {', '.join(self.alarms)}"] if self.alarms else []
        watched += [f"metrics {', '.join(m.name for m in self.metrics.gates)}"] if self.metrics else []
        if self.target_group_arns:
            watched.append("target health")
        if self.probe:
            watched.append("HTTP probe")
        watch = f" watching {', '.join(watched)}" if watched else ""
        why = f" ({self.reason})" if self.reason else ""
        return f"bake {format_duration(self.duration)}{why}{watch}"

    def budget(self) -> float:
        return self.duration


class KeepWarm(_Step):
    """Record when the old color may be scaled down; the deploy may exit here and `finalize` finish."""

    kind: Literal["keep-warm"] = "keep-warm"
    mutates: ClassVar[bool] = False
    color: str
    duration: float
    drain_seconds: float = 0.0  # the target groups' deregistration delay, counted down separately

    def describe(self) -> str:
        return f"keep {self.color} warm for {format_duration(self.duration)} (rollback is one traffic change until then)"

    def budget(self) -> float:
        return 0.0


# --- Auto Scaling --------------------------------------------------------------------------------


class CreateLaunchTemplateVersion(_Step):
    kind: Literal["create-launch-template-version"] = "create-launch-template-version"
    template: str
    source_version: int
    image: str
    user_data: str | None = None  # new user data (text) when the image travels in user data

    def describe(self) -> str:
        return f"create launch template {self.template} version from v{self.source_version} with image {self.image}"


class PutParameter(_Step):
    kind: Literal["put-parameter"] = "put-parameter"
    name: str
    value: str
    previous: str | None

    def describe(self) -> str:
        return f"set SSM parameter {self.name}: {self.previous} -> {self.value}"

    def inverse(self) -> "Step | None":
        if self.previous is None:
            return None
        return self.model_copy(update={"id": f"undo-{self.id}", "value": self.previous, "previous": self.value})

    def target_key(self) -> str:
        return f"ssm:{self.name}"


class Capacity(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    min: int
    max: int
    desired: int

    def __str__(self) -> str:
        return f"{self.min}/{self.desired}/{self.max}"


class UpdateGroup(_Step):
    kind: Literal["update-group"] = "update-group"
    group: str
    capacity: Capacity
    previous_capacity: Capacity
    launch_template: str | None = None
    launch_template_version: str | None = None  # version number or @step-id
    previous_launch_template_version: str | None = None

    def describe(self) -> str:
        lt = f" launch template {self.launch_template} v{self.launch_template_version}," if self.launch_template_version else ""
        return f"update Auto Scaling group {self.group}:{lt} capacity (min/desired/max) {self.previous_capacity} -> {self.capacity}"

    def inverse(self) -> "Step":
        return self.model_copy(update={
            "id": f"undo-{self.id}", "capacity": self.previous_capacity, "previous_capacity": self.capacity,
            "launch_template_version": self.previous_launch_template_version if self.launch_template_version else None,
            "previous_launch_template_version": self.launch_template_version,
        })

    def target_key(self) -> str:
        return f"asg:{self.group}"


class SuspendProcesses(_Step):
    kind: Literal["suspend-processes"] = "suspend-processes"
    group: str
    processes: list[str]  # only those not already suspended, so the inverse resumes exactly these
    resume: bool = False

    def describe(self) -> str:
        verb = "resume" if self.resume else "suspend"
        return f"{verb} {', '.join(self.processes)} on {self.group}"

    def inverse(self) -> "Step":
        return self.model_copy(update={"id": f"undo-{self.id}", "resume": not self.resume})


class Attach(_Step):
    """Attach (or detach) a group to target groups or a classic ELB."""

    kind: Literal["attach"] = "attach"
    group: str
    target_group_arns: list[str] = Field(default_factory=list)
    classic_elbs: list[str] = Field(default_factory=list)
    names: dict[str, str] = Field(default_factory=dict)
    detach: bool = False

    def describe(self) -> str:
        where = [self.names.get(a, a) for a in self.target_group_arns] + self.classic_elbs
        return f"{'detach' if self.detach else 'attach'} {self.group} {'from' if self.detach else 'to'} {', '.join(where)}"

    def inverse(self) -> "Step":
        return self.model_copy(update={"id": f"undo-{self.id}", "detach": not self.detach})

    def target_key(self) -> str:
        return f"attach:{self.group}:{','.join(self.target_group_arns + self.classic_elbs)}"


class WaitGroupInService(_Step):
    kind: Literal["wait-group-in-service"] = "wait-group-in-service"
    mutates: ClassVar[bool] = False
    group: str
    desired: int
    classic_elb: str | None = None
    deadline: float
    interval: float
    expected: float = 120.0

    def describe(self) -> str:
        elb = f" and InService in {self.classic_elb}" if self.classic_elb else ""
        return f"wait for {self.desired} InService instance(s) of the new version in {self.group}{elb}"

    def budget(self) -> float:
        return min(self.expected, self.deadline)


class CreateGroup(_Step):
    """Recreate the idle color's group (deleted under `max_remaining_groups: 1`) as a copy of the live one."""

    kind: Literal["create-group"] = "create-group"
    group: str
    copy_of: str
    launch_template: str
    launch_template_version: str  # version number or @step-id
    subnets: list[str]
    health_check_type: str
    health_check_grace: int
    tags: dict[str, str] = Field(default_factory=dict)
    target_group_arns: list[str] = Field(default_factory=list)  # its own stack's (DNS cutover); none for a swap

    def describe(self) -> str:
        attached = "attached to its own target group" if self.target_group_arns else "not attached"
        return f"create Auto Scaling group {self.group} as a copy of {self.copy_of} (empty, {attached})"

    def inverse(self) -> "Step":
        return DeleteGroup(id=f"undo-{self.id}", phase=self.phase, group=self.group, reason="created by this deployment")

    def target_key(self) -> str:
        return f"asg-exists:{self.group}"


class DeleteGroup(_Step):
    kind: Literal["delete-group"] = "delete-group"
    group: str
    reason: str = "more than max_remaining_groups"

    def describe(self) -> str:
        return f"delete Auto Scaling group {self.group} ({self.reason})"


# --- Route53 ----------------------------------------------------------------------------------


class SetRecordWeights(_Step):
    """The weights of a color's weighted record sets; everything else about them is read live and kept.

    `ttl` (what each step holds for) and `values` (what each record points at) are what the plan
    saw, for display: the change copies the live record sets (alias target, health check, TTL) and
    writes only their weights.
    """

    kind: Literal["set-record-weights"] = "set-record-weights"
    zone_id: str
    record: str
    type: str
    ttl: int
    values: dict[str, str]  # set identifier -> record value or alias target, as planned
    weights: dict[str, int]  # set identifier -> weight
    previous: dict[str, int]

    def describe(self) -> str:
        return f"Route53 {self.record}: {_pct(self.previous, {})} -> {_pct(self.weights, {})} (TTL {self.ttl}s)"

    def inverse(self) -> "Step":
        return self.model_copy(update={"id": f"undo-{self.id}", "weights": self.previous, "previous": self.weights})

    def target_key(self) -> str:
        return f"record:{self.zone_id}:{self.record}"


Step = Annotated[
    Union[
        RegisterTaskDefinition, UpdateService, WaitServiceStable, SuspendScaling, SetWeights, WaitTargetsHealthy, ProbeHttp,
        CheckAlarms, Bake, KeepWarm, CreateLaunchTemplateVersion, PutParameter, UpdateGroup, SuspendProcesses,
        Attach, WaitGroupInService, CreateGroup, DeleteGroup, SetRecordWeights, RunHook, StartServiceDeployment,
        RollBackServiceDeployment, FollowServiceDeployment, StartCodeDeployDeployment, StopCodeDeployDeployment,
        FollowCodeDeployDeployment, AnswerLifecycleHook, ContinueCodeDeployDeployment,
    ],
    Field(discriminator="kind"),
]


def rollback_steps(completed: list[Step]) -> list[Step]:
    """Inverses of completed steps, newest first, each target restored once to its original value.

    Restoring a listener that went 0 -> 10 -> 50 takes one change back to 0, not two, so traffic
    returns to blue in a single call; it happens where the newest change to that target was undone.
    """
    inverses = [inv for step in reversed(completed) if step.mutates and (inv := step.inverse()) is not None]
    final: dict[str, Step] = {}
    for inv in inverses:
        key = inv.target_key()
        if key is not None:
            final[key] = inv  # the last inverse of a key restores the earliest state
    out: list[Step] = []
    placed: set[str] = set()
    for inv in inverses:
        key = inv.target_key()
        if key is None:
            out.append(inv)
        elif key not in placed:
            out.append(_restore(final[key], inv))
            placed.add(key)
    return out


def _restore(earliest: Step, newest: Step) -> Step:
    """One step that takes a target from its newest value straight back to its earliest."""
    if isinstance(earliest, (SetWeights, SetRecordWeights)) and isinstance(newest, type(earliest)):
        return earliest.model_copy(update={"id": newest.id, "previous": newest.previous})
    return earliest
