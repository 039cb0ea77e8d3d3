"""promote, resume, abort, rollback and finalize on an in-memory world, with a real local state store.

Each command is a fresh session, as in CI; each takes the lock before it reads the record.
"""

from __future__ import annotations

import pytest

from bluegreen.domain.deployment import Status
from bluegreen.errors import ExitCode
from bluegreen.state.local import LocalStore
from bluegreen.state.store import LockInfo

from support.runs import step_index, web_plan
from support.commands import Commands
from support.world import BLUE_ONLY, TG_BLUE, TG_GREEN

GREEN_ONLY = {TG_BLUE: 0, TG_GREEN: 100}


@pytest.fixture
def ci(tmp_path) -> Commands:
    return Commands(tmp_path)


def history(ci: Commands) -> list[dict]:
    return LocalStore(ci.directory / ".bluegreen").history("web")


# --- pause and promote -------------------------------------------------------------------------------------


def test_pause_before_shift_then_promote_shifts_traffic_from_where_it_paused(ci):
    assert ci.deploy(pause_before_shift=True) == 0
    paused = ci.current()
    assert paused.status is Status.PAUSED and ci.world.listener_changes() == []

    assert ci.promote() == 0

    record = ci.current()
    assert record.status is Status.KEEPING_WARM and record.promoted
    assert ci.world.listener_changes() == [{TG_BLUE: 90, TG_GREEN: 10}, GREEN_ONLY]
    register = [c for c in ci.world.changes if c.action == "register_task_definition"]
    assert len(register) == 1  # nothing before the pause ran again


def test_promote_refuses_a_deployment_that_is_not_paused(ci):
    assert ci.deploy() == 0

    assert ci.promote() == ExitCode.INVALID_INPUT
    assert ci.current().status is Status.KEEPING_WARM


def test_resume_of_a_paused_deployment_promotes_it(ci):
    assert ci.deploy(pause_before_shift=True) == 0

    assert ci.resume() == 0

    assert ci.world.green_share() == 100 and ci.current().status is Status.KEEPING_WARM


def test_abort_of_a_paused_deployment_takes_green_down_and_records_a_rollback(ci):
    assert ci.deploy(pause_before_shift=True) == 0

    assert ci.abort() == 0

    assert ci.current().status is Status.ROLLED_BACK and ci.world.services["web-green"].desired == 0
    assert "rollback.succeeded" in ci.events()
    assert history(ci)[0]["operation"] == "rollback" and history(ci)[0]["reason"] == "aborted by request"
    assert ci.abort() == ExitCode.INVALID_INPUT  # nothing in flight any more


# --- keep-warm and finalize ------------------------------------------------------------------------------------


def test_keep_warm_then_finalize_after_the_deadline_scales_blue_down_and_counts_the_drain(ci):
    assert ci.deploy() == 0
    assert ci.finalize() == 0
    assert "finalize.waiting" in ci.events() and ci.world.services["web-blue"].desired == 2

    ci.clock.advance(901)
    assert ci.finalize() == 0

    record = ci.current()
    assert record.status is Status.SUCCEEDED and record.finalized
    assert ci.world.services["web-blue"].desired == 0
    assert ci.events()[-3:] == ["drain.countdown", "drain.done", "finalize.done"]
    assert ci.events().count("drain.countdown") == 3  # 25s of deregistration delay, 10s at a time
    assert ci.finalize() == 0 and "finalize.noop" in ci.events()


def test_finalize_now_scales_blue_down_before_the_deadline(ci):
    assert ci.deploy() == 0

    assert ci.finalize(now=True) == 0

    assert ci.world.services["web-blue"].desired == 0 and ci.current().status is Status.SUCCEEDED


def test_rollback_while_blue_is_warm_is_one_listener_change_and_blue_keeps_its_tasks(ci):
    assert ci.deploy() == 0
    changes = len(ci.world.listener_changes())

    assert ci.rollback() == 0

    assert ci.world.listener_changes()[changes:] == [BLUE_ONLY]
    assert ci.world.services["web-blue"].desired == 2 and ci.world.services["web-green"].desired == 0
    assert ci.current().status is Status.ROLLED_BACK


def test_a_new_deployment_supersedes_the_warm_one(ci):
    assert ci.deploy() == 0
    first = ci.current()

    assert ci.deploy(plan=web_plan(percentages=(100,))) == 0

    superseded = ci.session().records.get(first.id)
    assert superseded.status is Status.SUCCEEDED and superseded.finalized == "superseded by the next deployment"
    assert ci.current().id != first.id


# --- failures and recovering from them ---------------------------------------------------------------------------


