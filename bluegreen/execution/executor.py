"""The executor: runs a plan's steps in order, journaling each before and after, and on any failure
runs the inverses of what it completed (newest first, each target restored once) back to safety.

It dispatches on the closed set of step types with `match`; an unknown type fails loudly. AWS is
reached only through the actions/gates adapters passed in, so tests can drive it without sleeping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from bluegreen.domain.durations import format_duration
from bluegreen.errors import StepFailed
from bluegreen.events import Events
from bluegreen.execution.gates import Gates
from bluegreen.domain.hook_steps import RunHook
from bluegreen.domain.plan import Plan
from bluegreen.domain.controlled_steps import (
    AnswerLifecycleHook, ContinueCodeDeployDeployment, FollowCodeDeployDeployment, FollowServiceDeployment,
    RollBackServiceDeployment, StartCodeDeployDeployment, StartServiceDeployment, StopCodeDeployDeployment,
)
from bluegreen.execution.controlled import Controlled
from bluegreen.domain.steps import (
    Attach, Bake, CheckAlarms, CreateGroup, CreateLaunchTemplateVersion, DeleteGroup, KeepWarm, ProbeHttp, PutParameter,
    RegisterTaskDefinition, SetRecordWeights, SetWeights, Step, SuspendProcesses, SuspendScaling, UpdateGroup,
    UpdateService,
    WaitGroupInService, WaitServiceStable, WaitTargetsHealthy, rollback_steps,
)


class JournalSink(Protocol):
    def __call__(self, event: str, **data: Any) -> None: ...  # noqa: E704


@dataclass
class StepResult:
    output: str | None = None  # what later steps may refer to as @<step id>
    detail: str = ""


@dataclass
class Executor:
    plan: Plan
    actions: Any  # adapters.actions.AwsActions (or a test double with the same methods)
    gates: Gates
    journal: JournalSink
    events: Events
    outputs: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic  # for the "done in Ns" lines; the run context's clock
    hooks: Any = None  # execution.hooks.HookRunner: runs RunHook steps

    # --- running forward --------------------------------------------------------------------

    def run_step(self, step: Step, *, index: int | None = None, rollback: bool = False) -> StepResult:
        prefix = "rollback" if rollback else "step"
        total = len(self.plan.steps)
        position = f"[{index + 1}/{total}] " if index is not None else "[rollback] "
        self.journal(f"{prefix}.started", step=step.id, kind=step.kind, inputs=step.model_dump(mode="json"))
        self.events.emit(f"{prefix}.started", f"{position}{step.describe()}", step=step.id, phase=step.phase,
                         step_kind=step.kind)
        started = self.clock()
        try:
            result = self._dispatch(step)
        except BaseException as error:
            self.journal(f"{prefix}.failed", step=step.id, error=str(error) or type(error).__name__)
            self.events.emit(f"{prefix}.failed", f"{position}failed: {error or type(error).__name__}", step=step.id)
            raise
        if result.output is not None:
            self.outputs[step.id] = result.output
        self.journal(f"{prefix}.succeeded", step=step.id, output=result.output, detail=result.detail)
        took = self.clock() - started
        self.events.emit(f"{prefix}.succeeded", f"{position}done in {took:.1f}s" + (f": {result.detail}" if result.detail else ""),
                         step=step.id, seconds=round(took, 3))
        return result

    def resolve(self, value: str | None) -> str | None:
        if value is None or not value.startswith("@"):
            return value
        try:
            return self.outputs[value[1:]]
        except KeyError:
            raise StepFailed(f"step {value[1:]} has not produced its output yet") from None

    def _dispatch(self, step: Step) -> StepResult:
        a, g = self.actions, self.gates
        match step:
            case RegisterTaskDefinition():
                arn, detail = a.register_task_definition(step.base_arn, step.container, step.image, step.environment,
                                                         step.secrets, step.cpu, step.memory)
                return StepResult(arn, detail)
            case UpdateService():
                return StepResult(detail=a.update_service(step.cluster, step.service,
                                                          self.resolve(step.task_definition), step.desired_count))
            case WaitServiceStable():
                td = self.resolve(step.task_definition)
                assert td is not None
                try:
                    g.wait_until(lambda: g.check_service(step.cluster, step.service, td, step.desired_count),
                                 what=f"ECS service {step.service}", deadline=step.deadline, interval=step.interval)
                except StepFailed as failed:
                    raise StepFailed(f"{failed}{g.failure_details(step.cluster, step.service)}") from None
                return StepResult(detail=f"{step.service} steady on {td.rsplit('/', 1)[-1]}")
            case SuspendScaling():
                wanted = step.suspended
                return StepResult(detail=a.set_scaling_suspension(
                    step.resource_id, step.dimension, dynamic_in=wanted.dynamic_in, dynamic_out=wanted.dynamic_out,
                    scheduled=wanted.scheduled))
            case SetWeights():
                return StepResult(detail=a.set_weights(step.listener_arn, step.rule_arn, step.weights))
            case WaitTargetsHealthy():
                ids = self._group_instances(step.group) if step.group else None
                try:
                    g.wait_until(lambda: g.check_targets(step.target_group_arn, step.target_group, step.min_healthy, ids),
                                 what=f"target group {step.target_group}", deadline=step.deadline,
                                 interval=step.interval)
                except StepFailed as failed:
                    raise StepFailed(f"{failed}{g.health_check_details(step.target_group_arn)}") from None
                return StepResult(detail=f"{step.target_group}: {step.min_healthy}+ healthy")
            case ProbeHttp():
                g.wait_until(lambda: g.check_probe(step.probe), what=f"probe {step.probe.url}",
                             deadline=step.deadline, interval=step.interval)
                return StepResult(detail=f"{step.probe.url} healthy")
            case CheckAlarms():
                g.check_alarms(step.alarms, at_start=True)
                return StepResult(detail="no alarm in ALARM")
            case Bake():
                g.bake(step.duration, step.interval, step.alarms, step.target_group_arns, step.probe,
                       metrics=step.metrics)
                return StepResult(detail=f"held {format_duration(step.duration)} with every gate passing")
            case KeepWarm():
                return StepResult(detail=f"{step.color} kept warm for {format_duration(step.duration)}")
            case CreateLaunchTemplateVersion():
                version, detail = a.create_launch_template_version(step.template, step.source_version, step.user_data)
                return StepResult(version, detail)
            case PutParameter():
                return StepResult(detail=a.put_parameter(step.name, step.value))
            case UpdateGroup():
                return StepResult(detail=a.update_group(step.group, step.capacity.min, step.capacity.max,
                                                        step.capacity.desired, step.launch_template,
                                                        self.resolve(step.launch_template_version)))
            case SuspendProcesses():
                return StepResult(detail=a.suspend_processes(step.group, step.processes, step.resume))
            case Attach():
                return StepResult(detail=a.attach(step.group, step.target_group_arns, step.classic_elbs, step.detach))
            case WaitGroupInService():
                g.wait_until(lambda: g.check_group(step.group, step.desired, step.classic_elb),
                             what=f"Auto Scaling group {step.group}", deadline=step.deadline, interval=step.interval)
                return StepResult(detail=f"{step.group}: {step.desired} InService")
            case CreateGroup():
                version = self.resolve(step.launch_template_version)
                return StepResult(detail=a.create_group(step.group, step.copy_of, step.launch_template, version,
                                                        step.subnets, step.health_check_type,
                                                        step.health_check_grace, step.tags, step.target_group_arns))
            case DeleteGroup():
                return StepResult(detail=a.delete_group(step.group))
            case SetRecordWeights():
                return StepResult(detail=a.set_record_weights(step.zone_id, step.record, step.type, step.weights))
            case StartServiceDeployment() | StartCodeDeployDeployment():
                c = self._controlled()
                output, detail = (c.start_native(step) if isinstance(step, StartServiceDeployment)
                                  else c.start_codedeploy(step))
                return StepResult(output, detail)
            case FollowServiceDeployment():
                return StepResult(detail=self._controlled().follow_native(step))
            case AnswerLifecycleHook():
                return StepResult(detail=self._controlled().answer_hook(step))
            case RollBackServiceDeployment():
                return StepResult(detail=self._controlled().roll_back_native(step))
            case FollowCodeDeployDeployment():
                return StepResult(detail=self._controlled().follow_codedeploy(step))
            case ContinueCodeDeployDeployment():
                return StepResult(detail=self._controlled().continue_codedeploy(step))
            case StopCodeDeployDeployment():
                return StepResult(detail=self._controlled().stop_codedeploy(step))
            case RunHook():
                if self.hooks is None:
                    raise StepFailed(f"hook {step.hook}: no hook runner was given to the executor")
                return StepResult(detail=self.hooks.run(step, self.resolve(step.task_definition)))
            case _:
                raise TypeError(f"unknown step type {type(step).__name__}")

    def _controlled(self) -> Controlled:
        return Controlled(self.actions, self.gates, self.events, self.resolve, self.outputs)

    def _group_instances(self, group: str) -> set[str]:
        return {i["InstanceId"] for i in self.gates.observer.group(group).get("Instances", [])}

    # --- back to safety -------------------------------------------------------------------------

    def roll_back(self, completed: list[Step], reason: str) -> list[str]:
        """Run the inverses; return the failures (empty when production traffic is back on the old color)."""
        inverses = rollback_steps(completed)
        self.journal("rollback.begun", reason=reason, steps=[s.id for s in inverses])
        self.events.emit("rollback.begun", f"rolling back ({len(inverses)} step(s)): {reason}")
        failures: list[str] = []
        for step in inverses:
            try:
                self.run_step(step, rollback=True)
            except BaseException as error:  # keep going: every other inverse still moves toward safety
                failures.append(f"{step.describe()}: {error or type(error).__name__}")
                if isinstance(error, KeyboardInterrupt):
                    self.events.emit("rollback.interrupt-ignored", "interrupt ignored: the rollback continues")
            else:
                if isinstance(step, (SetWeights, SetRecordWeights, Attach)) and getattr(step, "production", True):
                    self.events.emit("traffic.restored", f"traffic restored: {step.describe()}")
        self.journal("rollback.finished", failures=failures)
        return failures
