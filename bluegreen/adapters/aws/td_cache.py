"""Task definitions by revision ARN, read once: a revision never changes, so its description is kept.

Two levels. In the process: the answer discovery read is the one `register_task_definition` copies
(no second DescribeTaskDefinition for the base revision). On disk: repeated plans skip the call
altogether, and a revision registered here is kept from RegisterTaskDefinition's answer (same shape),
so the next deploy of it from this machine skips the call too. The files live in `$BLUEGREEN_CACHE_DIR`,
else `$XDG_CACHE_HOME/bluegreen/task-definitions` (`~/.cache/...`); deleting the folder is always safe. Against an endpoint override (the local emulator,
whose ARNs are reused after a reset) the disk cache is used only when BLUEGREEN_CACHE_DIR names it.
The tags are kept as first read: they are the only mutable part, and only copied onto new revisions.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any, Callable, Mapping

# arn:aws:ecs:REGION:ACCOUNT:task-definition/FAMILY:REVISION - a family or "family:latest" is not a revision.
_REVISION_ARN = re.compile(r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/[A-Za-z0-9_-]+:\d+$")


def cache_dir(environ: Mapping[str, str], endpoint_url: str | None) -> Path | None:
    """Where the disk cache lives for this run, or None when it must not be used."""
    explicit = environ.get("BLUEGREEN_CACHE_DIR")
    if explicit is not None:
        return Path(explicit) if explicit else None  # an empty value turns the cache off
    if endpoint_url:
        return None
    base = environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bluegreen" / "task-definitions"


class TaskDefinitions:
    """DescribeTaskDefinition (with tags) by revision ARN, through an in-process memo and a disk cache."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memo: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def describe(self, arn: str, ask: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        """`{"taskDefinition": ..., "tags": [...]}` for `arn`; `ask(arn)` makes the AWS call on a miss."""
        if not _REVISION_ARN.match(arn):
            return ask(arn)
        with self._lock:
            found = self._memo.get(arn)
        if found is None:
            found = self._load(arn)
        if found is None:
            found = ask(arn)
            self._store(arn, found)
        with self._lock:
            self._memo[arn] = found
        return found

    def remember(self, arn: str, answer: dict[str, Any]) -> None:
        """A revision this process registered: RegisterTaskDefinition's answer is the description, so
        the next deploy from this machine (the revision is live then) needs no DescribeTaskDefinition."""
        if not _REVISION_ARN.match(arn):
            return
        self._store(arn, answer)
        with self._lock:
            self._memo[arn] = answer

    def _path(self, arn: str) -> Path | None:
        if self.directory is None:
            return None
        return self.directory / f"{hashlib.sha256(arn.encode()).hexdigest()[:32]}.json"

    def _load(self, arn: str) -> dict[str, Any] | None:
        path = self._path(arn)
        if path is None:
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent or damaged: read AWS again
        if not isinstance(entry, dict) or entry.get("arn") != arn or not isinstance(entry.get("answer"), dict):
            return None
        return entry["answer"]

    def _store(self, arn: str, answer: dict[str, Any]) -> None:
        path = self._path(arn)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # written beside and renamed: a concurrent reader sees the whole file or none
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp",
                                             encoding="utf-8") as handle:
                json.dump({"arn": arn, "answer": answer}, handle, default=str)
            os.replace(handle.name, path)
        except OSError:
            return  # a cache that cannot be written only costs a call next time
