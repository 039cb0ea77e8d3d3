"""The plan steps of services whose traffic AWS moves itself: ECS's built-in blue/green (`ecs-native`)
and the CODE_DEPLOY controller (`ecs-codedeploy`).

bluegreen never edits their listeners: it starts AWS's deployment, follows it stage by stage as its
own steps (each with a time budget, journaled, resumable), runs its gates where AWS waits for it
(a PAUSE lifecycle hook, CodeDeploy's reroute wait) and answers CONTINUE or ROLLBACK, and watches
alarms, target health, the probe and metric gates while traffic moves and during the bake. The one
inverse is AWS's own: stop the deployment with rollback while it is in flight or baking; once it has
finished, a new deployment of the recorded previous revision.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from bluegreen.domain.analysis import BakeMetrics
from bluegreen.domain.durations import format_duration
from bluegreen.domain.step_base import Probe, _Step


class Watch(BaseModel):
    """bluegreen's gates for one stretch of AWS's deployment: checked every poll, and held for `hold`
    seconds where AWS waits for an answer (a PAUSE hook, the reroute wait)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    alarms: list[str] = Field(default_factory=list)
    target_group_arns: list[str] = Field(default_factory=list)  # must keep a healthy target, none unhealthy
    probe: Probe | None = None
    metrics: BakeMetrics | None = None
    hold: float = 0.0

    def describe(self) -> str:
        watched = [f"alarms {', '.join(self.alarms)}"] if self.alarms else []
        watched += [f"metrics {', '.join(m.name for m in self.metrics.gates)}"] if self.metrics else []
        watched += ["target health"] if self.target_group_arns else []
        watched += ["HTTP probe"] if self.probe else []
        return ", ".join(watched) or "nothing"


def _short(arn: str | None) -> str:
    return (arn or "-").rsplit("/", 1)[-1]


# --- ECS's built-in blue/green ---------------------------------------------------------------------


class StartServiceDeployment(_Step):
    """UpdateService to the new revision: ECS starts a service deployment (its output: that ARN)."""

    kind: Literal["start-service-deployment"] = "start-service-deployment"
    cluster: str
    service: str
    task_definition: str  # ARN or @step-id
    previous_task_definition: str
    desired_count: int
    previous_desired_count: int
    strategy: str  # BLUE_GREEN / LINEAR / CANARY: how ECS shifts production traffic
    production_rules: list[str] = Field(default_factory=list)  # what a rollback reads back
    deadline: float = 1800.0  # the inverse's: how long ECS may take to put the old revision back
    interval: float = 10.0

    def describe(self) -> str:
        return (f"update ECS service {self.service} to the new revision, desired {self.desired_count}: ECS starts a "
                f"{self.strategy} service deployment and moves the listener rules itself")

    def inverse(self) -> "RollBackServiceDeployment":
        return RollBackServiceDeployment(
            id=f"undo-{self.id}", phase=self.phase, cluster=self.cluster, service=self.service,
            task_definition=self.task_definition, previous_task_definition=self.previous_task_definition,
            desired_count=self.previous_desired_count, production_rules=self.production_rules,
            deployment=f"@{self.id}", deadline=self.deadline, interval=self.interval)

    def target_key(self) -> str:
        return f"ecs:{self.cluster}/{self.service}"


class RollBackServiceDeployment(_Step):
    """ECS's rollback: StopServiceDeployment ROLLBACK while the deployment of `task_definition` is in
    flight or baking; after it finished, a new service deployment of `previous_task_definition`."""

    kind: Literal["roll-back-service-deployment"] = "roll-back-service-deployment"
    cluster: str
    service: str
    task_definition: str  # the revision being undone (ARN or @step-id)
    previous_task_definition: str
    desired_count: int
    production_rules: list[str] = Field(default_factory=list)
    deployment: str = ""  # @step-id of the start (its output: the service deployment ARN), when known
    deadline: float
    interval: float

    def describe(self) -> str:
        return (f"roll {self.service} back to {_short(self.previous_task_definition)}: StopServiceDeployment ROLLBACK "
                "while ECS's deployment is in flight or baking, else a new deployment of that revision")

    def budget(self) -> float:
        return min(60.0, self.deadline)

    def target_key(self) -> str:
        return f"ecs:{self.cluster}/{self.service}"


class FollowServiceDeployment(_Step):
    """Follow ECS's service deployment until it has passed stage `until` (CLEAN_UP: until it is
    SUCCESSFUL), or, `at_hook`, until it waits at `until`'s PAUSE hook (answered by the next step).

    `watch` is checked at every poll: a failure stops the deployment with ROLLBACK. ECS rolling back
    by itself is a failure, with its reason. ECS moves on by itself here, so a run cannot pause
    before this step (it can at a PAUSE hook).
    """

    kind: Literal["follow-service-deployment"] = "follow-service-deployment"
    mutates: ClassVar[bool] = False
    pausable: ClassVar[bool] = False
    cluster: str
    service: str
    deployment: str  # @step-id of the StartServiceDeployment
    until: str  # an ECS lifecycle stage
    at_hook: bool = False
    what: str  # what ECS does in this stretch, for the plan
    watch: Watch = Field(default_factory=Watch)
    deadline: float
    interval: float
    expected: float = 30.0

    def describe(self) -> str:
        watching = self.watch.describe()
        watch = f", watching {watching}" if watching != "nothing" else ""
        return f"ECS {self.until}{' (its PAUSE hook)' if self.at_hook else ''}: {self.what}{watch}"

    def budget(self) -> float:
        return min(self.expected, self.deadline)


