"""AWS's own deployment engines held in memory, faking our adapter boundary: ECS's built-in blue/green
(`adapters.aws.native.NativeDeployments`) and CodeDeploy (`adapters.aws.codedeploy.CodeDeployEcs`),
over one world that is also the gates' observer (alarms, target health, listener weights, the service).

A deployment moves one stage (one lifecycle event) each time it is looked at, so a test's poll count
is its clock; it waits at a PAUSE hook (or CodeDeploy's reroute wait) until answered. Every call that
steers it is kept in `calls`, in order. `on_stage(stage, do)` runs `do()` as a deployment enters a
stage (an alarm firing while production moves); `rolls_back_at(stage, reason)` is ECS rolling back
by itself there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from bluegreen.adapters.aws.native import ServiceDeploymentView
from bluegreen.domain.codedeploy import LIFECYCLE, AppSpec, DeploymentProgress, LifecycleEvent
from bluegreen.domain.native import STAGES, stage_index

from support.builders import listener_arn, rule_arn, td_arn, tg_arn
from support.world import ServiceView

PRIMARY, ALTERNATE = tg_arn("checkout"), tg_arn("checkout-alt")
RULE = rule_arn("shop", 80, 1)  # checkout's production listener rule
BLUE_TG, GREEN_TG = tg_arn("billing"), tg_arn("billing-alt")
LISTENER = listener_arn("pay", 80)  # billing's production listener (its CodeDeploy group's)


@dataclass
class EngineWorld:
    """One service on one pair of target groups, and the gates' view of it (the `Observer`)."""

    service_name: str = "checkout"
    task_definition: str = td_arn("checkout", 3)
    weights: dict[str, dict[str, int]] = field(default_factory=lambda: {
        RULE: {PRIMARY: 100, ALTERNATE: 0}, LISTENER: {BLUE_TG: 100, GREEN_TG: 0}})
    alarm_states: dict[str, str] = field(default_factory=dict)
    unhealthy: set[str] = field(default_factory=set)  # target groups whose targets fail health checks
    revisions: int = 3
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    # AwsActions: what the plan's other steps need
    def register_task_definition(self, base_arn: str, container: str, image: str, *rest: Any) -> tuple[str, str]:
        self.revisions += 1
        return td_arn(self.service_name, self.revisions), f"registered {self.service_name}:{self.revisions}"

    # Observer
    def alarms(self, names: list[str], *, at_start: bool = False) -> dict[str, str]:
        return {name: self.alarm_states.get(name, "OK") for name in names}

    def target_health(self, target_group_arn: str) -> list[tuple[str, str, str | None]]:
        if target_group_arn in self.unhealthy:
            return [("10.0.2.1", "unhealthy", "Target.ResponseCodeMismatch")]
        return [("10.0.1.1", "healthy", None), ("10.0.1.2", "healthy", None)]

    def listener_weights(self, listener_arn: str, rule_arn: str | None) -> dict[str, int]:
        return dict(self.weights[rule_arn or listener_arn])

    def service(self, cluster: str, service: str) -> ServiceView:
        return ServiceView(desired=2, running=2, pending=0, task_definition=self.task_definition,
                           primary_task_definition=self.task_definition, rollout_state="COMPLETED",
                           rollout_reason=None, deployments=1, events=())

    def stopped_reasons(self, cluster: str, service: str, limit: int = 5) -> list[str]:
        return []

    def health_check(self, target_group_arn: str) -> dict[str, Any]:
        return {"HealthCheckPath": "/health"}

    def route(self, key: str, to: str, away: str) -> None:
        self.weights[key] = {to: 100, away: 0}


# --- ECS's built-in blue/green ------------------------------------------------------------------------


@dataclass
class _ServiceDeployment:
    arn: str
    revision: str
    previous: str
    pauses: set[str]
    index: int = -1
    status: str = "IN_PROGRESS"
    answered: set[str] = field(default_factory=set)
    rollback_reason: str | None = None
    looks: int = 0

    @property
    def stage(self) -> str | None:
        return STAGES[self.index] if self.index >= 0 else None

    def awaiting(self) -> tuple[str, ...]:
        hook = f"hook-{self.stage}"
        waits = self.status == "IN_PROGRESS" and self.stage in self.pauses and hook not in self.answered
        return (hook,) if waits else ()


