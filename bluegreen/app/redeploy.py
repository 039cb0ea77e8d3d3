"""Going back to a version that ran before: what was recorded of it, and the plan that runs exactly that.

A rollback after the old color is gone (finalized, or a task-definition swap that replaced the one
service's revision) is a new deployment. It must bring back what really ran, not the current spec
with an older image: the recorded task-definition revision (or launch-template version) and its
count. Two places record versions:

    record.live_before     what production ran before that deployment (image, revision, count)
    the record's journal   what that deployment itself registered (`register-task-definition`'s
                           output, `create-launch-template-version`'s), with its plan's count

`pinned` rewrites a fresh plan for the old image so that it registers nothing and runs the recorded
revision with the recorded count; every gate, traffic step and inverse of the fresh plan is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bluegreen.domain.deployment import Deployment
from bluegreen.domain.plan import Plan
from bluegreen.domain.steps import (
    CreateLaunchTemplateVersion, RegisterTaskDefinition, StartServiceDeployment, Step, UpdateService,
    WaitServiceStable, WaitTargetsHealthy,
)

if TYPE_CHECKING:
    from bluegreen.app.session import Session

_PRODUCERS = (RegisterTaskDefinition, CreateLaunchTemplateVersion)


@dataclass(frozen=True)
class Recorded:
    """A version that ran: its image, and the revision (ECS) or template version (Auto Scaling) it ran as."""

    image: str  # repository@sha256:...
    revision: str | None = None  # task-definition ARN, or launch-template version number
    desired_count: int | None = None
    source: str = ""  # where it was recorded, for the message

    @property
    def digest(self) -> str:
        """`sha256:...`, or the tag of an image recorded by tag (`repo:v1` -> `v1`)."""
        if "@" in self.image or self.image.startswith("sha256:"):
            return self.image.rsplit("@", 1)[-1]
        name = self.image.rsplit("/", 1)[-1]
        return name.split(":", 1)[1] if ":" in name else name

    def describe(self) -> str:
        parts = [self.image]
        if self.revision:
            parts.append(f"as {self.revision.rsplit('/', 1)[-1]}")
        if self.desired_count is not None:
            parts.append(f"x{self.desired_count}")
        return " ".join(parts) + (f" ({self.source})" if self.source else "")


def live_before(record: Deployment) -> Recorded | None:
    """What production ran before `record` changed anything, if the record kept it."""
    before = record.live_before
    if before is None or not before.image:
        return None
    return Recorded(image=before.image, revision=before.task_definition or before.launch_template_version,
                    desired_count=before.desired_count, source=f"live before deployment {record.id}")


def deployed_by(session: "Session", record: Deployment) -> Recorded | None:
    """What `record` itself deployed: its image, the revision its journal says it registered, its count."""
    if not record.image:
        return None
    producer = next((s for s in record.plan.steps if isinstance(s, _PRODUCERS)), None)
    revision = None
    if producer is not None:
        revision = next((e.get("output") for e in session.entries(record.id)
                         if e.get("event") == "step.succeeded" and e.get("step") == producer.id and e.get("output")),
                        None)
    count = next((s.desired_count for s in record.plan.steps
                  if isinstance(s, (UpdateService, StartServiceDeployment)) and producer is not None
                  and s.task_definition == f"@{producer.id}"),
                 None)
    return Recorded(image=record.image, revision=revision, desired_count=count if revision else None,
                    source=f"deployed by {record.id}")


def find(session: "Session", *references: str) -> Recorded | None:
    """The newest recorded version whose image is one of `references` (its digest, or the tag it was
    recorded by), with a revision when one is known."""
    wanted = {r for r in references if r}
    found: Recorded | None = None
    for record in _records(session):
        for candidate in (deployed_by(session, record), live_before(record)):
            if candidate is not None and candidate.digest in wanted:
                if candidate.revision:
                    return candidate
                found = found or candidate
    return found


def _records(session: "Session") -> list[Deployment]:
    """The current record, then those of the history (newest first), each once."""
    seen: set[str] = set()
    out: list[Deployment] = []
    current = session.records.current()
    ids = ([current.id] if current else []) + [str(h.get("deployment_id")) for h in session.records.history(limit=50)]
    for deployment_id in ids:
        if deployment_id in seen or not deployment_id:
            continue
        seen.add(deployment_id)
        record = current if current is not None and current.id == deployment_id else session.records.get(deployment_id)
        if record is not None:
            out.append(record)
    return out


def pinned(plan: Plan, recorded: Recorded) -> Plan:
    """`plan` running `recorded.revision` (registering nothing) with `recorded.desired_count`."""
    producer = next((s for s in plan.steps if isinstance(s, _PRODUCERS)), None)
    if producer is None or not recorded.revision:
        return plan
    reference = f"@{producer.id}"
    steps: list[Step] = []
    for step in plan.steps:
        if step is producer:
            continue
        steps.append(_resolved(step, reference, recorded))
    return plan.model_copy(update={"steps": steps})


def _resolved(step: Step, reference: str, recorded: Recorded) -> Step:
    changes: dict[str, Any] = {name: recorded.revision for name in type(step).model_fields
                               if getattr(step, name) == reference}
    count = recorded.desired_count
    if count is not None and changes and isinstance(step, (UpdateService, WaitServiceStable, StartServiceDeployment)):
        changes["desired_count"] = count
    if count is not None and isinstance(step, WaitTargetsHealthy) and step.phase == "rollout":
        changes["min_healthy"] = max(1, min(step.min_healthy, count))
    return step.model_copy(update=changes) if changes else step
