"""Read-only: `status` (live state from AWS with the deployment record) and `history`, as plain data.

The CLI's renderers (`cli/render/status.py`, `cli/render/history.py`) turn these into text; JSON is
these dicts as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bluegreen.app.ci import state_backend
from bluegreen.app.plans import plan_specs
from bluegreen.app.session import Session, holder_is_dead
from bluegreen.app.views_aws import aws_deployment
from bluegreen.domain.deployment import Deployment, Status
from bluegreen.state.store import LockInfo

_SHOWN = ("deployment_id", "status", "image", "from_color", "to_color", "started_at", "finished_at", "reason",
          "keep_warm_until_iso", "next_step", "who")


def status(session: Session) -> dict[str, Any]:
    """Live color, weights and health from AWS, plus the in-flight or latest deployment from the store."""
    live = plan_specs(session.ctx, [session.loaded])[0]
    record = session.records.current()
    lock = session.store.read(session.service)  # type: ignore[union-attr]
    now = session.ctx.wall_clock()
    dead = lock is not None and holder_is_dead(lock, session.ctx.identity.host)
    out: dict[str, Any] = {
        "service": session.service, "strategy": live.strategy.value if live.strategy else None,
        "live_color": live.live_color, "state": live.state,
        "health": [c.model_dump() for c in live.checks if c.name != "image"],
        "problems": live.errors,
        "lock": (lock.describe() + ("; its holder process is dead" if dead else "")) if lock else None,
        "lock_holder_dead": dead,
        "deployment": _shown(record) if record else None,
        "state_backend": state_backend(session.spec.state),  # where the lock and record above were read
    }
    running = lock is not None and not dead and not lock.expired(now)
    out["commands"] = commands(session.service, record, lock if running else None)
    if record is None:
        return out
    engine = aws_deployment(session, record)
    if engine is not None:
        out["aws_deployment"] = engine
    if record.status.in_flight:
        # The split weights are this deployment's own: production's color is still the one it started from,
        # and the planner's "a deployment is in flight" refusal only restates the record shown here.
        out["live_color"] = out["live_color"] or (str(record.from_color) if record.from_color else None)
        out["problems"] = [p for p in live.errors if "in flight" not in p]
        out["in_flight"] = in_flight(session, record)
    if record.status is Status.PAUSED:
        out["paused"] = paused(record, now)
    if record.status is Status.KEEPING_WARM:
        out["keep_warm_seconds_left"] = max(0, round((record.keep_warm_until or 0.0) - now))
    dns = session.spec.dns
    if dns is not None and (record.finished_at or record.status is Status.KEEPING_WARM):
        out["dns_note"] = (f"resolvers may serve the old answer for up to the TTL ({dns.ttl:.0f}s) after the last "
                           "weight change; clients that ignore TTLs may keep it longer")
        changed = _last_weight_change(session, record)
        if changed is not None:
            left = max(0, round(float(dns.ttl or 0) - (now - changed)))
            out["dns_old_answer_seconds_left"] = left
            out["dns_note"] += (f": {left}s left" if left else ": the TTL has passed since the last change")
    return out


def paused(record: Deployment, now: float) -> dict[str, Any]:
    """Where a paused deployment stands: the step it waits before, later pauses, the auto-promotion countdown."""
    steps = record.plan.steps
    index = min(record.next_step, len(steps) - 1)
    ahead = {step.id for step in steps[index + 1:]}
    out: dict[str, Any] = {"before_step": steps[index].id, "step": f"{index + 1}/{len(steps)}",
                           "later_pauses": [p for p in record.pause_before if p in ahead]}
    if record.auto_promote_at is not None:
        out["auto_promote_seconds_left"] = max(0, round(record.auto_promote_at - now))
    return out


def in_flight(session: Session, record: Deployment) -> str:
    """`step 9/15: bake 2m watching ...` (the step started last and not finished), from the journal."""
    steps = record.plan.steps
    started: str | None = None
    for entry in session.entries(record.id):
        event = entry.get("event", "")
        if event in ("step.started", "rollback.started"):
            started = entry.get("step")
        elif event in ("step.succeeded", "step.failed", "rollback.succeeded", "rollback.failed") \
                and entry.get("step") == started:
            started = None
    index = next((i for i, s in enumerate(steps) if s.id == started), None)
    if index is not None:
        return f"step {index + 1}/{len(steps)}: {steps[index].describe()}"
    if started:
        return f"rollback: {started}"
    return f"between steps: next is step {min(record.next_step, len(steps)) + 1}/{len(steps)}" if steps else ""


def commands(service: str, record: Deployment | None, holder: LockInfo | None) -> list[str]:
    """Only the commands that apply now; none while a live run holds the lock (they would exit 4)."""
    if holder is not None:
        return []
    if record is None:
        return [f"bluegreen deploy {service}"]
    by_status = {
        Status.RUNNING: ["resume", "rollback"], Status.PAUSED: ["promote", "abort"],
        Status.ROLLING_BACK: ["resume", "rollback"], Status.ROLLBACK_FAILED: ["rollback"],
        Status.FAILED: ["rollback"], Status.KEEPING_WARM: ["finalize", "rollback"],
        Status.SUCCEEDED: ["rollback"], Status.ROLLED_BACK: ["deploy"],
    }
    return [f"bluegreen {name} {service}" for name in by_status[record.status]]


def history(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """Past deployments, newest first: who, which image digest, strategy, result, timings."""
    return session.records.history(limit=limit)


def _shown(record: Deployment) -> dict[str, Any]:
    stored = record.to_record()
    return {key: stored.get(key) for key in _SHOWN}


def _last_weight_change(session: Session, record: Deployment) -> float | None:
    """When the record weights last changed (deploy step or rollback), from the journal's timestamps."""
    ids = {s.id for s in record.plan.steps if s.kind == "set-record-weights"}
    ids |= {f"undo-{i}" for i in ids}
    times = [e["time"] for e in session.entries(record.id)
             if e.get("event") in ("step.succeeded", "rollback.succeeded") and e.get("step") in ids and e.get("time")]
    return datetime.fromisoformat(max(times).replace("Z", "+00:00")).timestamp() if times else None
