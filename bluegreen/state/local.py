"""`LocalStore`: locks, journals, records and history in a directory on this machine.

    locks/<service>.json                       the lock (replaced atomically, never half-written)
    locks/<service>.guard                      flock(2) side file serialising check-and-replace
    journal/<service>/<deployment_id>.jsonl    append-only, one JSON object per line, fsync'd
    journal-fallback/<service>/<id>.jsonl      where `JournalWriter` writes when the primary fails
    deployments/<service>/<deployment_id>.json one record per deployment
    current/<service>.json                     {"deployment_id": ...}: the in-flight / latest one
    history/<service>.jsonl                    append-only, oldest first

Fine for one CI agent; machines that do not share this directory share nothing (use DynamoDB).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from bluegreen.state.store import (
    Acquired, Clock, LockInfo, check_deployment_id, check_service, dumps, held, iso_utc, journal_entry, record_id,
)


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
                line = dumps(entry).encode() + b"\n"
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
        return self.root / check_service(service) / f"{check_deployment_id(deployment_id)}.jsonl"

    def append(self, service: str, deployment_id: str, entry: Mapping[str, Any], *,
               after: int = 0, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        def make(existing: list[dict[str, Any]]) -> dict[str, Any]:
            last = max([after] + [int(e.get("seq", 0)) for e in existing])
            stored = journal_entry(entry, last + 1, self._clock())
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
        return self.directory / "locks" / f"{check_service(service)}.json"

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
            data = dumps(stored.to_dict()).encode()
            exists, current = self._load_lock(path)
            if not exists:
                if _create_exclusive(path, data):
                    return Acquired(stored)
                exists, current = self._load_lock(path)  # someone bypassing the guard got there first
                if current is None or not current.expired(now):
                    raise held(info.service, current or _unknown_holder(info.service, path))
            elif current is not None and not current.expired(now):
                raise held(info.service, current)
            # An expired lease (or an unreadable file, which our atomic writes never leave): take over.
            _atomic_write(path, data)
            return Acquired(stored, taken_over=current or _unknown_holder(info.service, path))

    def renew(self, info: LockInfo, lease_seconds: float) -> bool:
        with self._guard(info.service) as path:
            _, current = self._load_lock(path)
            if current is None or not current.owned_by(info):
                return False
            renewed = replace(current, expires=self._clock() + lease_seconds)
            _atomic_write(path, dumps(renewed.to_dict()).encode())
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
        return self.directory / "deployments" / check_service(service) / f"{check_deployment_id(deployment_id)}.json"

    def put_deployment(self, service: str, record: Mapping[str, Any]) -> None:
        _atomic_write(self._deployment_path(service, record_id(record)), dumps(dict(record)).encode())

    def get_deployment(self, service: str, deployment_id: str) -> dict[str, Any] | None:
        try:
            return json.loads(self._deployment_path(service, deployment_id).read_bytes())
        except FileNotFoundError:
            return None

    def set_current(self, service: str, deployment_id: str) -> None:
        pointer = {"deployment_id": check_deployment_id(deployment_id), "updated": iso_utc(self._clock())}
        _atomic_write(self.directory / "current" / f"{check_service(service)}.json", dumps(pointer).encode())

    def current(self, service: str) -> dict[str, Any] | None:
        try:
            pointer = json.loads((self.directory / "current" / f"{check_service(service)}.json").read_bytes())
        except FileNotFoundError:
            return None
        return self.get_deployment(service, pointer["deployment_id"])

    # history

    def _history(self, service: str) -> JsonLines:
        return JsonLines(self.directory / "history" / f"{check_service(service)}.jsonl")

    def append_history(self, service: str, record: Mapping[str, Any]) -> None:
        self._history(service).append(lambda _existing: dict(record))

    def history(self, service: str, limit: int = 20) -> list[dict[str, Any]]:
        return list(reversed(self._history(service).read()))[:max(limit, 0)]


def _unknown_holder(service: str, path: Path) -> LockInfo:
    return LockInfo(service=service, deployment_id="?", operation="unknown",
                    holder=f"an unreadable lock file {path}", host="?", pid=0, since="?", token="")


