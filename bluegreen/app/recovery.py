"""After `deploy`: promote, resume, abort, rollback, finalize.

Each takes the service's lock first and reads the deployment record inside it, so what it decides
on is what no other run can change meanwhile. Every way back to the old color is the runner's one
`roll_back`; every exit code comes from `outcomes.conclude`.

    promote   paused                      -> running from the paused step
    resume    paused                      -> promote
              running                     -> on from the step after the last that succeeded
              rolling-back                -> the rollback again, from the journal
    abort     running, paused, rolling-back, rollback-failed -> rolled back
    rollback  the same, and failed        -> rolled back
              keeping-warm                -> one traffic change back (finalize's steps left alone)
              succeeded                   -> a new deployment of what was live before it: the recorded
                                             image, revision and count (`redeploy`)
              --to TAG|DIGEST             -> a new deployment of the revision recorded with that image
    finalize  keeping-warm, deadline past -> the old color scaled down, drained; succeeded
"""

from __future__ import annotations

from bluegreen.app import redeploy
from bluegreen.app.deploy import deploy_locked
from bluegreen.app.outcomes import conclude
from bluegreen.app.redeploy import Recorded
from bluegreen.app.session import Session
from bluegreen.domain.deployment import Deployment, Status
from bluegreen.errors import InvalidInput


def promote(session: Session, *, wait_finalize: bool = False, full: bool = False) -> int:
    """Continue a paused deployment to its next pause (`full`: to the end, past every pause)."""
    with session.locked("promote"):
        return _promote(session, _current(session), wait_finalize, full)


def resume(session: Session, *, wait_finalize: bool = False) -> int:
    with session.locked("resume"):
        if _died_before_recording(session) or _nothing_recorded(session, "resume"):
            return 0
        record = _current(session)
        if record.status is Status.PAUSED:
            return _promote(session, record, wait_finalize)
        if record.status is Status.ROLLING_BACK:
            return _roll_back(session, record, "resuming an interrupted rollback")
        if record.status is not Status.RUNNING:
            raise InvalidInput(f"{session.service}: nothing to resume (deployment {record.id} is {record.status})")
        runner = session.runner(record.plan, record)
        start = runner.journaled.resume_index(record.plan)
        session.events.emit("deploy.resumed", f"resuming {record.id} at step {start + 1}")
        return conclude(runner.run(record, start=start, wait_finalize=wait_finalize))


def abort(session: Session) -> int:
    with session.locked("abort"):
        record = _current(session)
        if not record.status.in_flight:
            raise InvalidInput(f"{session.service}: deployment {record.id} is {record.status}; nothing to abort "
                               "(use rollback to undo a finished deployment)")
        return _roll_back(session, record, "aborted by request")


def rollback(session: Session, *, to: str | None = None) -> int:
    """Put production traffic back on the last good color, whatever state things are in."""
    with session.locked("rollback"):
        if to is None and (_died_before_recording(session) or _nothing_recorded(session, "roll back")):
            return 0
        record = _current(session)
        if to is not None:
            return _redeploy(session, _recorded_with(session, to))
        if record.status.in_flight or record.status is Status.FAILED:
            return _roll_back(session, record, "rollback requested")
        if record.status is Status.KEEPING_WARM:
            return _roll_back(session, record, "rollback requested while the old color is warm", keep_finalize=True)
        if record.status is Status.SUCCEEDED:
            previous = redeploy.live_before(record) or _previous_good_image(session, record)
            if previous is None:
                raise InvalidInput(f"{session.service}: deployment {record.id} recorded nothing of what ran "
                                   "before it; use --to TAG|DIGEST")
            return _redeploy(session, previous)
        raise InvalidInput(f"{session.service}: deployment {record.id} is {record.status}: "
                           "traffic is already on the previous color")


def finalize(session: Session, *, now: bool = False) -> int:
    with session.locked("finalize"):
        record = _current(session)
        if record.status is not Status.KEEPING_WARM:
            session.events.emit("finalize.noop", f"nothing to finalize: deployment {record.id} is {record.status}")
            return 0
        left = (record.keep_warm_until or 0.0) - session.ctx.wall_clock()
        if left > 0 and not now:
            session.events.emit("finalize.waiting", f"{record.plan.live_color} is kept warm for {left:.0f}s more "
                                f"(until {record.keep_warm_until_iso}); nothing to do yet (--now to force)")
            return 0
        outcome = session.runner(record.plan, record).finalize(record)
        session.events.emit("finalize.done", f"{record.plan.live_color} scaled down; deployment {record.id} complete")
        return conclude(outcome)


