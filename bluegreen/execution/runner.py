"""The runner: one deployment's whole plan, from its first step to a typed `Outcome`.

    run        for each step from `start`:
                 the lease was lost              -> stop, changing nothing more         (LOCK_LOST)
                 first shift step, not promoted  -> paused, if asked to pause           (PAUSED)
                 executor.run_step               (journaled before and after)
                 the keep-warm step              -> "traffic switched"; exit keeping-warm and let
                                                    `finalize` finish (KEEPING_WARM), or wait it out
               -> drain countdown -> succeeded                                          (SUCCEEDED)
               on any error, SIGINT or SIGTERM  -> roll_back, or `failed` when automatic rollback is off
    finalize   the steps after keep-warm -> drain countdown -> succeeded
    roll_back  THE way back, for a failed run, `abort`, `rollback` and a resumed rollback alike:
               rolling-back -> the inverses of every step the journal says was started, with SIGINT and
               SIGTERM ignored -> where production traffic is, read back from AWS (gates_restored)
               -> rolled-back (verified) | rollback-failed, recorded with a history line.

Status changes go through `Deployment.to`, so one outside the transition table fails loudly. The
sleep and the wall clock are the run context's: tests run whole plans without sleeping.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, Callable, Iterable, Mapping, Protocol

from bluegreen.domain.deployment import Deployment, Status
from bluegreen.domain.plan import Plan
from bluegreen.domain.steps import (
    KeepWarm, Step, WaitGroupInService, WaitServiceStable, WaitTargetsHealthy,
)
from bluegreen.events import Events
from bluegreen.execution.executor import Executor, JournalSink
from bluegreen.execution.gates import Gates
from bluegreen.execution.gates_restored import (
    DEFAULT_DEADLINE, DEFAULT_INTERVAL, old_color_target_groups, verify_restored,
)
from bluegreen.execution.signals import shielded, sigterm_as_interrupt


class Ending(StrEnum):
    SUCCEEDED = "succeeded"
    PAUSED = "paused"
    KEEPING_WARM = "keeping-warm"
    ROLLED_BACK = "rolled-back"  # production traffic is back where it was
    ROLLBACK_FAILED = "rollback-failed"  # some inverse failed: a person must look
    FAILED = "failed"  # automatic rollback is off: traffic was left as it was
    LOCK_LOST = "lock-lost"  # another run holds the lock now: this one stopped and undid nothing


@dataclass(frozen=True)
class Outcome:
    ending: Ending
    record: Deployment
    reason: str = ""
    failures: tuple[str, ...] = ()


class Records(Protocol):
    """Where the runner keeps the record and the history (`state.deployments.DeploymentRecords`)."""

    def save(self, record: Deployment) -> None: ...  # noqa: E704
    def append_history(self, entry: Mapping[str, Any]) -> None: ...  # noqa: E704


class Lease(Protocol):
    lost: bool


@dataclass
class Journaled:
    """What the journal says about a deployment's steps so far (nothing, for a new deployment)."""

    started: set[str] = field(default_factory=set)
    succeeded: set[str] = field(default_factory=set)
    outputs: dict[str, str] = field(default_factory=dict)  # what `@step` references resolve to

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any]]) -> "Journaled":
        state = cls()
        for entry in entries:
            if entry.get("event") == "step.started":
                state.started.add(entry["step"])
            elif entry.get("event") == "step.succeeded":
                state.succeeded.add(entry["step"])
                if entry.get("output") is not None:
                    state.outputs[entry["step"]] = entry["output"]
        return state

    def resume_index(self, plan: Plan) -> int:
        """The step after the last one that succeeded: a killed process may have half-done the next."""
        done = [i for i, step in enumerate(plan.steps) if step.id in self.succeeded]
        return done[-1] + 1 if done else 0


