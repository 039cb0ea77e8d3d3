"""`deploy`: lock -> refuse if one is in flight -> (build) -> discover and plan (or a saved plan,
checked for drift) -> record -> run the plan -> exit code.

    with session.locked("deploy"):
        current record in flight?      -> exit 4, naming it
        build and push (--build)
        plan                           -> nothing to do: exit 0
        deploy_plan:
          the warm deployment before   -> succeeded (superseded: this one goes to its warm color)
          record (running) and run     -> paused | keeping-warm | succeeded | rolled back (1) | not (3)
"""

from __future__ import annotations

from typing import Callable

from bluegreen.app.outcomes import conclude
from bluegreen.app.plans import aws_failure, plan_specs
from bluegreen.app.session import Session
from bluegreen.domain.deployment import Deployment, Status, started_record
from bluegreen.domain.plan import Plan
from bluegreen.domain.plan import load as load_plan_file
from bluegreen.domain.snapshot import diff_facts
from bluegreen.errors import InvalidInput, LockHeld
from bluegreen.planning.judgement import UnknownStep, pause_points


def deploy(session: Session, *, image_tag: str | None, plan_file: str | None = None, build: bool = False,
           registry: str | None = None, pause_before_shift: bool = False, wait_finalize: bool = False,
           pause_before: tuple[str, ...] = ()) -> int:
    deployment_id = session.new_id()
    with session.locked("deploy", deployment_id):
        return deploy_locked(session, deployment_id, image_tag=image_tag, plan_file=plan_file, build=build,
                             registry=registry, pause_before_shift=pause_before_shift, wait_finalize=wait_finalize,
                             pause_before=pause_before)


def deploy_locked(session: Session, deployment_id: str, *, image_tag: str | None, plan_file: str | None = None,
                  build: bool = False, registry: str | None = None, pause_before_shift: bool = False,
                  wait_finalize: bool = False, revise: Callable[[Plan], Plan] | None = None,
                  pause_before: tuple[str, ...] = ()) -> int:
    """`deploy` for a caller already holding the service's lock (e.g. `rollback` redeploying an image;
    `revise` then pins the fresh plan to the recorded revision)."""
    current = session.records.current()
    refuse_if_in_flight(session, current)
    if build:
        from bluegreen.app.images import build_and_push

        result = build_and_push(session.aws(), session.spec, session.loaded.path, image_tag or "latest",
                                events=session.events, registry=registry,
                                git_commit=session.ctx.identity.git_commit)
        image_tag = result.tag
    plan = _plan(session, image_tag, plan_file)
    if revise is not None:
        plan = revise(plan)
    if not plan.steps:
        session.events.emit("deploy.noop", "nothing to deploy: the live version already matches")
        return 0
    return deploy_plan(session, plan, deployment_id, current=current, pause_before_shift=pause_before_shift,
                       wait_finalize=wait_finalize, pause_before=pause_before)


def deploy_plan(session: Session, plan: Plan, deployment_id: str, *, current: Deployment | None,
                pause_before_shift: bool = False, wait_finalize: bool = False,
                pause_before: tuple[str, ...] = ()) -> int:
    """Record a new deployment of `plan` and run it (the lock held; `current` is not in flight)."""
    judgement = session.spec.judgement
    try:  # before anything is recorded or changed: a pause naming no step is bad input
        pauses = pause_points(plan.steps, [*judgement.pause_before, *pause_before])
    except UnknownStep as unknown:
        raise InvalidInput(f"--pause-before: {unknown}") from None
    if pause_before_shift and not any(s.phase == "shift" and s.pausable for s in plan.steps):
        raise InvalidInput(f"--pause-before-shift: {session.service}'s {plan.strategy.value if plan.strategy else ''} "
                           "deployment has nowhere to pause before production traffic moves (AWS moves it by itself); "
                           "give the service a PAUSE lifecycle hook, or the CodeDeploy group a reroute wait")
    records = session.records
    if current is not None and current.status is Status.KEEPING_WARM:
        # The new deployment goes to the warm color anyway: the old one needs no scale-down.
        records.save(current.to(Status.SUCCEEDED, finalized="superseded by the next deployment"))
    record = started_record(deployment_id=deployment_id, spec=session.spec, plan=plan,
                            spec_path=str(session.loaded.path), who=session.ctx.identity.describe(),
                            now=session.ctx.wall_clock(), now_iso=session.now_iso())
    record = record.with_(pause_before=pauses, auto_promote_after=judgement.auto_promote_after)
    records.start(record)
    _announce(session, record)
    runner = session.runner(plan, record, resumed=False)
    return conclude(runner.run(record, pause_before_shift=pause_before_shift, wait_finalize=wait_finalize))


def refuse_if_in_flight(session: Session, current: Deployment | None) -> None:
    if current is not None and current.status.in_flight:
        raise LockHeld(f"deployment {current.id} of {session.service} is {current.status} "
                       f"(started {current.started_at} by {current.who}): promote, abort, resume "
                       "or roll it back first")


def _announce(session: Session, record: Deployment) -> None:
    plan = record.plan
    strategy = record.strategy.value if record.strategy else None
    session.events.emit("deploy.started", f"deploying {record.image or 'the new configuration'} with "
                        f"{strategy}: {plan.live_color or 'live'} -> {plan.target_color or 'new revision'}",
                        deployment_id=record.id)
    for warning in plan.warnings:  # e.g. a DNS cutover's TTL caveat: the CI log must show it too
        session.events.emit("deploy.warning", f"warning: {warning}")


def _plan(session: Session, image_tag: str | None, plan_file: str | None) -> Plan:
    fresh = plan_specs(session.ctx, [session.loaded], image_tag=image_tag)[0]
    if plan_file:
        saved = next((p for p in load_plan_file(plan_file) if p.service == session.service), None)
        if saved is None:
            raise InvalidInput(f"{plan_file}: holds no plan for service {session.service}")
        if saved.errors or not saved.applicable:
            raise InvalidInput(f"{plan_file}: the saved plan for {saved.service} had errors and cannot be applied")
        if saved.spec_digest != fresh.spec_digest:
            raise InvalidInput(f"{plan_file}: {session.loaded.path} changed since the plan was made; plan again")
        if saved.fingerprint != fresh.fingerprint:
            changed = "; ".join(diff_facts(saved.facts, fresh.facts))
            raise InvalidInput(f"{plan_file}: live state changed since the plan was made ({changed}); plan again")
        return saved
    if fresh.errors:
        failed = aws_failure(session.service, fresh.errors)
        if failed is not None:
            raise failed
        raise InvalidInput(f"{session.service}: cannot deploy: " + "; ".join(fresh.errors), fresh.errors)
    return fresh
