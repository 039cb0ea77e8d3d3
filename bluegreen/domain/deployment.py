"""A deployment's record: what is deployed, by whom, where it stands, and what was live before it.

The record's `status` moves only along `TRANSITIONS`, in one table:

    running ---------> paused -----------> running            (promote)
       |  \\---------> keeping-warm ------> succeeded          (finalize, or the next deploy)
       |   \\--------> succeeded
       |    \\-------> failed (automatic rollback off)
       v
    rolling-back ----> rolled-back | rollback-failed
       ^   from running, paused, keeping-warm, failed, rollback-failed, and itself (a resumed rollback)

A transition outside the table raises `IllegalTransition`: that is a bug in bluegreen, not a user
error, so it is not part of the exit-code family. On disk a record stays a plain dict (`to_record`),
with the keys and status strings earlier versions wrote, and records they wrote load (`from_record`).
"""

from __future__ import annotations

import re
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Mapping

from pydantic import BaseModel, ConfigDict, field_serializer, field_validator, model_validator

from bluegreen.domain.colors import Color
from bluegreen.domain.plan import Plan
from bluegreen.domain.spec import EcsService, EcsServices, Spec, Strategy
from bluegreen.domain.steps import RegisterTaskDefinition


class Status(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    ROLLING_BACK = "rolling-back"
    ROLLBACK_FAILED = "rollback-failed"
    KEEPING_WARM = "keeping-warm"
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # failed with automatic rollback off: traffic was left where it was
    ROLLED_BACK = "rolled-back"

    @property
    def in_flight(self) -> bool:
        """A deployment in this state blocks the next one until it is promoted, resumed or rolled back."""
        return self in IN_FLIGHT


IN_FLIGHT = frozenset({Status.RUNNING, Status.PAUSED, Status.ROLLING_BACK, Status.ROLLBACK_FAILED})

S = Status
TRANSITIONS: Mapping[Status, frozenset[Status]] = MappingProxyType({
    S.RUNNING: frozenset({S.PAUSED, S.KEEPING_WARM, S.SUCCEEDED, S.ROLLING_BACK, S.FAILED}),
    S.PAUSED: frozenset({S.RUNNING, S.ROLLING_BACK}),
    # A rollback killed half-way is started again from the journal: rolling-back -> rolling-back.
    S.ROLLING_BACK: frozenset({S.ROLLED_BACK, S.ROLLBACK_FAILED, S.ROLLING_BACK}),
    S.ROLLBACK_FAILED: frozenset({S.ROLLING_BACK}),
    S.KEEPING_WARM: frozenset({S.SUCCEEDED, S.ROLLING_BACK}),
    S.FAILED: frozenset({S.ROLLING_BACK}),
    S.SUCCEEDED: frozenset(),  # a later rollback is a new deployment of the earlier image
    S.ROLLED_BACK: frozenset(),
})
del S


class IllegalTransition(RuntimeError):
    """A status change the table does not allow: a bug in bluegreen, never a user error."""

    def __init__(self, deployment_id: str, current: Status, wanted: Status) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final)"
        super().__init__(f"deployment {deployment_id}: {current} -> {wanted} is not an allowed transition "
                         f"(from {current}: {allowed})")
        self.current, self.wanted = current, wanted


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class LiveBefore(_Frozen):
    """What production ran before this deployment changed anything: where a rollback returns to."""

    color: Color | None = None  # None when there is one environment (ECS task-definition swap)
    resource: str | None = None  # "ecs service web-blue", "asg legacy-blue"
    image: str | None = None
    task_definition: str | None = None  # the live revision's ARN (ECS)
    launch_template_version: str | None = None  # the live group's version (Auto Scaling)
    desired_count: int | None = None


