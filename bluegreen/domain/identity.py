"""Who is running bluegreen: one record, worked out once per run by the run context and passed down.

Locks name their holder with it, history records who deployed, and `status` can tell a dead holder
from a live one. Nothing below the CLI reads the user, host or CI variables from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    user: str  # login name, or uid<N> when the uid has no passwd entry and USER is unset
    host: str
    pid: int
    ci_build: str | None = None  # a link to (or the name of) the CI build, if any
    git_commit: str | None = None

    @property
    def holder(self) -> str:
        """`user@host`, as locks and history show it."""
        return f"{self.user}@{self.host}"

    def describe(self) -> str:
        """`jenkins@agent-3 (https://ci/job/42)`: who, for history and messages."""
        return self.holder + (f" ({self.ci_build})" if self.ci_build else "")
