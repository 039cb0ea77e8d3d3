"""The commands that change things: deploy, promote, abort, resume, rollback, finalize; and the
read-only status and history. Each takes the service lock, keeps the deployment record and journal
in the state store, and maps outcomes to the exit-code table.

    deploy:   lock -> (build) -> discover -> plan (or saved plan, checked for drift) -> record
              -> execute steps (journal before/after) -> pause | keep blue warm | succeed
              -> on failure or SIGTERM/SIGINT: inverses back to blue -> history -> unlock
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from bluegreen.app.context import RunContext
from bluegreen.app.plans import plan_specs
from bluegreen.errors import DeploymentFailed, InvalidInput, LockHeld, RollbackIncomplete, StepFailed
from bluegreen.events import Events
from bluegreen.execution.executor import Executor
from bluegreen.execution.gates import Gates
from bluegreen.specfiles.loader import LoadedSpec, load_spec
from bluegreen.domain.plan import Plan
from bluegreen.domain.plan import load as load_plan_file
from bluegreen.domain.snapshot import diff_facts
from bluegreen.domain.spec import Spec
from bluegreen.domain.steps import KeepWarm, Step
from bluegreen.app.stores import open_store

IN_FLIGHT = {"running", "paused", "rolling-back", "rollback-failed"}


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def new_deployment_id(service: str) -> str:
    return f"{service}-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


def resolve_service(target: str, search: str = "deployments") -> LoadedSpec:
    """SERVICE may be a spec path or a service name defined in deployments/."""
    path = Path(target)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_spec(path)
    from bluegreen.specfiles.loader import load_specs

    directory = Path(search)
    if not directory.is_dir():
        raise InvalidInput(f"{target}: not a spec file, and there is no {search}/ to look it up in")
    for item in load_specs([directory]):
        if item.spec.service == target:
            return item
    raise InvalidInput(f"no spec for service '{target}' in {search}/")


@dataclass
class Session:
    """Everything one command needs for one service: spec, store, AWS adapters, output."""

    ctx: RunContext
    loaded: LoadedSpec
    events: Events
    store: Any = None
    lease: Any = None  # the held lock's lease while a command runs

    @property
    def spec(self) -> Spec:
        return self.loaded.spec

    def __post_init__(self) -> None:
        if self.store is None:
            self.store = open_store(self.spec.state, lambda: self.aws())
        self.events.service = self.spec.service

    def aws(self) -> Any:
        return self.ctx.aws_for(self.spec)

    @property
    def journal_writer(self) -> Any:
        """Journal through the store, falling back to a local file (and saying so) if the store fails."""
        from bluegreen.state.journal import JournalWriter

        if getattr(self, "_writer", None) is None:
            self._writer = JournalWriter(self.store, _fallback_dir(self.spec),
                                         on_warning=lambda m: self.events.emit("journal.fallback", m))
        return self._writer

    def entries(self, deployment_id: str) -> list[dict[str, Any]]:
        return self.journal_writer.entries(self.spec.service, deployment_id)

    def executor(self, plan: Plan, deployment_id: str, outputs: dict[str, str] | None = None) -> Executor:
        from bluegreen.adapters.aws.actions import AwsActions
        from bluegreen.adapters.aws.observe import AwsObserver
        writer = self.journal_writer

        def journal(event: str, **data: Any) -> None:
            writer.append(self.spec.service, deployment_id, {"event": event, **data})

        return Executor(plan=plan, actions=AwsActions(self.aws()),
                        gates=Gates(AwsObserver(self.aws()), on_wait=lambda m: self.events.emit("gate.waiting", m)),
                        journal=journal, events=self.events, outputs=dict(outputs or {}))

    @contextmanager
    def locked(self, operation: str, deployment_id: str, force_stale: bool = False) -> Iterator[None]:
        from bluegreen.state.lease import LockLease
        from bluegreen.state.store import LockInfo

        info = LockInfo.create(self.spec.service, deployment_id, operation, self.ctx.identity)
        lease = LockLease(self.store, info, self.spec.state.lease,
                          on_warning=lambda m: self.events.emit("lock.warning", m),
                          on_lost=lambda holder: self.events.emit(
                              "lock.lost", "lost the deployment lock" + (f" to {holder.describe()}" if holder else "")))
        try:
            lease.__enter__()
        except LockHeld:
            holder = self.store.read(self.spec.service)
            if holder is None or not (force_stale or _holder_is_dead(holder, self.ctx.identity.host)):
                raise
            self.store.break_lock(self.spec.service)
            self.events.emit("lock.taken-over", f"took over the lock of a dead process: {holder.describe()}")
            lease.__enter__()
        if lease.taken_over is not None:
            self.events.emit("lock.taken-over", f"took over an expired lock: {lease.taken_over.describe()}")
        self.lease = lease
        try:
            yield
        finally:
            self.lease = None
            lease.__exit__(None, None, None)


def _fallback_dir(spec: Spec) -> Path:
    return Path(spec.state.directory) / "journal-fallback"


def _holder_is_dead(holder: Any, this_host: str) -> bool:
    """A lock left by a process on this machine that no longer exists (e.g. a SIGKILLed CI job)."""
    if holder.host != this_host or not holder.pid:
        return False
    try:
        os.kill(int(holder.pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@contextmanager
def interrupts_as_keyboard_interrupt() -> Iterator[None]:
    """A Jenkins abort sends SIGTERM: treat it like Ctrl-C so the executor rolls back."""
    def handler(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def shielded() -> Iterator[None]:
    """While rolling back, a second Ctrl-C or SIGTERM must not leave traffic half-restored."""
    ignored = {s: signal.signal(s, lambda *_: None) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in ignored.items():
            signal.signal(s, h)


# --- deploy ---------------------------------------------------------------------------------------


def deploy(session: Session, *, image_tag: str | None, plan_file: str | None = None, build: bool = False,
           registry: str | None = None, pause_before_shift: bool = False, wait_finalize: bool = False) -> int:
    spec, store = session.spec, session.store
    deployment_id = new_deployment_id(spec.service)
    with session.locked("deploy", deployment_id):
        _refuse_if_in_flight(session)
        _supersede_keep_warm(session)
        if build:
            from bluegreen.app.images import build_and_push

            result = build_and_push(session.aws(), spec, session.loaded.path, image_tag or "latest",
                                    events=session.events, registry=registry,
                                    git_commit=session.ctx.identity.git_commit)
            image_tag = result.tag
        plan = _plan(session, image_tag, plan_file)
        if not plan.steps:
            session.events.emit("deploy.noop", "nothing to deploy: the live version already matches")
            return 0
        record = {"id": deployment_id, "deployment_id": deployment_id, "service": spec.service, "status": "running",
                  "operation": "deploy", "strategy": plan.strategy.value if plan.strategy else None,
                  "from_color": plan.live_color, "to_color": plan.target_color,
                  "image": plan.image.pinned if plan.image else None, "started_at": utc_now(),
                  "started_epoch": time.time(), "plan": plan.model_dump_json(), "next_step": 0,
                  "who": session.ctx.identity.describe(), "spec_path": str(session.loaded.path)}
        store.put_deployment(spec.service, record)
        store.set_current(spec.service, deployment_id)
        session.events.emit("deploy.started", f"deploying {record['image'] or 'the new configuration'} with "
                            f"{record['strategy']}: {plan.live_color or 'live'} -> {plan.target_color or 'new revision'}",
                            deployment_id=deployment_id)
        for warning in plan.warnings:  # e.g. a DNS cutover's TTL caveat: the CI log must show it too
            session.events.emit("deploy.warning", f"warning: {warning}")
        return _execute(session, plan, record, start=0, pause_before_shift=pause_before_shift,
                        wait_finalize=wait_finalize)


def _plan(session: Session, image_tag: str | None, plan_file: str | None) -> Plan:
    fresh = plan_specs(session.ctx, [session.loaded], image_tag=image_tag)[0]
    if plan_file:
        saved = next((p for p in load_plan_file(plan_file) if p.service == session.spec.service), None)
        if saved is None:
            raise InvalidInput(f"{plan_file}: holds no plan for service {session.spec.service}")
        if saved.errors or not saved.applicable:
            raise InvalidInput(f"{plan_file}: the saved plan for {saved.service} had errors and cannot be applied")
        if saved.spec_digest != fresh.spec_digest:
            raise InvalidInput(f"{plan_file}: {session.loaded.path} changed since the plan was made; plan again")
        if saved.fingerprint != fresh.fingerprint:
            changed = "; ".join(diff_facts(saved.facts, fresh.facts))
            raise InvalidInput(f"{plan_file}: live state changed since the plan was made ({changed}); plan again")
        return saved
    if fresh.errors:
        raise InvalidInput(f"{session.spec.service}: cannot deploy: " + "; ".join(fresh.errors), fresh.errors)
    return fresh


def _refuse_if_in_flight(session: Session) -> None:
    current = session.store.current(session.spec.service)
    if current and current.get("status") in IN_FLIGHT:
        raise LockHeld(f"deployment {current['deployment_id']} of {session.spec.service} is {current['status']} "
                       f"(started {current.get('started_at')} by {current.get('who')}): promote, abort, resume "
                       "or roll it back first")


def _supersede_keep_warm(session: Session) -> None:
    """The next deploy goes to the warm color anyway: the old deployment needs no scale-down."""
    current = session.store.current(session.spec.service)
    if current and current.get("status") == "keeping-warm":
        current = current | {"status": "succeeded", "finalized": "superseded by the next deployment"}
        session.store.put_deployment(session.spec.service, current)


def _execute(session: Session, plan: Plan, record: dict[str, Any], *, start: int, pause_before_shift: bool,
             wait_finalize: bool, outputs: dict[str, str] | None = None) -> int:
    service, store = session.spec.service, session.store
    executor = session.executor(plan, record["deployment_id"], outputs or _outputs(session, record))
    steps = plan.steps
    index = start
    try:
        with interrupts_as_keyboard_interrupt():
            while index < len(steps):
                step = steps[index]
                if pause_before_shift and step.phase == "shift" and not record.get("promoted"):
                    record |= {"status": "paused", "next_step": index}
                    store.put_deployment(service, record)
                    session.events.emit("deploy.paused", f"paused before shifting traffic: green is up and "
                                        f"healthy; run `bluegreen promote {service}` or `bluegreen abort {service}`")
                    return 0
                if session.lease is not None and session.lease.lost:
                    raise StepFailed("lost the deployment lock (another run took it over): stopping here")
                record["next_step"] = index
                executor.run_step(step, index=index)
                index += 1
                record["next_step"] = index
                if isinstance(step, KeepWarm):
                    session.events.emit("traffic.switched", f"traffic switched: 100% on {plan.target_color}; "
                                        f"{step.color} stays up, and drains when it is scaled down")
                    if not wait_finalize:
                        return _keep_warm(session, plan, record, step)
                    session.events.emit("keep-warm.waiting", f"waiting {step.duration:.0f}s before scaling "
                                        f"{step.color} down (--wait-finalize)")
                    executor.gates.sleep(step.duration)
    except (Exception, KeyboardInterrupt) as error:
        reason = f"interrupted ({error})" if isinstance(error, KeyboardInterrupt) else str(error)
        return _fail(session, plan, record, executor, steps[: index + 1], reason)
    keep = next((s for s in steps if isinstance(s, KeepWarm)), None)
    if keep is not None:
        drain(session, keep, executor)
    _finish(session, plan, record, "succeeded")
    session.events.emit("deploy.succeeded", f"deployment {record['deployment_id']} succeeded")
    return 0


def drain(session: Session, step: KeepWarm, executor: Executor) -> None:
    """After the old color is scaled down its targets deregister: count the deregistration delay down."""
    if step.drain_seconds > 0:
        remaining = step.drain_seconds
        while remaining > 0:
            session.events.emit("drain.countdown", f"{step.color} draining: {remaining:.0f}s of deregistration delay left")
            pause = min(10.0, remaining)
            executor.gates.sleep(pause)
            remaining -= pause
    session.events.emit("drain.done", f"{step.color} drained: no production connections left on it")


def _keep_warm(session: Session, plan: Plan, record: dict[str, Any], step: KeepWarm) -> int:
    deadline = time.time() + step.duration
    record |= {"status": "keeping-warm", "keep_warm_until": deadline,
               "keep_warm_until_iso": datetime.fromtimestamp(deadline, timezone.utc).isoformat(timespec="seconds")}
    session.store.put_deployment(session.spec.service, record)
    _history(session, record, "succeeded", "")
    session.events.emit("deploy.succeeded", f"deployment succeeded; {step.color} kept warm until "
                        f"{record['keep_warm_until_iso']} (`bluegreen finalize {session.spec.service}` scales it "
                        f"down after that; `bluegreen rollback {session.spec.service}` before then is one traffic change)")
    return 0


def _fail(session: Session, plan: Plan, record: dict[str, Any], executor: Executor, attempted: list[Step],
          reason: str) -> int:
    service = session.spec.service
    if not session.spec.rollback.automatic:
        record |= {"status": "failed", "reason": reason}
        session.store.put_deployment(service, record)
        _history(session, record, "failed", reason)
        raise RollbackIncomplete(f"{service}: {reason}. Automatic rollback is off: traffic was left as it is; "
                                 f"run `bluegreen rollback {service}`")
    record |= {"status": "rolling-back", "reason": reason}
    session.store.put_deployment(service, record)
    with shielded():
        failures = executor.roll_back(attempted, reason)
    if failures:
        record |= {"status": "rollback-failed", "rollback_failures": failures}
        session.store.put_deployment(service, record)
        _history(session, record, "rollback-failed", reason)
        raise RollbackIncomplete(f"{service}: {reason}. The rollback did not complete: " + "; ".join(failures)
                                 + f". Run `bluegreen status {service}` and `bluegreen rollback {service}`")
    _finish(session, plan, record, "rolled-back", reason)
    raise DeploymentFailed(f"{service}: {reason}. Traffic is back on {plan.live_color or 'the previous revision'}")


def _finish(session: Session, plan: Plan, record: dict[str, Any], status: str, reason: str = "") -> None:
    record |= {"status": status, "finished_at": utc_now(), "reason": reason or record.get("reason", "")}
    session.store.put_deployment(session.spec.service, record)
    if not (status == "succeeded" and record.get("history_written")):
        _history(session, record, status, reason)


def _history(session: Session, record: dict[str, Any], result: str, reason: str) -> None:
    started = record.get("started_epoch") or time.time()
    session.store.append_history(session.spec.service, {
        "deployment_id": record["deployment_id"], "operation": record.get("operation", "deploy"),
        "result": result, "reason": reason, "who": record.get("who") or session.ctx.identity.describe(), "image": record.get("image"),
        "strategy": record.get("strategy"), "from_color": record.get("from_color"),
        "to_color": record.get("to_color"), "started_at": record.get("started_at"), "finished_at": utc_now(),
        "seconds": round(time.time() - started, 1)})
    record["history_written"] = True
    session.store.put_deployment(session.spec.service, record)


def _outputs(session: Session, record: dict[str, Any]) -> dict[str, str]:
    """Outputs of steps that already ran (from the journal), so `@step` references resolve on resume."""
    out: dict[str, str] = {}
    for entry in session.entries(record["deployment_id"]):
        if entry.get("event") == "step.succeeded" and entry.get("output") is not None:
            out[entry["step"]] = entry["output"]
    return out


def _started_steps(session: Session, plan: Plan, record: dict[str, Any]) -> list[Step]:
    """Steps the journal says were started (finished or not): a killed process may have half-done the last."""
    started = {e["step"] for e in session.entries(record["deployment_id"])
               if e.get("event") == "step.started"}
    return [s for s in plan.steps if s.id in started]


def _last_succeeded_index(session: Session, plan: Plan, record: dict[str, Any]) -> int:
    done = {e["step"] for e in session.entries(record["deployment_id"])
            if e.get("event") == "step.succeeded"}
    index = 0
    for i, step in enumerate(plan.steps):
        if step.id in done:
            index = i + 1
    return index


def _current(session: Session) -> tuple[dict[str, Any], Plan]:
    record = session.store.current(session.spec.service)
    if not record:
        raise InvalidInput(f"{session.spec.service}: no deployment recorded yet")
    return record, Plan.model_validate_json(record["plan"])


# --- promote / abort / resume / rollback / finalize -------------------------------------------------


def promote(session: Session, *, wait_finalize: bool = False) -> int:
    record, plan = _current(session)
    if record["status"] != "paused":
        raise InvalidInput(f"{session.spec.service}: deployment {record['deployment_id']} is {record['status']}, not paused")
    with session.locked("promote", record["deployment_id"]):
        record |= {"status": "running", "promoted": True}
        session.store.put_deployment(session.spec.service, record)
        session.events.emit("deploy.promoted", f"promoting {record['deployment_id']}: shifting traffic")
        return _execute(session, plan, record, start=int(record["next_step"]), pause_before_shift=False,
                        wait_finalize=wait_finalize)


def resume(session: Session, *, wait_finalize: bool = False) -> int:
    record, plan = _current(session)
    if record["status"] == "paused":
        return promote(session, wait_finalize=wait_finalize)
    if record["status"] not in ("running", "rolling-back"):
        raise InvalidInput(f"{session.spec.service}: nothing to resume (deployment {record['deployment_id']} "
                           f"is {record['status']})")
    with session.locked("resume", record["deployment_id"], force_stale=False):
        if record["status"] == "rolling-back":
            return _rollback_in_flight(session, plan, record, "resuming an interrupted rollback")
        start = _last_succeeded_index(session, plan, record)
        session.events.emit("deploy.resumed", f"resuming {record['deployment_id']} at step {start + 1}")
        return _execute(session, plan, record, start=start, pause_before_shift=False, wait_finalize=wait_finalize,
                        outputs=_outputs(session, record))


def abort(session: Session) -> int:
    record, plan = _current(session)
    if record["status"] not in IN_FLIGHT:
        raise InvalidInput(f"{session.spec.service}: deployment {record['deployment_id']} is {record['status']}; "
                           "nothing to abort (use rollback to undo a finished deployment)")
    with session.locked("abort", record["deployment_id"]):
        return _rollback_in_flight(session, plan, record, "aborted by request")


def rollback(session: Session, *, to: str | None = None) -> int:
    """Put production traffic back on the last good color, whatever state things are in."""
    record, plan = _current(session)
    if to is not None:
        return _redeploy(session, to)
    status = record["status"]
    with session.locked("rollback", record["deployment_id"]):
        if status in IN_FLIGHT:
            return _rollback_in_flight(session, plan, record, "rollback requested")
        if status == "keeping-warm":
            return _rollback_in_flight(session, plan, record, "rollback requested while the old color is warm",
                                       finished=True)
    if status in ("succeeded",):
        previous = _previous_good_image(session, record)
        if previous is None:
            raise InvalidInput(f"{session.spec.service}: the old color was already scaled down and no earlier "
                               "good image is recorded; use --to DIGEST")
        return _redeploy(session, previous)
    raise InvalidInput(f"{session.spec.service}: deployment {record['deployment_id']} is {status}: "
                       "traffic is already on the previous color")


def _rollback_in_flight(session: Session, plan: Plan, record: dict[str, Any], reason: str,
                        finished: bool = False) -> int:
    executor = session.executor(plan, record["deployment_id"], _outputs(session, record))
    attempted = _started_steps(session, plan, record)
    if finished:
        attempted = [s for s in attempted if s.phase != "finalize"]
    record |= {"status": "rolling-back", "reason": reason}
    session.store.put_deployment(session.spec.service, record)
    with shielded():
        failures = executor.roll_back(attempted, reason)
    if failures:
        record |= {"status": "rollback-failed", "rollback_failures": failures}
        session.store.put_deployment(session.spec.service, record)
        raise RollbackIncomplete(f"{session.spec.service}: the rollback did not complete: " + "; ".join(failures))
    record |= {"status": "rolled-back", "finished_at": utc_now()}
    session.store.put_deployment(session.spec.service, record)
    _history(session, record | {"operation": "rollback"}, "rolled-back", reason)
    session.events.emit("rollback.succeeded", f"rolled back: production traffic is on "
                        f"{plan.live_color or 'the previous revision'}")
    return 0


def _previous_good_image(session: Session, record: dict[str, Any]) -> str | None:
    for item in session.store.history(session.spec.service, limit=50):
        if item.get("result") == "succeeded" and item.get("image") and item.get("image") != record.get("image"):
            return str(item["image"])
    return None


def _redeploy(session: Session, image: str) -> int:
    """Deploy an earlier image (a tag, or a digest recorded in history) as a new deployment."""
    reference = image.split("@", 1)[-1] if "@" in image else image
    tag = reference
    if reference.startswith("sha256:"):
        from bluegreen.adapters.ecr import Ecr

        tags = Ecr(session.aws()).tags_of(session.spec.image.repository, reference)
        if not tags:
            raise InvalidInput(f"{session.spec.service}: no tag in ECR repository {session.spec.image.repository} "
                               f"points at {reference[:19]}...; pass --to TAG")
        tag = sorted(tags)[0]
    session.events.emit("rollback.redeploy", f"the old color is no longer warm: redeploying {image} (tag {tag})")
    return deploy(session, image_tag=tag)


def finalize(session: Session, *, now: bool = False) -> int:
    record, plan = _current(session)
    if record["status"] != "keeping-warm":
        session.events.emit("finalize.noop", f"nothing to finalize: deployment {record['deployment_id']} is {record['status']}")
        return 0
    left = float(record.get("keep_warm_until", 0)) - time.time()
    if left > 0 and not now:
        session.events.emit("finalize.waiting", f"{plan.live_color} is kept warm for {left:.0f}s more "
                            f"(until {record.get('keep_warm_until_iso')}); nothing to do yet (--now to force)")
        return 0
    with session.locked("finalize", record["deployment_id"]):
        executor = session.executor(plan, record["deployment_id"], _outputs(session, record))
        keep = next(i for i, s in enumerate(plan.steps) if isinstance(s, KeepWarm))
        for index in range(keep + 1, len(plan.steps)):
            executor.run_step(plan.steps[index], index=index)
        drain(session, plan.steps[keep], executor)  # type: ignore[arg-type]
        record |= {"status": "succeeded", "finalized": utc_now()}
        session.store.put_deployment(session.spec.service, record)
        session.events.emit("finalize.done", f"{plan.live_color} scaled down; deployment {record['deployment_id']} complete")
        return 0


# --- read-only ---------------------------------------------------------------------------------------


def status(session: Session) -> dict[str, Any]:
    """Live color, weights and health from AWS, plus the in-flight or latest deployment from the store."""
    live = plan_specs(session.ctx, [session.loaded])[0]
    record = session.store.current(session.spec.service) or {}
    lock = session.store.read(session.spec.service)
    out: dict[str, Any] = {
        "service": session.spec.service, "strategy": live.strategy.value if live.strategy else None,
        "live_color": live.live_color, "state": live.state,
        "health": [c.model_dump() for c in live.checks if c.name != "image"],
        "problems": live.errors, "lock": lock.describe() if lock else None,
        "deployment": {k: record.get(k) for k in ("deployment_id", "status", "image", "from_color", "to_color",
                                                  "started_at", "finished_at", "reason", "keep_warm_until_iso",
                                                  "next_step", "who")} if record else None,
    }
    if record.get("status") == "keeping-warm":
        out["keep_warm_seconds_left"] = max(0, round(float(record["keep_warm_until"]) - time.time()))
    dns = session.spec.dns
    if dns is not None and record.get("finished_at") or (dns is not None and record.get("status") == "keeping-warm"):
        out["dns_note"] = (f"resolvers may serve the old answer for up to the TTL ({dns.ttl:.0f}s) after the last "
                           "weight change; clients that ignore TTLs may keep it longer")
        changed = _last_weight_change(session, record)
        if changed is not None:
            left = max(0, round(float(dns.ttl or 0) - (time.time() - changed)))
            out["dns_old_answer_seconds_left"] = left
            out["dns_note"] += (f": {left}s left" if left else ": the TTL has passed since the last change")
    return out


def _last_weight_change(session: Session, record: dict[str, Any]) -> float | None:
    """When the record weights last changed (deploy step or rollback), from the journal's timestamps."""
    if not record.get("plan"):
        return None
    plan = Plan.model_validate_json(record["plan"])
    ids = {s.id for s in plan.steps if s.kind == "set-record-weights"}
    ids |= {f"undo-{i}" for i in ids}
    times = [e["time"] for e in session.entries(record["deployment_id"])
             if e.get("event") in ("step.succeeded", "rollback.succeeded") and e.get("step") in ids and e.get("time")]
    return datetime.fromisoformat(max(times).replace("Z", "+00:00")).timestamp() if times else None
