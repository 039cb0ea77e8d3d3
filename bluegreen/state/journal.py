"""The journal with a local fallback: when the remote store fails, the run keeps journaling locally."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Mapping

from bluegreen.errors import InvalidInput
from bluegreen.state.local import LocalJournal
from bluegreen.state.store import Clock, Store


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