@dataclass
class Runner:
    plan: Plan
    actions: Any  # adapters.aws.actions.AwsActions, or a test double with the same methods
    gates: Gates
    journal: JournalSink
    events: Events
    records: Records
    journaled: Journaled = field(default_factory=Journaled)
    lease: Lease | None = None
    automatic_rollback: bool = True
    wall_clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    hooks: Any = None  # execution.hooks.HookRunner, for the plan's RunHook steps
    executor: Executor = field(init=False)

    def __post_init__(self) -> None:
        self.executor = Executor(plan=self.plan, actions=self.actions, gates=self.gates, journal=self._journal,
                                 events=self.events, outputs=dict(self.journaled.outputs), clock=self.clock,
                                 hooks=self.hooks)

    def _journal(self, event: str, **data: Any) -> None:
        if event == "step.started":
            self.journaled.started.add(data["step"])  # before the write: an inverse too many is harmless
        self.journal(event, **data)

    # --- forward -----------------------------------------------------------------------------------

    def run(self, record: Deployment, *, start: int = 0, pause_before_shift: bool = False,
            wait_finalize: bool = False) -> Outcome:
        if record.status is not Status.RUNNING:
            raise ValueError(f"deployment {record.id} is {record.status}: only a running one runs its steps")
        steps, index = self.plan.steps, start
        try:
            with sigterm_as_interrupt():
                while index < len(steps):
                    step = steps[index]
                    if self._pauses_before(record, index, pause_before_shift):
                        if record.auto_promote_after is None:
                            return self._pause(record, index)
                        waited = self._auto_promote(record, index)
                        if isinstance(waited, Outcome):
                            return waited
                        record = waited
                    if self.lease is not None and self.lease.lost:
                        return self._stop(record, index)
                    record = record.with_(next_step=index)
                    self.executor.run_step(step, index=index)
                    index += 1
                    record = record.with_(next_step=index)
                    if isinstance(step, KeepWarm):
                        self.events.emit("traffic.switched", f"traffic switched: 100% on {self.plan.target_color}; "
                                         f"{step.color} stays up, and drains when it is scaled down")
                        if not wait_finalize:
                            return self._keep_warm(record, step)
                        self.events.emit("keep-warm.waiting", f"waiting {step.duration:.0f}s before scaling "
                                         f"{step.color} down (--wait-finalize)")
                        self.sleep(step.duration)
        except (Exception, KeyboardInterrupt) as error:
            reason = f"interrupted ({error})" if isinstance(error, KeyboardInterrupt) else str(error)
            return self._failed(record, reason)
        keep = next((s for s in steps if isinstance(s, KeepWarm)), None)
        if keep is not None:
            self.drain(keep)
        return self._succeed(record)

    def finalize(self, record: Deployment) -> Outcome:
        """After keep-warm: the remaining steps (scale the old color down), then the drain countdown."""
        keep = next(i for i, s in enumerate(self.plan.steps) if isinstance(s, KeepWarm))
        for index in range(keep + 1, len(self.plan.steps)):
            self.executor.run_step(self.plan.steps[index], index=index)
        self.drain(self.plan.steps[keep])  # type: ignore[arg-type]
        record = record.to(Status.SUCCEEDED, finalized=self._iso(self.wall_clock()))
        self.records.save(record)
        return Outcome(Ending.SUCCEEDED, record)

    def drain(self, step: KeepWarm) -> None:
        """After the old color is scaled down its targets deregister: count the deregistration delay down."""
        remaining = step.drain_seconds
        while remaining > 0:
            self.events.emit("drain.countdown", f"{step.color} draining: {remaining:.0f}s of deregistration delay left")
            pause = min(10.0, remaining)
            self.sleep(pause)
            remaining -= pause
        still = self._still_draining(deadline=max(60.0, step.drain_seconds))
        if still:
            self.events.emit("drain.unconfirmed", f"{step.color} not confirmed drained: {still}")
            return
        self.events.emit("drain.done", f"{step.color} drained: no production connections left on it")

    def _still_draining(self, deadline: float) -> str:
        """After the countdown, wait until the old color's target groups hold no `draining` target (AWS
        starts counting a target's delay when it deregisters, a little after the scale-down); "" when none."""
        arns = old_color_target_groups(self.plan.steps)
        start = self.clock()
        while True:
            try:
                draining = [f"{arn.split('/')[-2] if arn.count('/') >= 2 else arn}: {tid}" for arn in arns
                            for tid, state, _ in self.gates.observer.target_health(arn) if state == "draining"]
            except Exception as error:  # an AWS read failing here must not undo a deployment that succeeded
                return f"its targets could not be read ({type(error).__name__})"
            if not draining:
                return ""
            if self.clock() - start >= deadline:
                return f"still draining after {deadline:.0f}s more: {', '.join(draining)}"
            self.sleep(5.0)

    # --- back to safety ----------------------------------------------------------------------------

    def roll_back(self, record: Deployment, reason: str, *, requested: bool = False,
                  keep_finalize: bool = False) -> Outcome:
        """Undo every step the journal says was started, and record how that ended.

        `requested`: an `abort` or `rollback` (history says "rollback"; success is not a failure).
        `keep_finalize`: leave finalize-phase steps alone (the deployment had reached keep-warm).
        """
        with shielded() as ignored:
            record = record.to(Status.ROLLING_BACK, reason=reason)
            self.records.save(record)
            attempted = [s for s in self.plan.steps if s.id in self.journaled.started
                         and not (keep_finalize and s.phase == "finalize")]
            failures = tuple(self.executor.roll_back(attempted, reason))
            if not failures:
                failures = self._verify(attempted)
            self._after_rollback(bool(failures))
            for name in ignored:
                self.events.emit("rollback.interrupt-ignored", f"{name} ignored: the rollback continues")
            operation = "rollback" if requested else None
            if failures:
                record = record.to(Status.ROLLBACK_FAILED, rollback_failures=failures)
                self.records.save(record)
                record = self._history(record, "rollback-failed", reason, operation)
                return Outcome(Ending.ROLLBACK_FAILED, record, reason, failures)
            record = record.to(Status.ROLLED_BACK, finished_at=self._iso(self.wall_clock()))
            self.records.save(record)
            record = self._history(record, "rolled-back", reason, operation)
            if requested:
                self.events.emit("rollback.succeeded", "rolled back: production traffic is on "
                                 f"{self.plan.live_color or 'the previous revision'}")
            return Outcome(Ending.ROLLED_BACK, record, reason)

    def _verify(self, attempted: list[Step]) -> tuple[str, ...]:
        """Read back where production traffic is: "restored" is a claim about AWS, not about our calls."""
        waits = [s for s in self.plan.steps if isinstance(s, (WaitServiceStable, WaitTargetsHealthy, WaitGroupInService))]
        deadline = max((s.deadline for s in waits), default=DEFAULT_DEADLINE)
        interval = min((s.interval for s in waits), default=DEFAULT_INTERVAL)
        problems = tuple(verify_restored(
            self.plan.steps, attempted, self.gates, deadline=deadline, interval=interval,
            on_verified=lambda line: self.events.emit("rollback.verified", f"verified: {line}")))
        self.journal("rollback.verified", problems=list(problems))
        return problems

    # --- how a run ends ----------------------------------------------------------------------------

    def _after_rollback(self, failed: bool) -> None:
        """The after-rollback hooks (reported, never deciding), then the rollback's notification."""
        for step in self.plan.after_rollback:
            try:
                self.executor.run_step(step, rollback=True)
            except BaseException as error:  # the rollback is done: a hook can only be reported
                self.events.emit("hook.warning", f"warning: after-rollback {step.describe()}: {error}")
        self.events.signal("deploy.rollback-failed" if failed else "deploy.rolled-back",
                           "the rollback did not complete" if failed
                           else f"rolled back: production traffic is on {self.plan.live_color or 'the previous revision'}")

    def _failed(self, record: Deployment, reason: str) -> Outcome:
        self.events.signal("deploy.failed", f"deployment failed: {reason}", reason=reason)
        if self.automatic_rollback:
            return self.roll_back(record, reason)
        record = record.to(Status.FAILED, reason=reason)
        self.records.save(record)
        return Outcome(Ending.FAILED, self._history(record, "failed", reason), reason)

    def _pauses_before(self, record: Deployment, index: int, pause_before_shift: bool) -> bool:
        step = self.plan.steps[index]
        if index == record.passed_pause or not step.pausable:
            return False  # promoted past this one; or AWS moves on by itself here, and a pause would not hold it
        if step.id in record.pause_before:
            return True
        return pause_before_shift and step.phase == "shift" and not record.promoted

    def _pause(self, record: Deployment, index: int) -> Outcome:
        record = record.to(Status.PAUSED, next_step=index)
        self.records.save(record)
        service = record.service
        self.events.emit("deploy.paused", f"paused before {self._where(index)}; run "
                         f"`bluegreen promote {service}` or `bluegreen abort {service}`", step=self.plan.steps[index].id)
        return Outcome(Ending.PAUSED, record)

    def _auto_promote(self, record: Deployment, index: int) -> Deployment | Outcome:
        """Argo's autoPromotionSeconds: paused (and saying so in `status`), counting down, then promoted."""
        timer = record.auto_promote_after or 0.0
        record = record.to(Status.PAUSED, next_step=index, auto_promote_at=self.wall_clock() + timer)
        self.records.save(record)
        self.events.emit("deploy.paused", f"paused before {self._where(index)}; promoting by itself in "
                         f"{timer:.0f}s (Ctrl-C or SIGTERM rolls back)", step=self.plan.steps[index].id)
        left = timer
        while left > 0:
            if self.lease is not None and self.lease.lost:
                return self._stop(record, index)
            pause = min(60.0, left)
            self.sleep(pause)
            left -= pause
            if left > 0:
                self.events.emit("deploy.countdown", f"auto-promotion in {left:.0f}s")
        record = record.to(Status.RUNNING, promoted=True, passed_pause=index, auto_promote_at=None)
        self.records.save(record)
        self.events.emit("deploy.promoted", f"auto-promoted after {timer:.0f}s: continuing with {self._where(index)}")
        return record

    def _where(self, index: int) -> str:
        step = self.plan.steps[index]
        if step.phase == "shift" and not any(s.phase == "shift" for s in self.plan.steps[:index]):
            return f"shifting traffic (step {index + 1}, {step.id}): green is up and healthy"
        return f"step {index + 1}, {step.id}: {step.describe()}"

    def _stop(self, record: Deployment, index: int) -> Outcome:
        # The run that took the lock over owns the deployment now: undoing anything would race it.
        reason = f"lost the deployment lock (another run took it over) before step {index + 1}: stopping here"
        self.events.emit("deploy.stopped", reason)
        return Outcome(Ending.LOCK_LOST, record, reason)

    def _keep_warm(self, record: Deployment, step: KeepWarm) -> Outcome:
        deadline = self.wall_clock() + step.duration
        record = record.to(Status.KEEPING_WARM, keep_warm_until=deadline, keep_warm_until_iso=self._iso(deadline))
        self.records.save(record)  # first: a crash now still finds the deadline
        record = self._history(record, "succeeded", "")
        service = record.service
        self.events.emit("deploy.succeeded", f"deployment succeeded; {step.color} kept warm until "
                         f"{record.keep_warm_until_iso} (`bluegreen finalize {service}` scales it down after "
                         f"that; `bluegreen rollback {service}` before then is one traffic change)")
        return Outcome(Ending.KEEPING_WARM, record)

    def _succeed(self, record: Deployment) -> Outcome:
        record = record.to(Status.SUCCEEDED, finished_at=self._iso(self.wall_clock()))
        self.records.save(record)
        if not record.history_written:
            record = self._history(record, "succeeded", "")
        self.events.emit("deploy.succeeded", f"deployment {record.id} succeeded")
        return Outcome(Ending.SUCCEEDED, record)

    def _history(self, record: Deployment, result: str, reason: str, operation: str | None = None) -> Deployment:
        now = self.wall_clock()
        self.records.append_history(record.history_entry(result, reason, now=now, now_iso=self._iso(now),
                                                         operation=operation))
        record = record.with_(history_written=True)
        self.records.save(record)
        return record

    @staticmethod
    def _iso(epoch: float) -> str:
        return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")