@dataclass
class FakeNative:
    """`NativeDeployments` in memory: latest / describe / start / current_for / resume / roll_back."""

    world: EngineWorld
    pauses: set[str] = field(default_factory=set)  # the stages the service's PAUSE hooks wait at
    looks_per_stage: int = 1  # how many looks ECS stays at each stage
    deployments: dict[str, _ServiceDeployment] = field(default_factory=dict)
    _on_stage: dict[str, list[Callable[[], None]]] = field(default_factory=dict)
    _rolls_back_at: dict[str, str] = field(default_factory=dict)

    def on_stage(self, stage: str, do: Callable[[], None]) -> None:
        self._on_stage.setdefault(stage, []).append(do)

    def rolls_back_at(self, stage: str, reason: str) -> None:
        self._rolls_back_at[stage] = reason

    def finish(self, arn: str) -> None:
        """The deployment ran to the end while nobody looked."""
        d = self.deployments[arn]
        d.index, d.status = len(STAGES) - 1, "SUCCESSFUL"
        self._live(d.revision)

    # --- the adapter's methods ---

    def latest(self, cluster: str, service: str) -> ServiceDeploymentView | None:
        return self._view(list(self.deployments.values())[-1]) if self.deployments else None

    def start(self, cluster: str, service: str, task_definition: str, desired: int) -> tuple[str, str]:
        self.world.calls.append(("start", task_definition, desired))
        arn = f"arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/{service}/sd-{len(self.deployments) + 1}"
        self.deployments[arn] = _ServiceDeployment(arn, task_definition, self.world.task_definition, set(self.pauses))
        self.world.task_definition = task_definition
        return arn, f"{service}: service deployment {arn.rsplit('/', 1)[-1]}"

    def current_for(self, cluster: str, service: str, task_definition: str) -> str | None:
        if self.world.task_definition != task_definition or not self.deployments:
            return None
        return list(self.deployments)[-1]

    def describe(self, arn: str) -> ServiceDeploymentView | None:
        d = self.deployments.get(arn)
        if d is None:
            return None
        self._move(d)
        return self._view(d)

    def resume(self, arn: str, hook_id: str, *, roll_back: bool = False) -> None:
        self.world.calls.append(("resume", hook_id, "ROLLBACK" if roll_back else "CONTINUE"))
        d = self.deployments[arn]
        d.answered.add(hook_id)
        if roll_back:
            d.status, d.rollback_reason = "ROLLBACK_IN_PROGRESS", f"hook {hook_id} answered ROLLBACK"

    def roll_back(self, arn: str) -> bool:
        self.world.calls.append(("stop", arn.rsplit("/", 1)[-1]))
        d = self.deployments[arn]
        if d.status not in ("IN_PROGRESS",):
            return False
        d.status, d.rollback_reason = "ROLLBACK_IN_PROGRESS", "StopServiceDeployment ROLLBACK"
        return True

    # --- how ECS moves ---

    def _move(self, d: _ServiceDeployment) -> None:
        if d.status == "ROLLBACK_IN_PROGRESS":
            d.status = "ROLLBACK_SUCCESSFUL"
            self._live(d.previous)
            return
        if d.status != "IN_PROGRESS" or d.awaiting():
            return
        d.looks += 1
        if d.index >= 0 and d.looks % self.looks_per_stage:
            return
        if d.index == len(STAGES) - 1:
            d.status = "SUCCESSFUL"
            return
        d.index += 1
        if d.stage == "PRODUCTION_TRAFFIC_SHIFT":
            self._live(d.revision)
        for do in self._on_stage.pop(d.stage or "", []):
            do()
        if d.stage in self._rolls_back_at:
            d.status, d.rollback_reason = "ROLLBACK_IN_PROGRESS", self._rolls_back_at.pop(d.stage or "")

    def _live(self, revision: str) -> None:
        """Production on the target group of `revision`: the alternate for the new one, the primary for the old."""
        self.world.task_definition = revision
        first = self.deployments and revision == next(iter(self.deployments.values())).revision
        self.world.route(RULE, ALTERNATE, PRIMARY) if first else self.world.route(RULE, PRIMARY, ALTERNATE)

    def _view(self, d: _ServiceDeployment) -> ServiceDeploymentView:
        shifted = stage_index(d.stage) >= stage_index("PRODUCTION_TRAFFIC_SHIFT") and d.status == "IN_PROGRESS"
        return ServiceDeploymentView(arn=d.arn, status=d.status, stage=d.stage, reason=None,
                                     rollback_reason=d.rollback_reason, awaiting=d.awaiting(),
                                     production_weight=100.0 if shifted or d.status == "SUCCESSFUL" else 0.0,
                                     target_revision=d.revision)


# --- CodeDeploy ---------------------------------------------------------------------------------------

@dataclass
class _CodeDeployment:
    deployment_id: str
    revision: str
    previous: str
    index: int = -1  # the lifecycle event in progress; len(LIFECYCLE): the termination wait
    status: str = "Created"
    proceeded: bool = False
    waited: int = 0


