"""Progress output: plain lines (no ANSI unless a TTY), or one JSON object per event for log pipelines,
or (mode "panel") every event handed to a watcher that draws it (`bluegreen.cli.progress.Panel`).

Every line carries the elapsed time since the command started. Secrets never get here: callers
pass only references and masked values, and `Events.redact` scrubs any registered secret string
as a last line of defence.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, TextIO


@dataclass
class Events:
    mode: str = "plain"  # "plain", "json" or "panel" (the watcher draws; no lines printed)
    stream: TextIO = field(default_factory=lambda: sys.stdout)
    clock: Callable[[], float] = time.monotonic
    service: str | None = None
    _start: float = field(default=0.0, init=False)
    _secrets: set[str] = field(default_factory=set, init=False)
    history: list[dict[str, Any]] = field(default_factory=list, init=False)
    watcher: Any = None  # with mode "panel": has plan(plan), event(record) and close()
    # Called with every event's record after it is shown (and with signals): e.g. the notifier.
    listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self._start = self.clock()

    @property
    def color(self) -> bool:
        return self.mode == "plain" and hasattr(self.stream, "isatty") and self.stream.isatty()

    def add_secret(self, value: str) -> None:
        """A value that must never be printed (e.g. a registry password)."""
        if value:
            self._secrets.add(value)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "****")
        return text

    def emit(self, event: str, message: str, **data: Any) -> None:
        elapsed = self.clock() - self._start
        message = self.redact(message)
        record = {"time": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "elapsed": round(elapsed, 3),
                  "event": event, "service": self.service, "message": message,
                  **{k: v for k, v in data.items() if v is not None}}
        self.history.append(record)
        if self.mode == "panel" and self.watcher is not None:
            self.watcher.event(record)
            return
        if self.mode == "json":
            line = self.redact(json.dumps(record, default=str, sort_keys=False))
        else:
            tag = f"[{self.service}] " if self.service else ""
            line = f"{_clock(elapsed)} {tag}{message}"
            if self.color and event.endswith(("failed", "error")):
                line = f"\033[31m{line}\033[0m"
            elif self.color and event.endswith(("succeeded", "done", "switched")):
                line = f"\033[32m{line}\033[0m"
        print(line, file=self.stream, flush=True)
        self._tell(record)

    def signal(self, event: str, message: str, **data: Any) -> None:
        """An event for the listeners only (not shown): what the output already says another way."""
        self._tell({"event": event, "service": self.service, "message": self.redact(message),
                    **{k: v for k, v in data.items() if v is not None}})

    def _tell(self, record: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(record)


    def show_plan(self, plan: Any) -> None:
        """The plan being run, for a watcher that draws its steps (plain and JSON lines do not change)."""
        if self.watcher is not None:
            self.watcher.plan(plan)

    def close(self) -> None:
        """The command is over: a watcher leaves its last frame on the screen."""
        if self.watcher is not None:
            self.watcher.close()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
