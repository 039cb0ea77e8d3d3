"""`status` of a deployment whose traffic AWS moves itself (`ecs-native`, `ecs-codedeploy`): AWS's own
deployment, named by the start step's journaled output (the ECS service deployment ARN, the CodeDeploy
deployment id) and read live. Status is read-only and must answer even when AWS does not: a failed read
is said, never raised.
"""

from __future__ import annotations

from typing import Any

from bluegreen.app.session import Session
from bluegreen.domain.deployment import Deployment

ENGINES = {"start-service-deployment": "ECS service deployment", "start-codedeploy-deployment": "CodeDeploy deployment"}


def aws_deployment(session: Session, record: Deployment) -> dict[str, Any] | None:
    """{"engine", "id", "state"} of the AWS deployment the record started; None for other strategies."""
    start = next((s for s in record.plan.steps if s.kind in ENGINES), None)
    if start is None:
        return None
    started = started_id(session, record, start.id)
    out: dict[str, Any] = {"engine": ENGINES[start.kind], "id": started, "state": None, "read": False}
    if started is None:
        out["state"] = "not started by this deployment yet"
        return out
    try:
        out["state"] = _read(session, start, started)
        out["read"] = True
    # Any failure (denied, throttled, unreachable, an answer of an unexpected shape) only means the
    # live state is unknown; the rest of `status` comes from the store and discovery.
    except Exception as exc:  # noqa: BLE001
        out["state"] = f"could not be read ({type(exc).__name__}: {str(exc)[:160]})"
    return out


def started_id(session: Session, record: Deployment, step_id: str) -> str | None:
    """The start step's output, as the journal holds it (the last success wins: a resumed start)."""
    found: str | None = None
    for entry in session.entries(record.id):
        if entry.get("event") == "step.succeeded" and entry.get("step") == step_id and entry.get("output"):
            found = str(entry["output"])
    return found


def _read(session: Session, start: Any, started: str) -> str:
    actions = session.aws_actions()
    if start.kind == "start-service-deployment":
        view = actions.native.describe(started)
        if view is None:
            return "not found"
        where = f" at {view.stage}" if view.stage and not view.finished else ""
        waiting = ", PAUSE hook awaiting action" if view.awaiting else ""
        why = f" ({view.rollback_reason or view.reason})" if view.rolled_back and (view.rollback_reason or view.reason) \
            else ""
        return f"{view.status}{where}{waiting}{why}"
    progress = actions.codedeploy.progress(started, start.cluster, start.service)
    event = progress.current_event()
    if progress.ready:  # what it waits for is the reroute, whatever event stands in progress meanwhile
        shown = f"{progress.status}, waiting for the reroute"
    elif progress.termination_wait_started and not progress.done:
        shown = f"{progress.status}, in its termination wait"
    else:
        shown = progress.status + (f", event {event}" if event else "")
    return shown + (f" ({progress.error})" if progress.error else "")
