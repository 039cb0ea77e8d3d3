"""Where locks, journals, deployment records and history live: a local directory or a DynamoDB table.

One interface (`Store`), two backends:

* `LocalStore` — a directory (default `.bluegreen`, relative to the working directory)::

      locks/<service>.json                       the lock (replaced atomically, never half-written)
      locks/<service>.guard                      flock(2) side file serialising check-and-replace
      journal/<service>/<deployment_id>.jsonl    append-only, one JSON object per line, fsync'd
      journal-fallback/<service>/<id>.jsonl      where `JournalWriter` writes when the primary fails
      deployments/<service>/<deployment_id>.json one record per deployment
      current/<service>.json                     {"deployment_id": ...}: the in-flight / latest one
      history/<service>.jsonl                    append-only, oldest first

* `DynamoStore` — one table, partition key `pk` (S) and sort key `sk` (S), on-demand billing
  (`ensure_table` creates it). Items:

      pk                                  sk                  other attributes
      lock#<service>                      lock                service, deployment_id, operation,
                                                              holder, host, pid (N), ci_build,
                                                              since, expires (N, epoch s), token
      journal#<service>#<deployment_id>   0000000001 (seq)    seq (N), event, time, data (JSON text)
      deployment#<service>                <deployment_id>     status, updated, data (JSON text)
      current#<service>                   current             deployment_id, updated
      history#<service>                   0000000001 (seq)    time, data (JSON text)

  Entries and records are stored as JSON text in `data` so floats, nesting and empty values
  round-trip exactly; a few attributes are copied out only for reading the table by hand.

Locks are leases: `acquire` is one conditional write that succeeds when there is no lock or the
holder's lease has run out (a stale lock is taken over and reported); `renew` and `release` only
work for the owner (same deployment id and acquisition token). `LockLease` wraps it all:
acquire, renew in a daemon thread every lease/3, release in `finally`.

The journal is written before and after every step. `JournalWriter` puts a local file behind a
remote store: if the primary write fails, that entry and the rest go to
`<dir>/journal-fallback/...`, a warning is given once, and reads merge both (DESIGN.md 6).

Only `bluegreen.adapters` import boto3; `DynamoStore` is handed an `Aws` and asks it for a client.
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Protocol, runtime_checkable

from .errors import InvalidInput, LockHeld

if TYPE_CHECKING:  # pragma: no cover
    from .adapters.aws import Aws
    from .spec import State

Clock = Callable[[], float]

DEPLOYMENT_STATUSES = ("running", "paused", "keeping-warm", "succeeded", "failed", "rolled-back",
                       "rollback-failed")

_SERVICE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$")
_DEPLOYMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
_SEQ_WIDTH = 10


# --- small helpers ------------------------------------------------------------------------------


def iso_utc(epoch: float, *, millis: bool = False) -> str:
    """`2026-11-22T21:00:00Z` (or with `.123` milliseconds)."""
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.isoformat(timespec="milliseconds" if millis else "seconds").replace("+00:00", "Z")


def _check_service(service: str) -> str:
    if not isinstance(service, str) or not _SERVICE.match(service):
        raise InvalidInput(f"invalid service name for the state store: {service!r}")
    return service


def _check_deployment_id(deployment_id: str) -> str:
    if not isinstance(deployment_id, str) or not _DEPLOYMENT_ID.match(deployment_id):
        raise InvalidInput(
            f"invalid deployment id {deployment_id!r}: letters, digits, '.', '_', ':' and '-' only"
        )
    return deployment_id


def _dumps(value: Any) -> str:
    return json.dumps(value, default=str, separators=(",", ":"), ensure_ascii=False)


def _error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ClientError, without importing botocore."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return response.get("Error", {}).get("Code")
    return None


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # no passwd entry (some containers), no USER variable
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def ci_build(env: Mapping[str, str] | None = None) -> str | None:
    """A link to (or name of) the CI build this process runs in, if any."""
    env = os.environ if env is None else env
    if env.get("BUILD_URL"):  # Jenkins
        return env["BUILD_URL"]
    if env.get("GITHUB_RUN_ID"):
        server, repo = env.get("GITHUB_SERVER_URL"), env.get("GITHUB_REPOSITORY")
        if server and repo:
            return f"{server}/{repo}/actions/runs/{env['GITHUB_RUN_ID']}"
        return f"github run {env['GITHUB_RUN_ID']}"
    if env.get("CI_JOB_URL"):  # GitLab
        return env["CI_JOB_URL"]
    if env.get("CI_JOB_ID"):
        return f"gitlab job {env['CI_JOB_ID']}"
    if env.get("BUILD_TAG"):  # Jenkins without a URL
        return env["BUILD_TAG"]
    return None


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
    def create(cls, service: str, deployment_id: str, operation: str, *,
               env: Mapping[str, str] | None = None, now: float | None = None) -> "LockInfo":
        """A lock request for this process (user, host, pid and CI build filled in)."""
        host = socket.gethostname() or "localhost"
        return cls(service=_check_service(service), deployment_id=_check_deployment_id(deployment_id),
                   operation=operation, holder=f"{_user()}@{host}", host=host, pid=os.getpid(),
                   ci_build=ci_build(env), since=iso_utc(time.time() if now is None else now))

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


def _held(service: str, holder: LockInfo) -> LockHeld:
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


def _journal_entry(entry: Mapping[str, Any], seq: int, now: float) -> dict[str, Any]:
    if not isinstance(entry.get("event"), str) or not entry["event"]:
        raise ValueError("a journal entry needs an `event` (e.g. 'step.started')")
    stored: dict[str, Any] = {"seq": seq, "time": entry.get("time") or iso_utc(now, millis=True),
                              "event": entry["event"]}
    stored.update((k, v) for k, v in entry.items() if k not in ("seq", "time", "event"))
    return stored


def _record_id(record: Mapping[str, Any]) -> str:
    deployment_id = record.get("id")
    if not deployment_id:
        raise ValueError("a deployment record needs its `id`")
    return _check_deployment_id(str(deployment_id))


# --- local files --------------------------------------------------------------------------------


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(directory: Path, name: str, data: bytes) -> Path:
    tmp = directory / f".{name}.{uuid.uuid4().hex}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return tmp


def _atomic_write(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so readers see the old or the new file, never a torn one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _write_temp(path.parent, path.name, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _create_exclusive(path: Path, data: bytes) -> bool:
    """Create `path` holding `data` only if it does not exist (O_EXCL semantics); False if it did.

    Written to a temporary file first and hard-linked into place, so the file appears whole;
    on a file system without hard links, falls back to os.open(O_CREAT | O_EXCL).
    """
    tmp = _write_temp(path.parent, path.name, data)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    except OSError:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


@contextmanager
def _flocked(fd_or_path: int | Path, timeout: float = 30.0) -> Iterator[int]:
    """An exclusive flock(2), released on exit or when the process dies."""
    import fcntl

    own = not isinstance(fd_or_path, int)
    fd = os.open(fd_or_path, os.O_RDWR | os.O_CREAT, 0o644) if own else fd_or_path  # type: ignore[arg-type]
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{fd_or_path}: still busy after {timeout:.0f}s") from None
                time.sleep(0.002)
        try:
            yield fd
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        if own:
            os.close(fd)


def _parse_lines(data: bytes) -> list[dict[str, Any]]:
    """JSON lines; a torn last line (power loss mid-write) is skipped, not fatal."""
    out = []
    for line in data.splitlines():
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.append(value)
    return out


def _read_all(fd: int) -> bytes:
    chunks, offset = [], 0
    while True:
        chunk = os.pread(fd, 1 << 16, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)


class JsonLines:
    """An append-only JSON-lines file: each append under flock, flushed and fsync'd before returning."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, make: Callable[[list[dict[str, Any]]], dict[str, Any]]) -> dict[str, Any]:
        """`make(existing entries)` builds the new entry while the file is locked."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            with _flocked(fd):
                data = _read_all(fd)
                entry = make(_parse_lines(data))
                line = _dumps(entry).encode() + b"\n"
                if data and not data.endswith(b"\n"):
                    line = b"\n" + line  # never glue onto a torn line
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
        finally:
            os.close(fd)
        if created:
            _fsync_dir(self.path.parent)
        return entry

    def read(self) -> list[dict[str, Any]]:
        try:
            return _parse_lines(self.path.read_bytes())
        except FileNotFoundError:
            return []


class LocalJournal:
    """`<root>/<service>/<deployment_id>.jsonl`: the local journal, also the fallback one."""

    def __init__(self, root: Path, *, clock: Clock = time.time) -> None:
        self.root = root
        self._clock = clock

    def path(self, service: str, deployment_id: str) -> Path:
        return self.root / _check_service(service) / f"{_check_deployment_id(deployment_id)}.jsonl"

    def append(self, service: str, deployment_id: str, entry: Mapping[str, Any], *,
               after: int = 0, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        def make(existing: list[dict[str, Any]]) -> dict[str, Any]:
            last = max([after] + [int(e.get("seq", 0)) for e in existing])
            stored = _journal_entry(entry, last + 1, self._clock())
            stored.update(extra or {})
            return stored

        return JsonLines(self.path(service, deployment_id)).append(make)

    def entries(self, service: str, deployment_id: str) -> list[dict[str, Any]]:
        found = JsonLines(self.path(service, deployment_id)).read()
        return sorted(found, key=lambda e: int(e.get("seq", 0)))


class LocalStore:
    """Everything in a directory on this machine (fine for one CI agent; use DynamoDB for several)."""

    name = "local"

    def __init__(self, directory: str | Path = ".bluegreen", *, clock: Clock = time.time) -> None:
        self.directory = Path(directory)
        if not self.directory.is_absolute():
            self.directory = Path.cwd() / self.directory
        self.location = str(self.directory)
        self._clock = clock
        self.journal = LocalJournal(self.directory / "journal", clock=clock)

    # locks

    def _lock_path(self, service: str) -> Path:
        return self.directory / "locks" / f"{_check_service(service)}.json"

    @contextmanager
    def _guard(self, service: str) -> Iterator[Path]:
        path = self._lock_path(service)
        path.parent.mkdir(parents=True, exist_ok=True)
        with _flocked(path.with_suffix(".guard")):
            yield path

    @staticmethod
    def _load_lock(path: Path) -> tuple[bool, LockInfo | None]:
        """(exists, info); info is None for a file that exists but cannot be read as a lock."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return False, None
        try:
            return True, LockInfo.from_dict(json.loads(data))
        except (ValueError, KeyError, TypeError):
            return True, None

    def acquire(self, info: LockInfo, lease_seconds: float) -> Acquired:
        with self._guard(info.service) as path:
            now = self._clock()
            stored = replace(info, since=iso_utc(now), expires=now + lease_seconds)
            data = _dumps(stored.to_dict()).encode()
            exists, current = self._load_lock(path)
            if not exists:
                if _create_exclusive(path, data):
                    return Acquired(stored)
                exists, current = self._load_lock(path)  # someone bypassing the guard got there first
                if current is None or not current.expired(now):
                    raise _held(info.service, current or _unknown_holder(info.service, path))
            elif current is not None and not current.expired(now):
                raise _held(info.service, current)
            # An expired lease (or an unreadable file, which our atomic writes never leave): take over.
            _atomic_write(path, data)
            return Acquired(stored, taken_over=current or _unknown_holder(info.service, path))

    def renew(self, info: LockInfo, lease_seconds: float) -> bool:
        with self._guard(info.service) as path:
            _, current = self._load_lock(path)
            if current is None or not current.owned_by(info):
                return False
            renewed = replace(current, expires=self._clock() + lease_seconds)
            _atomic_write(path, _dumps(renewed.to_dict()).encode())
            return True

    def release(self, info: LockInfo) -> bool:
        with self._guard(info.service) as path:
            _, current = self._load_lock(path)
            if current is None or not current.owned_by(info):
                return False
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)
            return True

    def read(self, service: str) -> LockInfo | None:
        path = self._lock_path(service)
        exists, current = self._load_lock(path)
        return current if current is not None or not exists else _unknown_holder(service, path)

    def break_lock(self, service: str) -> LockInfo | None:
        with self._guard(service) as path:
            exists, current = self._load_lock(path)
            if not exists:
                return None
            path.unlink(missing_ok=True)
            _fsync_dir(path.parent)
            return current or _unknown_holder(service, path)

    # journal

    def append(self, service: str, deployment_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        return self.journal.append(service, deployment_id, entry)

    def entries(self, service: str, deployment_id: str) -> list[dict[str, Any]]:
        return self.journal.entries(service, deployment_id)

    # deployment records

    def _deployment_path(self, service: str, deployment_id: str) -> Path:
        return self.directory / "deployments" / _check_service(service) / f"{_check_deployment_id(deployment_id)}.json"

    def put_deployment(self, service: str, record: Mapping[str, Any]) -> None:
        _atomic_write(self._deployment_path(service, _record_id(record)), _dumps(dict(record)).encode())

    def get_deployment(self, service: str, deployment_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._deployment_path(service, deployment_id).read_bytes())
        except FileNotFoundError:
            return None

    def set_current(self, service: str, deployment_id: str) -> None:
        pointer = {"deployment_id": _check_deployment_id(deployment_id), "updated": iso_utc(self._clock())}
        _atomic_write(self.directory / "current" / f"{_check_service(service)}.json", _dumps(pointer).encode())

    def current(self, service: str) -> dict[str, Any] | None:
        try:
            pointer = json.loads((self.directory / "current" / f"{_check_service(service)}.json").read_bytes())
        except FileNotFoundError:
            return None
        return self.get_deployment(service, pointer["deployment_id"])

    # history

    def _history(self, service: str) -> JsonLines:
        return JsonLines(self.directory / "history" / f"{_check_service(service)}.jsonl")

    def append_history(self, service: str, record: Mapping[str, Any]) -> None:
        self._history(service).append(lambda _existing: dict(record))

    def history(self, service: str, limit: int = 20) -> list[dict[str, Any]]:
        return list(reversed(self._history(service).read()))[:max(limit, 0)]


def _unknown_holder(service: str, path: Path) -> LockInfo:
    return LockInfo(service=service, deployment_id="?", operation="unknown",
                    holder=f"an unreadable lock file {path}", host="?", pid=0, since="?", token="")


# --- DynamoDB -----------------------------------------------------------------------------------


def _s(value: Any) -> dict[str, str]:
    return {"S": str(value)}


def _n(value: float | int) -> dict[str, str]:
    return {"N": repr(value) if isinstance(value, float) else str(value)}


def _plain(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, typed in item.items():
        ((kind, value),) = typed.items()
        out[key] = float(value) if kind == "N" else value
    return out


class DynamoStore:
    """Everything in one DynamoDB table (pk/sk strings): shared by every machine that deploys."""

    name = "DynamoDB"

    def __init__(self, aws: "Aws", table: str, *, clock: Clock = time.time) -> None:
        self.aws = aws
        self.table = table
        self.location = f"table {table}"
        self._clock = clock
        self._next_seq: dict[str, int] = {}
        self._seq_lock = threading.Lock()

    @property
    def _db(self) -> Any:
        return self.aws.client("dynamodb")

    def _key(self, pk: str, sk: str) -> dict[str, Any]:
        return {"pk": _s(pk), "sk": _s(sk)}

    # locks

    @staticmethod
    def _lock_item(info: LockInfo) -> dict[str, Any]:
        item = {"pk": _s(f"lock#{info.service}"), "sk": _s("lock"), "service": _s(info.service),
                "deployment_id": _s(info.deployment_id), "operation": _s(info.operation),
                "holder": _s(info.holder), "host": _s(info.host), "pid": _n(info.pid),
                "since": _s(info.since), "expires": _n(float(info.expires)), "token": _s(info.token)}
        if info.ci_build:
            item["ci_build"] = _s(info.ci_build)
        return item

    @staticmethod
    def _lock_from(item: Mapping[str, Any] | None) -> LockInfo | None:
        return LockInfo.from_dict(_plain(item)) if item else None

    def acquire(self, info: LockInfo, lease_seconds: float) -> Acquired:
        for _ in range(5):
            now = self._clock()
            stored = replace(info, since=iso_utc(now), expires=now + lease_seconds)
            try:
                response = self._db.put_item(
                    TableName=self.table, Item=self._lock_item(stored),
                    ConditionExpression="attribute_not_exists(#pk) OR #expires < :now",
                    ExpressionAttributeNames={"#pk": "pk", "#expires": "expires"},
                    ExpressionAttributeValues={":now": _n(float(now))},
                    ReturnValues="ALL_OLD",
                )
            except Exception as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                holder = self.read(info.service)
                if holder is None or holder.expired(now):
                    continue  # released or expired between our write and this read: try again
                raise _held(info.service, holder) from None
            return Acquired(stored, taken_over=self._lock_from(response.get("Attributes")))
        raise _held(info.service, self.read(info.service) or info)

    def _owner_condition(self, info: LockInfo) -> dict[str, Any]:
        return {
            "ConditionExpression": "#deployment_id = :id AND #token = :token",
            "ExpressionAttributeNames": {"#deployment_id": "deployment_id", "#token": "token"},
            "ExpressionAttributeValues": {":id": _s(info.deployment_id), ":token": _s(info.token)},
        }

    def renew(self, info: LockInfo, lease_seconds: float) -> bool:
        condition = self._owner_condition(info)
        condition["ExpressionAttributeNames"]["#expires"] = "expires"
        condition["ExpressionAttributeValues"][":expires"] = _n(float(self._clock() + lease_seconds))
        try:
            self._db.update_item(TableName=self.table, Key=self._key(f"lock#{info.service}", "lock"),
                                 UpdateExpression="SET #expires = :expires", **condition)
        except Exception as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def release(self, info: LockInfo) -> bool:
        try:
            self._db.delete_item(TableName=self.table, Key=self._key(f"lock#{info.service}", "lock"),
                                 **self._owner_condition(info))
        except Exception as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def read(self, service: str) -> LockInfo | None:
        response = self._db.get_item(TableName=self.table, Key=self._key(f"lock#{_check_service(service)}", "lock"),
                                     ConsistentRead=True)
        return self._lock_from(response.get("Item"))

    def break_lock(self, service: str) -> LockInfo | None:
        response = self._db.delete_item(TableName=self.table,
                                        Key=self._key(f"lock#{_check_service(service)}", "lock"),
                                        ReturnValues="ALL_OLD")
        return self._lock_from(response.get("Attributes"))

    # sequences (journal entries, history records)

    def _query(self, pk: str, *, newest_first: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table, "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "pk"}, "ExpressionAttributeValues": {":pk": _s(pk)},
            "ConsistentRead": True, "ScanIndexForward": not newest_first,
        }
        while True:
            if limit is not None:
                kwargs["Limit"] = limit - len(items)
            response = self._db.query(**kwargs)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response or (limit is not None and len(items) >= limit):
                return items
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _last_seq(self, pk: str) -> int:
        newest = self._query(pk, newest_first=True, limit=1)
        return int(newest[0]["sk"]["S"]) if newest else 0

    def _put_next(self, pk: str, build: Callable[[int], dict[str, Any]]) -> int:
        """Put `build(seq)` at the next free seq under `pk` (conditional, so racers never overwrite)."""
        with self._seq_lock:
            seq = self._next_seq.get(pk)
        if seq is None:
            seq = self._last_seq(pk) + 1
        for _ in range(50):
            item = {"pk": _s(pk), "sk": _s(f"{seq:0{_SEQ_WIDTH}d}"), "seq": _n(seq), **build(seq)}
            try:
                self._db.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(#pk)",
                                  ExpressionAttributeNames={"#pk": "pk"})
            except Exception as exc:
                if _error_code(exc) != "ConditionalCheckFailedException":
                    raise
                seq = max(seq, self._last_seq(pk)) + 1
                continue
            with self._seq_lock:
                self._next_seq[pk] = seq + 1
            return seq
        raise RuntimeError(f"could not append to {pk} in {self.table}: too many concurrent writers")

    # journal

    def append(self, service: str, deployment_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        pk = f"journal#{_check_service(service)}#{_check_deployment_id(deployment_id)}"
        stored: dict[str, Any] = {}

        def build(seq: int) -> dict[str, Any]:
            stored.clear()
            stored.update(_journal_entry(entry, seq, self._clock()))
            return {"event": _s(stored["event"]), "time": _s(stored["time"]), "data": _s(_dumps(stored))}

        self._put_next(pk, build)
        return stored

    def entries(self, service: str, deployment_id: str) -> list[dict[str, Any]]:
        pk = f"journal#{_check_service(service)}#{_check_deployment_id(deployment_id)}"
        return [json.loads(item["data"]["S"]) for item in self._query(pk)]

    # deployment records

    def put_deployment(self, service: str, record: Mapping[str, Any]) -> None:
        deployment_id = _record_id(record)
        item = {**self._key(f"deployment#{_check_service(service)}", deployment_id),
                "data": _s(_dumps(dict(record))), "updated": _s(iso_utc(self._clock()))}
        if record.get("status"):
            item["status"] = _s(record["status"])
        self._db.put_item(TableName=self.table, Item=item)

    def get_deployment(self, service: str, deployment_id: str) -> dict[str, Any] | None:
        key = self._key(f"deployment#{_check_service(service)}", _check_deployment_id(deployment_id))
        item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return json.loads(item["data"]["S"]) if item else None

    def set_current(self, service: str, deployment_id: str) -> None:
        item = {**self._key(f"current#{_check_service(service)}", "current"),
                "deployment_id": _s(_check_deployment_id(deployment_id)), "updated": _s(iso_utc(self._clock()))}
        self._db.put_item(TableName=self.table, Item=item)

    def current(self, service: str) -> dict[str, Any] | None:
        key = self._key(f"current#{_check_service(service)}", "current")
        item = self._db.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        return self.get_deployment(service, item["deployment_id"]["S"]) if item else None

    # history

    def append_history(self, service: str, record: Mapping[str, Any]) -> None:
        data = _s(_dumps(dict(record)))
        self._put_next(f"history#{_check_service(service)}",
                       lambda _seq: {"time": _s(iso_utc(self._clock())), "data": data})

    def history(self, service: str, limit: int = 20) -> list[dict[str, Any]]:
        if limit <= 0:
            return []
        items = self._query(f"history#{_check_service(service)}", newest_first=True, limit=limit)
        return [json.loads(item["data"]["S"]) for item in items]


def ensure_table(aws: "Aws", table: str) -> bool:
    """Create the state table (pk S / sk S, on-demand) unless it exists; True if it was created."""
    db = aws.client("dynamodb")
    try:
        db.describe_table(TableName=table)
        return False
    except Exception as exc:
        if _error_code(exc) != "ResourceNotFoundException":
            raise
    try:
        db.create_table(
            TableName=table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                  {"AttributeName": "sk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            Tags=[{"Key": "managed-by", "Value": "bluegreen"}],
        )
        created = True
    except Exception as exc:
        if _error_code(exc) != "ResourceInUseException":  # someone else is creating it
            raise
        created = False
    db.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 60})
    return created


# --- choosing a backend -------------------------------------------------------------------------


def open_store(state: "State", aws_factory: Callable[[], "Aws"], *, clock: Clock = time.time) -> Store:
    """The store a spec's `state:` names. `aws_factory` is only called for DynamoDB."""
    if state.backend == "dynamodb":
        if not state.table:
            raise InvalidInput("state.table: the dynamodb backend needs a table name")
        return DynamoStore(aws_factory(), state.table, clock=clock)
    return LocalStore(state.directory, clock=clock)


def open_journal(store: Store, state: "State", *,
                 on_warning: Callable[[str], None] | None = None) -> "JournalWriter":
    """The journal for a run: `store`, backed by `<state.directory>/journal-fallback`."""
    return JournalWriter(store, Path(state.directory) / "journal-fallback", on_warning=on_warning)


# --- the journal with a local fallback ----------------------------------------------------------


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class JournalWriter:
    """Journal appends to `primary`; if a write fails, that entry and every later one of this writer
    go to a local file instead (so one slow, failing store costs one failure, not one per step).

    The first fallback sets `warning` and calls `on_warning` once. `entries` merges both, by seq.
    Fallback entries carry `"fallback": true`.
    """

    def __init__(self, primary: Store, fallback_directory: str | Path, *,
                 on_warning: Callable[[str], None] | None = None, clock: Clock = time.time) -> None:
        directory = Path(fallback_directory)
        self.primary = primary
        self.fallback = LocalJournal(directory if directory.is_absolute() else Path.cwd() / directory, clock=clock)
        self.on_warning = on_warning
        self.warning: str | None = None
        self.failed = False
        self._last_seq: dict[tuple[str, str], int] = {}

    def fallback_path(self, service: str, deployment_id: str) -> Path:
        return self.fallback.path(service, deployment_id)

    def append(self, service: str, deployment_id: str, entry: Mapping[str, Any]) -> dict[str, Any]:
        key = (service, deployment_id)
        if not self.failed:
            try:
                stored = self.primary.append(service, deployment_id, entry)
            except (ValueError, InvalidInput):
                raise  # our caller's mistake, not the store's
            except Exception as exc:
                self._fall_back(service, deployment_id, exc)
            else:
                self._last_seq[key] = int(stored["seq"])
                return stored
        return self.fallback.append(service, deployment_id, entry, after=self._last_seq.get(key, 0),
                                    extra={"fallback": True})

    def _fall_back(self, service: str, deployment_id: str, exc: Exception) -> None:
        self.failed = True
        key = (service, deployment_id)
        if key not in self._last_seq:  # continue the primary's numbering if it can still be read
            try:
                self._last_seq[key] = max([0] + [int(e["seq"]) for e in self.primary.entries(service, deployment_id)])
            except Exception:
                pass
        reason = " ".join(str(exc).split()) or type(exc).__name__
        self.warning = (f"journal: {self.primary.name} write failed ({reason}); writing to "
                        f"{_display(self.fallback_path(service, deployment_id))} instead")
        if self.on_warning is not None:
            self.on_warning(self.warning)

    def entries(self, service: str, deployment_id: str) -> list[dict[str, Any]]:
        try:
            primary = self.primary.entries(service, deployment_id)
        except Exception:
            primary = []
        local = self.fallback.entries(service, deployment_id)
        return sorted(primary + local, key=lambda e: (int(e.get("seq", 0)), str(e.get("time", ""))))


# --- a lease held while a command runs ----------------------------------------------------------


class LockLease:
    """Hold a service's lock while a block runs; renew it in the background; always release it.

        with LockLease(store, LockInfo.create("web", deployment_id, "deploy"), lease_seconds=120) as lease:
            ...            # lease.lost turns True if another run took the lock over

    `taken_over` is the stale lock replaced on entry (None if there was none). Renewal runs in a
    daemon thread every `interval` seconds (default lease/3). Release happens in `__exit__`, so after
    an exception or KeyboardInterrupt too; a failing release never hides the block's own error (it is
    kept in `release_error` and passed to `on_warning`).
    """

    def __init__(self, store: Store, info: LockInfo, lease_seconds: float, *, interval: float | None = None,
                 on_lost: Callable[[LockInfo | None], None] | None = None,
                 on_warning: Callable[[str], None] | None = None) -> None:
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be positive")
        self.store = store
        self.info = info
        self.lease_seconds = lease_seconds
        self.interval = interval if interval is not None else lease_seconds / 3
        self.on_lost = on_lost
        self.on_warning = on_warning
        self.taken_over: LockInfo | None = None
        self.lost = False
        self.renewals = 0
        self.renew_error: BaseException | None = None
        self.release_error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "LockLease":
        acquired = self.store.acquire(self.info, self.lease_seconds)
        self.info, self.taken_over = acquired.lock, acquired.taken_over
        self._thread = threading.Thread(target=self._renew_loop, name=f"lease-{self.info.service}", daemon=True)
        self._thread.start()
        return self

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                kept = self.store.renew(self.info, self.lease_seconds)
            except Exception as exc:  # transient (network, throttling): try again next tick
                self.renew_error = exc
                continue
            if not kept:
                self.lost = True
                if self.on_lost is not None:
                    try:
                        self.on_lost(self._read_quietly())
                    except Exception:
                        pass
                return
            self.renewals += 1

    def _read_quietly(self) -> LockInfo | None:
        try:
            return self.store.read(self.info.service)
        except Exception:
            return None

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        try:
            self.store.release(self.info)  # conditional on ownership: never removes someone else's lock
        except Exception as exc:
            self.release_error = exc
            if self.on_warning is not None:
                self.on_warning(f"lock: could not release {self.info.service} ({exc}); "
                                f"it expires by itself within {self.lease_seconds:g}s")