# --- shared ------------------------------------------------------------------------------------------


def _died_before_recording(session: Session) -> bool:
    """A deploy killed after it took the lock and before it wrote its record changed nothing in AWS (the
    record is written before the first step): clearing its lock, which `locked` did, is the whole recovery."""
    dead = session.dead_holder
    if dead is None or dead.operation != "deploy" or session.records.get(dead.deployment_id) is not None:
        return False
    session.events.emit("recovery.nothing-to-undo", f"deploy {dead.deployment_id} (pid {dead.pid}) died before it "
                        "recorded or changed anything; its lock is cleared and there is nothing to undo")
    return True


def _nothing_recorded(session: Session, verb: str) -> bool:
    """No deployment was ever recorded (e.g. a deploy killed before it took the lock): production is untouched."""
    if session.records.current() is not None:
        return False
    session.events.emit("recovery.nothing-to-undo", f"nothing to {verb}: no deployment of {session.service} is "
                        "recorded, so none changed anything")
    return True


def _current(session: Session) -> Deployment:
    record = session.records.current()
    if record is None:
        raise InvalidInput(f"{session.service}: no deployment recorded yet")
    return record


def _promote(session: Session, record: Deployment, wait_finalize: bool, full: bool = False) -> int:
    if record.status is not Status.PAUSED:
        raise InvalidInput(f"{session.service}: deployment {record.id} is {record.status}, not paused")
    ahead = {step.id for step in record.plan.steps[record.next_step + 1:]}
    later = [] if full else [p for p in record.pause_before if p in ahead]
    record = record.to(Status.RUNNING, promoted=True, passed_pause=record.next_step, auto_promote_at=None,
                       pause_before=record.pause_before if not full else ())
    session.records.save(record)
    upto = f"to the next pause (before {later[0]})" if later else "to the end"
    session.events.emit("deploy.promoted", f"promoting {record.id}: continuing {upto}")
    runner = session.runner(record.plan, record)
    return conclude(runner.run(record, start=record.next_step, wait_finalize=wait_finalize))


def _roll_back(session: Session, record: Deployment, reason: str, *, keep_finalize: bool = False) -> int:
    runner = session.runner(record.plan, record)
    return conclude(runner.roll_back(record, reason, requested=True, keep_finalize=keep_finalize), requested=True)


def _previous_good_image(session: Session, record: Deployment) -> Recorded | None:
    """For records written before `live_before` existed: the newest other image history calls good."""
    for item in session.records.history(limit=50):
        if item.get("result") == "succeeded" and item.get("image") and item.get("image") != record.image:
            image = Recorded(image=str(item["image"]))
            return redeploy.find(session, image.digest) or image
    return None


def _recorded_with(session: Session, image: str) -> Recorded:
    """`--to TAG|DIGEST`: the newest recorded version of that image (its revision and count), else the image."""
    reference = image.split("@", 1)[-1]
    digest = reference if reference.startswith("sha256:") else None
    if digest is None:
        from bluegreen.adapters.ecr import Ecr

        digest = Ecr(session.aws()).describe_image(session.spec.image.repository, reference)
        if digest is None:
            raise InvalidInput(f"{session.service}: no image tagged {reference} in ECR repository "
                               f"{session.spec.image.repository}")
    return redeploy.find(session, digest, reference) or Recorded(image=digest)


def _redeploy(session: Session, recorded: Recorded) -> int:
    """Deploy a recorded version again, under this lock: its image, and its revision and count when recorded."""
    reference = recorded.digest
    tag = reference
    if reference.startswith("sha256:"):
        from bluegreen.adapters.ecr import Ecr

        tags = Ecr(session.aws()).tags_of(session.spec.image.repository, reference)
        if not tags:
            raise InvalidInput(f"{session.service}: no tag in ECR repository {session.spec.image.repository} "
                               f"points at {reference[:19]}...; pass --to TAG")
        tag = sorted(tags)[0]
    if recorded.revision:
        what = f"redeploying {recorded.describe()}"
    else:
        what = f"redeploying {recorded.image} (tag {tag}) with the current spec: no revision of it is recorded"
    session.events.emit("rollback.redeploy", f"the old version is no longer running: {what}")
    return deploy_locked(session, session.new_id(), image_tag=tag,
                         revise=lambda plan: redeploy.pinned(plan, recorded))
