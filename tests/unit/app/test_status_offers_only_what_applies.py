"""`status` offers only the commands that apply to the deployment's state, and none while a live run
holds the lock (they would exit 4)."""

from __future__ import annotations

import pytest

from bluegreen.app.views import commands
from bluegreen.domain.deployment import Status
from bluegreen.state.store import LockInfo

from support.runs import web_plan


class _Record:
    def __init__(self, status: Status) -> None:
        self.status = status
        self.plan = web_plan()


@pytest.mark.parametrize(("status", "offered"), [
    (Status.RUNNING, ["resume", "rollback"]),  # its process is gone
    (Status.PAUSED, ["promote", "abort"]),
    (Status.ROLLING_BACK, ["resume", "rollback"]),
    (Status.ROLLBACK_FAILED, ["rollback"]),
    (Status.FAILED, ["rollback"]),
    (Status.KEEPING_WARM, ["finalize", "rollback"]),
    (Status.SUCCEEDED, ["rollback"]),
    (Status.ROLLED_BACK, ["deploy"]),
])
def test_each_state_offers_its_own_commands(status, offered):
    assert commands("web", _Record(status), None) == [f"bluegreen {c} web" for c in offered]  # type: ignore[arg-type]


def test_promote_is_offered_only_for_a_paused_deployment():
    offering = [s for s in Status if any("promote" in c for c in commands("web", _Record(s), None))]  # type: ignore[arg-type]
    assert offering == [Status.PAUSED]


def test_nothing_is_offered_while_a_live_run_holds_the_lock():
    holder = LockInfo(service="web", deployment_id="web-d1", operation="deploy", holder="ci@agent", host="agent", pid=1)
    assert commands("web", _Record(Status.RUNNING), holder) == []  # type: ignore[arg-type]
