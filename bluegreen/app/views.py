"""Read-only: `status` (live state from AWS with the deployment record) and `history`, as plain data.

The CLI's renderers (`cli/render/status.py`, `cli/render/history.py`) turn these into text; JSON is
these dicts as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bluegreen.app.ci import state_backend
from bluegreen.app.plans import plan_specs
from bluegreen.app.session import Session
from bluegreen.domain.deployment import Deployment, Status

_SHOWN = ("deployment_id", "status", "image", "from_color", "to_color", "started_at", "finished_at", "reason",
          "keep_warm_until_iso", "next_step", "who")


def status(session: Session) -> dict[str, Any]:
    """Live color, weights and health from AWS, plus the in-flight or latest deployment from the store."""
    live = plan_specs(session.ctx, [session.loaded])[0]
    record = session.records.current()
    lock = session.store.read(session.service)  # type: ignore[union-attr]
    out: dict[str, Any] = {
        "service": session.service, "strategy": live.strategy.value if live.strategy else None,
        "live_color": live.live_color, "state": live.state,
        "health": [c.model_dump() for c in live.checks if c.name != "image"],
        "problems": live.errors, "lock": lock.describe() if lock else None,
        "deployment": _shown(record) if record else None,
        "state_backend": state_backend(session.spec.state),  # where the lock and record above were read
    }
    if record is None:
        return out
    now = session.ctx.wall_clock()
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