@dataclass
class FakeCodeDeploy:
    """`CodeDeployEcs` in memory: start_in / active_of / progress / proceed / stop."""

    world: EngineWorld
    waits_for_reroute: bool = True
    termination_polls: int = 2
    deployments: dict[str, _CodeDeployment] = field(default_factory=dict)
    _on_event: dict[str, list[Callable[[], None]]] = field(default_factory=dict)

    def on_event(self, event: str, do: Callable[[], None]) -> None:
        self._on_event.setdefault(event, []).append(do)

    def finish(self, deployment_id: str) -> None:
        d = self.deployments[deployment_id]
        d.index, d.status = len(LIFECYCLE), "Succeeded"
        self._live(d.revision)

    def start_in(self, application: str, group: str, config: str, appspec: AppSpec, description: str
                 ) -> tuple[str, str]:
        found = self.active_of(application, group, appspec.task_definition)
        if found is not None:
            return found, f"deployment {found} already under way"
        self.world.calls.append(("create", appspec.task_definition, appspec.hooks))
        deployment_id = f"d-{len(self.deployments) + 1:08d}"
        self.deployments[deployment_id] = _CodeDeployment(deployment_id, appspec.task_definition,
                                                          self.world.task_definition)
        return deployment_id, f"CodeDeploy deployment {deployment_id}"

    def active_of(self, application: str, group: str, task_definition: str) -> str | None:
        return next((d.deployment_id for d in self.deployments.values()
                     if d.revision == task_definition and d.status not in ("Succeeded", "Failed", "Stopped")), None)

    def progress(self, deployment_id: str, cluster: str, service: str) -> DeploymentProgress:
        d = self.deployments[deployment_id]
        self._move(d)
        done = d.index + 1 if d.status == "Ready" else d.index  # Ready: AfterAllowTestTraffic has succeeded
        events = tuple(LifecycleEvent(name, "Succeeded" if i < done or d.status == "Succeeded" else
                                      "InProgress" if i == d.index and d.status == "InProgress" else "Pending")
                       for i, name in enumerate(LIFECYCLE))
        rerouted = d.index > LIFECYCLE.index("AllowTraffic") and d.status in ("InProgress", "Succeeded")
        return DeploymentProgress(deployment_id=deployment_id, status=d.status, events=events,
                                  replacement_weight=100.0 if rerouted else 0.0,
                                  termination_wait_started=d.index >= len(LIFECYCLE), task_definition=d.revision)

    def proceed(self, deployment_id: str) -> str:
        self.world.calls.append(("continue", deployment_id))
        d = self.deployments[deployment_id]
        if d.status != "Ready":
            return f"deployment {deployment_id} is {d.status}, not waiting for the reroute"
        d.status, d.proceeded = "InProgress", True
        return f"deployment {deployment_id}: Ready -> production traffic rerouted"

    def stop(self, deployment_id: str, *, rollback: bool = True) -> str:
        self.world.calls.append(("stop", deployment_id, rollback))
        d = self.deployments[deployment_id]
        if d.status in ("Succeeded", "Failed", "Stopped"):
            return f"deployment {deployment_id} already {d.status}"
        d.status = "Stopped"
        if rollback:
            self._live(d.previous)
        return f"deployment {deployment_id}: stopped and rolled back"

    def _move(self, d: _CodeDeployment) -> None:
        if d.status in ("Succeeded", "Failed", "Stopped", "Ready"):
            return
        d.status = "InProgress"
        if d.index >= len(LIFECYCLE):
            d.waited += 1
            if d.waited > self.termination_polls:
                d.status = "Succeeded"
            return
        d.index += 1
        event = LIFECYCLE[d.index] if d.index < len(LIFECYCLE) else "termination wait"
        if event == "BeforeAllowTraffic" and self.waits_for_reroute and not d.proceeded:
            d.index -= 1  # stands Ready after AfterAllowTestTraffic, until ContinueDeployment
            d.status = "Ready"
            return
        if event == "AllowTraffic":
            self._live(d.revision)
        for do in self._on_event.pop(event, []):
            do()

    def _live(self, revision: str) -> None:
        self.world.task_definition = revision
        first = revision == next(iter(self.deployments.values())).revision
        self.world.route(LISTENER, GREEN_TG, BLUE_TG) if first else self.world.route(LISTENER, BLUE_TG, GREEN_TG)


@dataclass
class EngineActions:
    """What the executor hands the controlled steps: `.native`, `.codedeploy`, and the world's own actions."""

    world: EngineWorld
    native: FakeNative
    codedeploy: FakeCodeDeploy

    def __getattr__(self, name: str) -> Any:
        return getattr(self.world, name)
