"""Running the steps of services AWS deploys itself (`domain/controlled_steps.py`): start AWS's
deployment, follow it as events, run our gates where it waits for us and answer, and roll back
through AWS's own rollback.

Following is polling with the gates' deadline and backoff (`Gates.wait_until`). Each poll checks
the stretch's watch (alarms, target health, the probe): a failure stops AWS's deployment with
rollback before the step fails, so production is on its way back before the runner's rollback even
starts (whose inverse then waits until AWS reports it back). AWS rolling back by itself is a failure
that quotes AWS's reason; a PAUSE hook (or reroute wait) the plan did not know is answered after an
alarm check, never left to time out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from bluegreen.domain.codedeploy import AppSpec, LIFECYCLE, DeploymentProgress
from bluegreen.domain.controlled_steps import (
    AnswerLifecycleHook, ContinueCodeDeployDeployment, FollowCodeDeployDeployment, FollowServiceDeployment,
    RollBackServiceDeployment, StartCodeDeployDeployment, StartServiceDeployment, StopCodeDeployDeployment, Watch,
)
from bluegreen.domain.native import stage_index
from bluegreen.errors import StepFailed
from bluegreen.events import Events
from bluegreen.execution.gates import GateFailed, Gates, NotYet

# A poll whose read fails (past botocore's own retries) is tried again this many times in a row before
# the step fails: AWS having a bad moment is no reason to give up following a deployment.
READ_ATTEMPTS = 5
# After a finished deployment is undone by a new one, traffic is back once that one has shifted
# production: its bake time and clean-up are ECS's business, not the rollback's.
RESTORED_AT = "BAKE_TIME"


def _short(arn: str | None) -> str:
    return (arn or "-").rsplit("/", 1)[-1]


@dataclass
class Controlled:
    """What the executor hands the controlled steps to: the adapters, the gates, events, `@ref` resolution."""

    actions: Any  # AwsActions: .native (NativeDeployments), .codedeploy (CodeDeployEcs), update_service
    gates: Gates
    events: Events
    resolve: Callable[[str | None], str | None]
    outputs: dict[str, str]

    def wait(self, look: Callable[[], None], *, what: str, deadline: float, interval: float,
             report: bool = True) -> None:
        """`Gates.wait_until`, patient with a read that fails now and then (not with a failed gate)."""
        failures = [0]

        def patient() -> None:
            try:
                look()
            except (NotYet, StepFailed):
                failures[0] = 0
                raise
            except Exception as error:  # an AWS read failing past botocore's retries: look again
                failures[0] += 1
                if failures[0] >= READ_ATTEMPTS:
                    raise
                raise NotYet(f"a read failed ({type(error).__name__}: {error}); looking again") from None
            failures[0] = 0

        self.gates.wait_until(patient, what=what, deadline=deadline, interval=interval, report=report)

    def watch(self, watch: Watch) -> None:
        """One look at a stretch's gates (GateFailed when one fails)."""
        if watch.alarms or watch.target_group_arns or watch.probe:
            self.gates.bake(0.0, 1.0, watch.alarms, watch.target_group_arns, watch.probe)

    def hold(self, watch: Watch, interval: float) -> None:
        """The gates held for `watch.hold` seconds, metric gates included."""
        self.gates.bake(watch.hold, min(interval, watch.hold or 1.0), watch.alarms, watch.target_group_arns,
                        watch.probe, metrics=watch.metrics)

    # --- ECS's built-in blue/green ---------------------------------------------------------------------

    def start_native(self, step: StartServiceDeployment) -> tuple[str, str]:
        td = self._required(step.task_definition)
        arn, detail = self.actions.native.start(step.cluster, step.service, td, step.desired_count)
        self.events.emit("ecs.deployment", f"ECS service deployment {_short(arn)} started ({step.strategy})",
                         deployment=arn)
        return arn, detail

    def follow_native(self, step: FollowServiceDeployment) -> str:
        arn = self._required(step.deployment)
        seen: list[str | None] = [None]

        def look() -> None:
            view = self._native_view(arn, seen)
            if view.status == "SUCCESSFUL" or self._native_reached(view, step):
                return
            if view.awaiting and not (step.at_hook and view.stage == step.until):
                self._answer_unplanned(arn, view.stage, view.awaiting, step.watch)
            try:
                self.watch(step.watch)
            except GateFailed as failed:
                self._stop_native(arn, str(failed))
                raise
            raise NotYet(f"ECS at {view.stage} ({view.status}, {view.production_weight or 0:g}% of production on "
                         "the new revision)")

        self.wait(look, what=f"ECS service deployment of {step.service} to {step.until}",
                              deadline=step.deadline, interval=step.interval, report=False)
        return f"ECS past {step.until}" if not step.at_hook else f"ECS waits at its PAUSE hook {step.until}"

    def answer_hook(self, step: AnswerLifecycleHook) -> str:
        arn = self._required(step.deployment)
        view = self._native_view(arn, [None])
        if view.status == "SUCCESSFUL" or stage_index(view.stage) > stage_index(step.stage):
            return f"the hook at {step.stage} was answered already (ECS is at {view.stage or view.status})"
        if not view.awaiting:
            raise StepFailed(f"ECS is at {view.stage} ({view.status}) with no PAUSE hook awaiting action")
        try:
            self.hold(step.gate, step.interval)
        except BaseException as failed:  # a failed gate, or Ctrl-C / SIGTERM while holding: ECS rolls back
            for hook in view.awaiting:
                self._quietly(lambda h=hook: self.actions.native.resume(arn, h, roll_back=True))
            self.events.emit("ecs.hook", f"ECS hook at {step.stage}: ROLLBACK ({failed or type(failed).__name__})")
            raise
        for hook in view.awaiting:
            self.actions.native.resume(arn, hook)
        self.events.emit("ecs.hook", f"ECS hook at {step.stage}: CONTINUE (bluegreen's gates passed)")
        return f"gates held at {step.stage}; ECS continues"

    def roll_back_native(self, step: RollBackServiceDeployment) -> str:
        native = self.actions.native
        new, arn = self._known(step.task_definition), self._known(step.deployment)
        if arn is None and new is not None:
            arn = native.current_for(step.cluster, step.service, new)  # started, but killed before the journal said so
        if arn is None:
            return f"nothing to undo: no ECS deployment of the new revision was started on {step.service}"
        view = native.describe(arn)
        if view is not None and view.status in ("SUCCESSFUL", "STOPPED"):
            return self._redeploy_native(step, view.status)
        if view is not None and not view.rolled_back:
            native.roll_back(arn)
        self.events.emit("ecs.rollback", f"ECS rolling {step.service} back (StopServiceDeployment ROLLBACK)")

        def back() -> None:
            now = native.describe(arn)
            if now is None or now.status == "ROLLBACK_SUCCESSFUL":
                return
            if now.status in ("ROLLBACK_FAILED", "SUCCESSFUL"):
                raise GateFailed(f"ECS's rollback of {_short(arn)} ended {now.status}: {now.reason or ''}".rstrip(": "))
            if now.status == "IN_PROGRESS":  # a ROLLBACK that did not take: ask again
                native.roll_back(arn)
            raise NotYet(f"ECS's deployment is {now.status}")

        self.wait(back, what=f"ECS's rollback of {step.service}", deadline=step.deadline,
                              interval=step.interval)
        return f"ECS rolled {step.service} back to {_short(step.previous_task_definition)} (ROLLBACK_SUCCESSFUL)"

    def _redeploy_native(self, step: RollBackServiceDeployment, finished: str) -> str:
        """The deployment finished: undo it with a deployment of the previous revision, through ECS."""
        native = self.actions.native
        arn, _ = native.start(step.cluster, step.service, step.previous_task_definition, step.desired_count)
        self.events.emit("ecs.rollback", f"the ECS deployment had {finished}: a new deployment of "
                         f"{_short(step.previous_task_definition)} ({_short(arn)})")

        def shifted() -> None:
            view = self._native_view(arn, [None])
            if view.status == "SUCCESSFUL" or stage_index(view.stage) >= stage_index(RESTORED_AT):
                return
            if view.rolled_back or view.status == "STOPPED":
                raise GateFailed(f"ECS's deployment of {_short(step.previous_task_definition)} ended {view.status}: "
                                 f"{view.rollback_reason or view.reason or ''}")
            for hook in view.awaiting:  # a rollback is not gated: production goes back as fast as ECS can
                native.resume(arn, hook)
            raise NotYet(f"ECS at {view.stage}")

        self.wait(shifted, what=f"ECS's deployment of {_short(step.previous_task_definition)}",
                              deadline=step.deadline, interval=step.interval)
        return f"ECS deployed {_short(step.previous_task_definition)} again; production is on it"

    def _native_view(self, arn: str, seen: list[str | None]) -> Any:
        view = self.actions.native.describe(arn)
        if view is None:
            raise GateFailed(f"ECS service deployment {arn} not found")
        if view.stage != seen[0]:
            seen[0] = view.stage
            self.events.emit("ecs.stage", f"ECS: {view.stage} ({view.status}; production "
                             f"{view.production_weight or 0:g}% on the new revision)", stage=view.stage)
        if view.rolled_back:
            raise GateFailed(f"ECS rolled the deployment back: {view.rollback_reason or view.reason or view.status}")
        if view.status == "STOPPED":
            raise GateFailed(f"ECS stopped the deployment: {view.reason or 'a newer deployment started'}")
        return view

    @staticmethod
    def _native_reached(view: Any, step: FollowServiceDeployment) -> bool:
        if step.at_hook:
            return stage_index(view.stage) > stage_index(step.until) or (
                view.stage == step.until and bool(view.awaiting))
        return stage_index(view.stage) > stage_index(step.until)

    def _answer_unplanned(self, arn: str, stage: str, hooks: tuple[str, ...], watch: Watch) -> None:
        self.gates.check_alarms(watch.alarms)
        for hook in hooks:
            self.actions.native.resume(arn, hook)
        self.events.emit("ecs.hook", f"ECS hook at {stage} the plan did not know: CONTINUE after an alarm check")

    def _stop_native(self, arn: str, why: str) -> None:
        self.events.emit("ecs.rollback", f"stopping ECS's deployment with ROLLBACK: {why}")
        self._quietly(lambda: self.actions.native.roll_back(arn))

    # --- CodeDeploy ------------------------------------------------------------------------------------

    def start_codedeploy(self, step: StartCodeDeployDeployment) -> tuple[str, str]:
        appspec = AppSpec(self._required(step.task_definition), step.container, step.port, tuple(step.hooks))
        deployment, detail = self.actions.codedeploy.start_in(step.application, step.group, step.config, appspec,
                                                              f"bluegreen deploy {step.service}")
        self.events.emit("codedeploy.deployment", f"CodeDeploy deployment {deployment} started ({step.config})",
                         deployment=deployment)
        return deployment, detail

    def follow_codedeploy(self, step: FollowCodeDeployDeployment) -> str:
        deployment = self._required(step.deployment)
        seen: list[str | None] = [None]

        def look() -> None:
            progress = self._codedeploy_progress(deployment, step.cluster, step.service, seen)
            if _codedeploy_reached(progress, step.until):
                return
            try:
                self.watch(step.watch)
            except GateFailed as failed:
                self._stop_codedeploy(deployment, str(failed))
                raise
            raise NotYet(f"CodeDeploy {progress.status} at {progress.current_event() or '-'} "
                         f"({progress.replacement_weight:g}% of production on the replacement)")

        self.wait(look, what=f"CodeDeploy deployment {deployment} to {step.until}", deadline=step.deadline,
                              interval=step.interval, report=False)
        return f"CodeDeploy past {step.until}" if step.until not in ("Ready", "Succeeded") else f"CodeDeploy {step.until}"

    def continue_codedeploy(self, step: ContinueCodeDeployDeployment) -> str:
        deployment = self._required(step.deployment)
        progress = self._codedeploy_progress(deployment, step.cluster, step.service, [None])
        if not progress.ready:
            return f"deployment {deployment} is {progress.status}, past the reroute wait already"
        try:
            self.hold(step.gate, step.interval)
        except BaseException as failed:  # a failed gate, or Ctrl-C / SIGTERM: CodeDeploy rolls back
            self._stop_codedeploy(deployment, str(failed) or type(failed).__name__)
            raise
        said = self.actions.codedeploy.proceed(deployment)
        self.events.emit("codedeploy.reroute", f"CodeDeploy: ContinueDeployment (bluegreen's gates passed)")
        return said

    def stop_codedeploy(self, step: StopCodeDeployDeployment) -> str:
        cd = self.actions.codedeploy
        new, deployment = self._known(step.task_definition), self._known(step.deployment)
        if deployment is None and new is not None:
            deployment = cd.active_of(step.application, step.group, new)
        if deployment is None:
            return f"nothing to undo: no CodeDeploy deployment of the new revision was started for {step.service}"
        progress = cd.progress(deployment, step.cluster, step.service)
        if progress.status == "Succeeded":
            return self._redeploy_codedeploy(step)
        if not progress.done:
            self.events.emit("codedeploy.rollback", f"CodeDeploy: StopDeployment with rollback ({deployment})")
            cd.stop(deployment, rollback=True)

        def done() -> None:
            now = cd.progress(deployment, step.cluster, step.service)
            if not now.done:
                raise NotYet(f"CodeDeploy deployment {deployment} is {now.status}")

        self.wait(done, what=f"CodeDeploy's rollback of {step.service}", deadline=step.deadline,
                              interval=step.interval)
        return f"CodeDeploy deployment {deployment} stopped and rolled back"

    def _redeploy_codedeploy(self, step: StopCodeDeployDeployment) -> str:
        """It succeeded: undo it with a CodeDeploy deployment of the previous revision, not gated."""
        cd = self.actions.codedeploy
        appspec = AppSpec(step.previous_task_definition, step.container, step.port)
        deployment, _ = cd.start_in(step.application, step.group, "", appspec, f"bluegreen rollback {step.service}")
        self.events.emit("codedeploy.rollback", f"the CodeDeploy deployment had succeeded: a new deployment of "
                         f"{_short(step.previous_task_definition)} ({deployment})")

        def rerouted() -> None:
            progress = self._codedeploy_progress(deployment, step.cluster, step.service, [None])
            if _codedeploy_reached(progress, "AllowTraffic"):
                return
            if progress.ready:
                cd.proceed(deployment)
            raise NotYet(f"CodeDeploy {progress.status} at {progress.current_event() or '-'}")

        self.wait(rerouted, what=f"CodeDeploy's deployment of {_short(step.previous_task_definition)}",
                              deadline=step.deadline, interval=step.interval)
        return f"CodeDeploy deployed {_short(step.previous_task_definition)} again; production is on it"

    def _codedeploy_progress(self, deployment: str, cluster: str, service: str, seen: list[str | None]
                             ) -> DeploymentProgress:
        progress = self.actions.codedeploy.progress(deployment, cluster, service)
        where = progress.current_event() or ("termination wait" if progress.termination_wait_started
                                             and progress.status == "InProgress" else progress.status)
        if where != seen[0]:
            seen[0] = where
            self.events.emit("codedeploy.event", f"CodeDeploy: {where} ({progress.status}; production "
                             f"{progress.replacement_weight:g}% on the replacement)", lifecycle_event=where)
        if progress.status in ("Failed", "Stopped"):
            raise GateFailed(f"CodeDeploy deployment {deployment} {progress.status.lower()}"
                             + (f": {progress.error}" if progress.error else ""))
        return progress

    def _stop_codedeploy(self, deployment: str, why: str) -> None:
        self.events.emit("codedeploy.rollback", f"stopping CodeDeploy's deployment with rollback: {why}")
        self._quietly(lambda: self.actions.codedeploy.stop(deployment, rollback=True))

    # --- helpers -----------------------------------------------------------------------------------------

    def _known(self, ref: str) -> str | None:
        """A value or `@step` output, None when that step never produced it (a rollback after a crash)."""
        return (self.outputs.get(ref[1:]) if ref.startswith("@") else ref) or None

    def _required(self, ref: str) -> str:
        value = self.resolve(ref)
        if not value:
            raise StepFailed(f"{ref} has no value")
        return value

    def _quietly(self, call: Callable[[], Any]) -> None:
        """A stop on the way out: the failure being reported matters more than this call's own error."""
        try:
            call()
        except Exception as error:  # the runner's rollback (the start step's inverse) tries again
            self.events.emit("rollback.warning", f"warning: {type(error).__name__}: {error}")


def _codedeploy_reached(progress: DeploymentProgress, until: str) -> bool:
    if progress.status == "Succeeded":
        return True
    if until == "Succeeded":
        return False
    if until == "Ready":
        return progress.ready or _passed(progress, "BeforeAllowTraffic")
    return _passed(progress, until)


def _passed(progress: DeploymentProgress, event: str) -> bool:
    """`event` succeeded (or was skipped), or a later event has started."""
    states = {e.name: e.status for e in progress.events}
    if states.get(event) in ("Succeeded", "Skipped"):
        return True
    later = LIFECYCLE[LIFECYCLE.index(event) + 1:] if event in LIFECYCLE else ()
    return any(states.get(name) in ("InProgress", "Succeeded") for name in later)