class AnswerLifecycleHook(_Step):
    """ECS waits at a PAUSE hook: hold bluegreen's gates, then ContinueServiceDeployment CONTINUE
    (ROLLBACK when a gate fails). A run may pause before this step: ECS keeps waiting, up to the
    hook's timeout."""

    kind: Literal["answer-lifecycle-hook"] = "answer-lifecycle-hook"
    mutates: ClassVar[bool] = False
    cluster: str
    service: str
    deployment: str
    stage: str
    gate: Watch
    timeout: float  # the hook's own timeout: after it ECS takes the hook's timeout action
    timeout_action: str
    interval: float

    def describe(self) -> str:
        return (f"at ECS's PAUSE hook {self.stage}: bluegreen's gates ({self.gate.describe()}) held "
                f"{format_duration(self.gate.hold)}, then CONTINUE; ROLLBACK if one fails (the hook times out "
                f"after {format_duration(self.timeout)}: {self.timeout_action})")

    def budget(self) -> float:
        return self.gate.hold


# --- CodeDeploy --------------------------------------------------------------------------------------


class StartCodeDeployDeployment(_Step):
    """CreateDeployment with an ECS AppSpec of the new revision (its output: the deployment id)."""

    kind: Literal["start-codedeploy-deployment"] = "start-codedeploy-deployment"
    application: str
    group: str
    config: str
    cluster: str
    service: str
    task_definition: str  # ARN or @step-id
    previous_task_definition: str
    container: str
    port: int
    hooks: list[tuple[str, str]] = Field(default_factory=list)  # (lifecycle event, Lambda function) for the AppSpec
    production_listeners: list[str] = Field(default_factory=list)  # what a rollback reads back
    deadline: float = 1800.0  # the inverse's
    interval: float = 10.0

    def describe(self) -> str:
        hooks = f", AppSpec hooks {', '.join(f'{e}: {f}' for e, f in self.hooks)}" if self.hooks else ""
        return (f"CodeDeploy deployment of the new revision to {self.service} ({self.application}/{self.group}, "
                f"{self.config}; container {self.container}:{self.port}{hooks})")

    def inverse(self) -> "StopCodeDeployDeployment":
        return StopCodeDeployDeployment(
            id=f"undo-{self.id}", phase=self.phase, application=self.application, group=self.group,
            cluster=self.cluster, service=self.service, deployment=f"@{self.id}", task_definition=self.task_definition,
            previous_task_definition=self.previous_task_definition, container=self.container, port=self.port,
            production_listeners=self.production_listeners, deadline=self.deadline, interval=self.interval)

    def target_key(self) -> str:
        return f"ecs:{self.cluster}/{self.service}"


class StopCodeDeployDeployment(_Step):
    """CodeDeploy's rollback: StopDeployment with rollback while the deployment is in flight or in its
    termination wait; after it succeeded, a new deployment of `previous_task_definition`."""

    kind: Literal["stop-codedeploy-deployment"] = "stop-codedeploy-deployment"
    application: str
    group: str
    cluster: str
    service: str
    deployment: str  # @step-id of the StartCodeDeployDeployment (or a deployment id)
    task_definition: str  # the revision being undone
    previous_task_definition: str
    container: str
    port: int
    production_listeners: list[str] = Field(default_factory=list)
    deadline: float
    interval: float

    def describe(self) -> str:
        return (f"roll {self.service} back to {_short(self.previous_task_definition)}: StopDeployment with rollback "
                "while CodeDeploy's deployment is in flight, else a new deployment of that revision")

    def budget(self) -> float:
        return min(60.0, self.deadline)

    def target_key(self) -> str:
        return f"ecs:{self.cluster}/{self.service}"


class FollowCodeDeployDeployment(_Step):
    """Follow the CodeDeploy deployment until lifecycle event `until` has succeeded (`Ready`: until it
    stands at the reroute wait; `Succeeded`: until the deployment has). `watch` is checked at every
    poll: a failure stops it with rollback. CodeDeploy failing or stopping is a failure."""

    kind: Literal["follow-codedeploy-deployment"] = "follow-codedeploy-deployment"
    mutates: ClassVar[bool] = False
    pausable: ClassVar[bool] = False
    cluster: str
    service: str
    deployment: str  # @step-id of the StartCodeDeployDeployment
    until: str  # a lifecycle event, "Ready" or "Succeeded"
    what: str
    watch: Watch = Field(default_factory=Watch)
    deadline: float
    interval: float
    expected: float = 30.0

    def describe(self) -> str:
        watching = self.watch.describe()
        watch = f", watching {watching}" if watching != "nothing" else ""
        return f"CodeDeploy {self.until}: {self.what}{watch}"

    def budget(self) -> float:
        return min(self.expected, self.deadline)


class ContinueCodeDeployDeployment(_Step):
    """CodeDeploy stands Ready (test traffic on the replacement, production still on the original):
    hold bluegreen's gates, then ContinueDeployment; StopDeployment with rollback when one fails. A
    run may pause before this step: CodeDeploy keeps waiting, up to the group's wait time."""

    kind: Literal["continue-codedeploy-deployment"] = "continue-codedeploy-deployment"
    mutates: ClassVar[bool] = False
    cluster: str
    service: str
    deployment: str
    gate: Watch
    timeout: float  # the group's ready wait: after it CodeDeploy stops the deployment
    interval: float

    def describe(self) -> str:
        return (f"at CodeDeploy's reroute wait: bluegreen's gates ({self.gate.describe()}) held "
                f"{format_duration(self.gate.hold)}, then ContinueDeployment; StopDeployment with rollback if one "
                f"fails (CodeDeploy stops it by itself after {format_duration(self.timeout)})")

    def budget(self) -> float:
        return self.gate.hold
