"""The findings of one spec's assembly: every gap in what was read, explained in one place."""

from __future__ import annotations

from dataclasses import dataclass, field

from bluegreen.discovery.raw import RawState
from bluegreen.domain.snapshot import Finding


@dataclass
class Gaps:
    raw: RawState
    findings: list[Finding] = field(default_factory=list)

    def add(self, severity: str, subject: str, message: str, kind: str = "") -> None:
        self.findings.append(Finding(severity, subject, message, kind))

    def missing(self, kind: str, key: str, subject: str, message: str, severity: str = "error") -> None:
        """`subject` is absent: say whether reading it failed, why it is unusable, or that it is not there."""
        error = self.raw.error(kind, key)
        if error:
            self.add("error", subject, f"could not read {subject}: {error}", "unreadable")
        else:
            why = self.raw.why_gone(kind, key)
            self.add(severity, subject, why or message, "gone" if why else "missing")

    def note_error(self, kind: str, key: str, subject: str) -> None:
        """A read about `subject` (which exists) failed."""
        error = self.raw.error(kind, key)
        if error:
            self.add("error", subject, f"could not read {subject}: {error}", "unreadable")

    def failed(self, kind: str, key: str) -> bool:
        return self.raw.error(kind, key) is not None