def test_a_failed_gate_exits_1_with_traffic_on_blue(ci):
    ci.alarm_when_green_gets(10)

    assert ci.deploy() == ExitCode.DEPLOY_FAILED_ROLLED_BACK

    assert ci.world.listener_changes()[-1] == BLUE_ONLY and ci.current().status is Status.ROLLED_BACK
    assert history(ci)[0]["result"] == "rolled-back" and "web-5xx" in history(ci)[0]["reason"]


def test_rollback_finishes_a_rollback_that_failed(ci):
    ci.alarm_when_green_gets(10)
    ci.listener_refuses_blue()
    assert ci.deploy() == ExitCode.ROLLBACK_INCOMPLETE
    assert ci.current().status is Status.ROLLBACK_FAILED and ci.world.green_share() == 10

    assert ci.rollback() == 0

    assert ci.world.green_share() == 0 and ci.current().status is Status.ROLLED_BACK
    assert [h["result"] for h in history(ci)] == ["rolled-back", "rollback-failed"]


def test_rollback_of_a_deployment_left_failed_with_automatic_rollback_off_restores_blue(tmp_path):
    ci = Commands(tmp_path, automatic=False)
    ci.alarm_when_green_gets(10)
    assert ci.deploy() == ExitCode.ROLLBACK_INCOMPLETE
    assert ci.current().status is Status.FAILED and ci.world.green_share() == 10

    assert ci.rollback() == 0

    assert ci.world.green_share() == 0 and ci.world.services["web-green"].desired == 0


def test_resume_finishes_a_rollback_whose_process_was_killed(ci):
    assert ci.deploy(pause_before_shift=True) == 0
    session = ci.session()
    # `abort` recorded rolling-back, then was SIGKILLed before any inverse ran
    session.records.save(session.records.current().to(Status.ROLLING_BACK, reason="aborted by request"))

    assert ci.resume() == 0

    assert ci.current().status is Status.ROLLED_BACK and ci.world.services["web-green"].desired == 0


def test_resume_of_a_killed_run_continues_after_the_last_step_that_succeeded(ci):
    plan = web_plan()
    assert ci.deploy(plan, pause_before_shift=True) == 0
    session = ci.session()
    # `promote` recorded running, then was SIGKILLed before shifting any traffic
    session.records.save(session.records.current().to(Status.RUNNING, promoted=True))

    assert ci.resume() == 0

    assert "deploy.resumed" in ci.events() and ci.world.green_share() == 100
    started = [e["step"] for e in ci.session().entries(ci.current().id) if e["event"] == "step.started"]
    assert started.count("register-task-definition") == 1
    assert started.index("shift-10") == step_index(plan, "shift-10")


def test_resume_refuses_a_finished_deployment(ci):
    assert ci.deploy(wait_finalize=True) == 0

    assert ci.resume() == ExitCode.INVALID_INPUT


# --- the lock comes first --------------------------------------------------------------------------------------


class LoggingStore(LocalStore):
    """A local store that remembers the order of lock and record calls."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.calls: list[str] = []

    def acquire(self, info, lease_seconds):  # noqa: ANN001, ANN201
        self.calls.append("acquire")
        return super().acquire(info, lease_seconds)

    def current(self, service):  # noqa: ANN001, ANN201
        self.calls.append("current")
        return super().current(service)


@pytest.mark.parametrize("command", ["promote", "resume", "abort", "rollback", "finalize"])
def test_every_command_that_changes_a_deployment_takes_the_lock_before_it_reads_the_record(ci, command):
    assert ci.deploy(pause_before_shift=True) == 0
    store = LoggingStore(ci.directory / ".bluegreen")
    session = ci.session()
    session.store = store

    from bluegreen.app import recovery

    try:
        getattr(recovery, command)(session)
    except Exception:  # noqa: BLE001 - only the order of calls matters here
        pass

    assert store.calls[:2] == ["acquire", "current"]


@pytest.mark.parametrize("command", ["promote", "abort", "rollback", "finalize"])
def test_a_command_exits_4_while_another_run_holds_the_lock_and_changes_nothing(ci, command):
    assert ci.deploy(pause_before_shift=True) == 0
    other = LockInfo(service="web", deployment_id="web-other", operation="deploy", holder="jenkins@agent-7",
                     host="agent-7", pid=4242)
    LocalStore(ci.directory / ".bluegreen").acquire(other, lease_seconds=3600)
    changes = len(ci.world.changes)

    assert getattr(ci, command)() == ExitCode.LOCKED

    assert len(ci.world.changes) == changes and ci.current().status is Status.PAUSED