class Deployment(_Frozen):
    """One deployment of one service, as the state store keeps it. Immutable: changes return a copy."""

    id: str
    service: str
    status: Status
    operation: str = "deploy"
    strategy: Strategy | None = None
    from_color: Color | None = None
    to_color: Color | None = None
    image: str | None = None  # repository@sha256:..., None for a configuration-only change
    plan: Plan
    next_step: int = 0  # index of the next step to run (where a paused deployment continues)
    who: str = ""
    spec_path: str = ""
    started_at: str = ""
    started_epoch: float | None = None
    finished_at: str | None = None
    reason: str = ""
    keep_warm_until: float | None = None  # epoch seconds: `finalize` may scale the old color down after it
    keep_warm_until_iso: str | None = None
    promoted: bool = False
    pause_before: tuple[str, ...] = ()  # step ids this deployment stops before for a person's decision
    passed_pause: int | None = None  # the step index of the pause last promoted past (it does not stop again)
    auto_promote_after: float | None = None  # seconds each pause waits before promoting itself
    auto_promote_at: float | None = None  # epoch seconds, while a pause with a timer counts down
    rollback_failures: tuple[str, ...] = ()
    finalized: str | None = None
    history_written: bool = False
    live_before: LiveBefore | None = None

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, data: Any) -> Any:
        # Early records carry the id twice (`id` and `deployment_id`); some only the latter.
        if isinstance(data, Mapping) and "id" not in data and data.get("deployment_id"):
            return {**data, "id": data["deployment_id"]}
        return data

    @field_validator("plan", mode="before")
    @classmethod
    def _plan_from_json(cls, value: Any) -> Any:
        return Plan.model_validate_json(value) if isinstance(value, (str, bytes)) else value

    @field_serializer("plan")
    def _plan_as_json(self, plan: Plan) -> str:
        return plan.model_dump_json()  # stored as one string, as before: the stores never look inside

    # --- the one way the status changes -------------------------------------------------------

    def to(self, status: Status, **changes: Any) -> "Deployment":
        """This record in `status` (and with `changes`); raises `IllegalTransition` off the table."""
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(self.id, self.status, status)
        return self._copy({**changes, "status": status})

    def with_(self, **changes: Any) -> "Deployment":
        """This record with other fields changed; the status only changes through `to`."""
        if "status" in changes:
            raise ValueError("change the status with Deployment.to, which checks the transition table")
        return self._copy(changes)

    def _copy(self, changes: dict[str, Any]) -> "Deployment":
        unknown = set(changes) - set(type(self).model_fields)
        if unknown:
            raise TypeError(f"Deployment has no field {', '.join(sorted(unknown))}")
        return self.model_copy(update=changes)

    # --- storage --------------------------------------------------------------------------------

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "Deployment":
        return cls.model_validate(record)

    def to_record(self) -> dict[str, Any]:
        """The dict the stores keep: every field, plus `deployment_id` (what readers of old records use)."""
        return {"deployment_id": self.id, **self.model_dump(mode="json")}

    def history_entry(self, result: str, reason: str, *, now: float, now_iso: str,
                      operation: str | None = None) -> dict[str, Any]:
        """One line of the service's history: who deployed what, how it ended, how long it took."""
        started = self.started_epoch if self.started_epoch is not None else now
        return {"deployment_id": self.id, "operation": operation or self.operation, "result": result,
                "reason": reason, "who": self.who, "image": self.image,
                "strategy": self.strategy.value if self.strategy else None,
                "from_color": self.from_color.value if self.from_color else None,
                "to_color": self.to_color.value if self.to_color else None,
                "started_at": self.started_at, "finished_at": now_iso, "seconds": round(now - started, 1)}


# --- what was live before -------------------------------------------------------------------------

_DESIRED = re.compile(r"\bdesired=(\d+)")
_GROUP = re.compile(r"\blt=[^\s:]+:(\S+) capacity=\d+/(\d+)/\d+")


def live_before(spec: Spec, plan: Plan) -> LiveBefore:
    """The live color's image, revision and count, from the plan (the snapshot facts it was made from).

    The facts are those the plan's drift check compares, so they describe the world the steps start from.
    """
    color = Color(plan.live_color) if plan.live_color else None
    image = next((c.before for c in plan.changes if c.field == "image"), None)
    register = next((s for s in plan.steps if isinstance(s, RegisterTaskDefinition)), None)
    if image is None and register is not None:
        image = register.image  # a configuration-only change keeps the live image
    before = LiveBefore(color=color, image=image)
    ecs, asg = spec.ecs, spec.asg
    if isinstance(ecs, EcsService):
        return _ecs_before(before, ecs.service, plan, register)
    if isinstance(ecs, EcsServices) and color is not None:
        return _ecs_before(before, ecs.services.of(color), plan, register)
    if asg is not None and color is not None:
        return _asg_before(before, asg.group_name(color), plan)
    return before


def _ecs_before(before: LiveBefore, service: str, plan: Plan, register: RegisterTaskDefinition | None) -> LiveBefore:
    fact = plan.facts.get(f"ecs service {service}", "")  # "web:3 desired=2"
    desired = _DESIRED.search(fact)
    # The new revision is copied from the live one: its base is the live revision's full ARN.
    revision = register.base_arn if register is not None else (fact.split(" ", 1)[0] or None)
    return before.model_copy(update={"resource": f"ecs service {service}", "task_definition": revision,
                                     "desired_count": int(desired.group(1)) if desired else None})


def _asg_before(before: LiveBefore, group: str, plan: Plan) -> LiveBefore:
    found = _GROUP.search(plan.facts.get(f"asg {group}", ""))  # "lt=legacy:7 capacity=2/3/6 ..."
    return before.model_copy(update={"resource": f"asg {group}",
                                     "launch_template_version": found.group(1) if found else None,
                                     "desired_count": int(found.group(2)) if found else None})


def started_record(*, deployment_id: str, spec: Spec, plan: Plan, spec_path: str, who: str, now: float,
                   now_iso: str) -> Deployment:
    """The record of a deployment that is about to run its first step."""
    return Deployment(
        id=deployment_id, service=spec.service, status=Status.RUNNING, operation="deploy", strategy=plan.strategy,
        from_color=plan.live_color, to_color=plan.target_color, image=plan.image.pinned if plan.image else None,
        plan=plan, next_step=0, who=who, spec_path=spec_path, started_at=now_iso, started_epoch=now,
        live_before=live_before(spec, plan))
