"""The state store's interface: locks, journals, deployment records and history per service.

Two backends implement `Store`: `state.local.LocalStore` (a directory) and
`adapters.aws.dynamo_store.DynamoStore` (one DynamoDB table shared by every machine that deploys).
Locks are leases: `acquire` is one conditional write that succeeds when there is no lock or the
holder's lease has run out (a stale lock is taken over and reported); `renew` and `release` only
work for the owner (same deployment id and acquisition token); `state.lease.LockLease` holds one
while a command runs. The journal is written before and after every step; `state.journal.JournalWriter`
puts a local file behind a remote store.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

from bluegreen.domain.identity import Identity
from bluegreen.errors import InvalidInput, LockHeld

Clock = Callable[[], float]

_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_DEPLOYMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")


# --- small helpers ------------------------------------------------------------------------------


def iso_utc(epoch: float, *, millis: bool = False) -> str:
    """`2026-11-22T21:00:00Z` (or with `.123` milliseconds)."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")


def check_service(service: str) -> str:
    if not isinstance(service, str) or not _SERVICE.match(service):
        raise InvalidInput(f"invalid service name for the state store: {service!r}")
    return service


def check_deployment_id(deployment_id: str) -> str:
    if not isinstance(deployment_id, str) or not _DEPLOYMENT_ID.match(deployment_id):
        raise InvalidInput(
            f"invalid deployment id {deployment_id!r}: letters, digits, '.', '_', ':' and '-' only"
        )
    return deployment_id


def dumps(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)


# --- locks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LockInfo:
    """Who holds (or wants) a service's deployment lock, and until when."""

    service: str
    deployment_id: str
    operation: str  # "deploy", "rollback", "resume", "finalize", ...
    holder: str  # user@host
    host: str
    pid: int
    ci_build: str | None = None
    since: str = ""  # ISO UTC, set by the store when the lock is taken
    expires: float = 0.0  # epoch seconds, set by the store on acquire / renew
    token: str = field(default_factory=lambda: uuid.uuid4().hex)  # this acquisition, for ownership

    @classmethod
    def create(cls, service: str, deployment_id: str, operation: str, who: Identity, *,
               now: float | None = None) -> "LockInfo":
        """A lock request for the process `who` describes (user, host, pid and CI build)."""
        return cls(service=check_service(service), deployment_id=check_deployment_id(deployment_id),
                   operation=operation, holder=who.holder, host=who.host, pid=who.pid,
                   ci_build=who.ci_build, since=iso_utc(time.time() if now is None else now))

    def describe(self) -> str:
        """`deploy d-1 by jenkins@agent-3 (pid 123, build https://ci/job/42) since ..., lease until ...`"""
        where = f"pid {self.pid}" + (f", build {self.ci_build}" if self.ci_build else "")
        until = iso_utc(self.expires) if self.expires else "?"
        return (f"{self.operation} {self.deployment_id} by {self.holder} ({where}) "
                f"since {self.since or '?'}, lease until {until}")

    def expired(self, now: float) -> bool:
        return self.expires < now

    def owned_by(self, other: "LockInfo") -> bool:
        return self.deployment_id == other.deployment_id and self.token == other.token

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LockInfo":
        return cls(service=str(data["service"]), deployment_id=str(data["deployment_id"]),
                   operation=str(data.get("operation", "?")), holder=str(data.get("holder", "?")),
                   host=str(data.get("host", "?")), pid=int(data.get("pid", 0)),
                   ci_build=data.get("ci_build") or None, since=str(data.get("since", "")),
                   expires=float(data.get("expires", 0.0)), token=str(data.get("token", "")))


@dataclass(frozen=True)
class Acquired:
    """The lock as stored (with `since` and `expires`), and the stale lock it replaced, if any."""

    lock: LockInfo
    taken_over: LockInfo | None = None


def held(service: str, holder: LockInfo) -> LockHeld:
    error = LockHeld(
        f"{service} is locked by {holder.describe()}; if that run is gone, wait for the lease to "
        f"run out or run `bluegreen unlock {service} --force`"
    )
    error.holder = holder  # type: ignore[attr-defined]
    return error


# --- the interface ------------------------------------------------------------------------------


@runtime_checkable
class Store(Protocol):
    """Locks, journals, deployment records and history for any number of services."""

    name: str  # "local" or "DynamoDB", for messages
    location: str  # the directory or table

    # locks
    def acquire(self, info: LockInfo, lease_seconds: float) -> Acquired: ...
    def renew(self, info: LockInfo, lease_seconds: float) -> bool: ...
    def release(self, info: LockInfo) -> bool: ...
    def read(self, service: str) -> LockInfo | None: ...
    def break_lock(self, service: str) -> LockInfo | None: ...

    # journal
    def append(self, service: str, deployment_id: str, entry: Mapping[str, Any]) -> dict[str, Any]: ...
    def entries(self, service: str, deployment_id: str) -> list[dict[str, Any]]: ...

    # deployment records
    def put_deployment(self, service: str, record: Mapping[str, Any]) -> None: ...
    def get_deployment(self, service: str, deployment_id: str) -> dict[str, Any] | None: ...
    def set_current(self, service: str, deployment_id: str) -> None: ...
    def current(self, service: str) -> dict[str, Any] | None: ...

    # history
    def append_history(self, service: str, record: Mapping[str, Any]) -> None: ...
    def history(self, service: str, limit: int = 20) -> list[dict[str, Any]]: ...


def journal_entry(entry: Mapping[str, Any], seq: int, now: float) -> dict[str, Any]:
    if not isinstance(entry.get("event"), str) or not entry["event"]:
        raise ValueError("a journal entry needs an `event` (e.g. 'step.started')")
    stored: dict[str, Any] = {"seq": seq, "time": entry.get("time") or iso_utc(now, millis=True),
                              "event": entry["event"]}
    stored.update((k, v) for k, v in entry.items() if k not in ("seq", "time", "event"))
    return stored


def record_id(record: Mapping[str, Any]) -> str:
    deployment_id = record.get("id")
    if not deployment_id:
        raise ValueError("a deployment record needs its `id`")
    return check_deployment_id(str(deployment_id))


