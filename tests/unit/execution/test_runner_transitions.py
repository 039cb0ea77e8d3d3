"""Every transition in the table is one the commands really make: each has a scenario that makes it.

A transition added to the table without a way to reach it, or a scenario that no longer reaches its
transition, fails here.
"""

from __future__ import annotations

from typing import Callable

import pytest

from bluegreen.domain.deployment import TRANSITIONS, Deployment, Status
from bluegreen.errors import ExitCode

from support.commands import Commands

S = Status
Scenario = Callable[[Commands], None]


def paused(ci: Commands) -> None:
    assert ci.deploy(pause_before_shift=True) == 0


def promoted(ci: Commands) -> None:
    paused(ci)
    assert ci.promote() == 0


def kept_warm(ci: Commands) -> None:
    assert ci.deploy() == 0


def finalized(ci: Commands) -> None:
    kept_warm(ci)
    ci.clock.advance(901)
    assert ci.finalize() == 0


def waited_out(ci: Commands) -> None:
    assert ci.deploy(wait_finalize=True) == 0


def rolled_back_by_a_gate(ci: Commands) -> None:
    ci.alarm_when_green_gets(10)
    assert ci.deploy() == ExitCode.DEPLOY_FAILED_ROLLED_BACK


def left_failed(ci: Commands) -> None:
    ci.automatic = False
    ci.alarm_when_green_gets(10)
    assert ci.deploy() == ExitCode.ROLLBACK_INCOMPLETE


def failed_then_rolled_back(ci: Commands) -> None:
    left_failed(ci)
    assert ci.rollback() == 0


def aborted_while_paused(ci: Commands) -> None:
    paused(ci)
    assert ci.abort() == 0


def rolled_back_while_warm(ci: Commands) -> None:
    kept_warm(ci)
    assert ci.rollback() == 0


def rollback_failed(ci: Commands) -> None:
    ci.alarm_when_green_gets(10)
    ci.listener_refuses_blue()
    assert ci.deploy() == ExitCode.ROLLBACK_INCOMPLETE


def rollback_failed_then_finished(ci: Commands) -> None:
    rollback_failed(ci)
    assert ci.rollback() == 0


def killed_rollback_resumed(ci: Commands) -> None:
    paused(ci)
    session = ci.session()
    session.records.save(session.records.current().to(S.ROLLING_BACK, reason="aborted by request"))
    assert ci.resume() == 0


SCENARIOS: dict[tuple[Status, Status], Scenario] = {
    (S.RUNNING, S.PAUSED): paused,
    (S.RUNNING, S.KEEPING_WARM): kept_warm,
    (S.RUNNING, S.SUCCEEDED): waited_out,
    (S.RUNNING, S.ROLLING_BACK): rolled_back_by_a_gate,
    (S.RUNNING, S.FAILED): left_failed,
    (S.PAUSED, S.RUNNING): promoted,
    (S.PAUSED, S.ROLLING_BACK): aborted_while_paused,
    (S.ROLLING_BACK, S.ROLLED_BACK): rolled_back_by_a_gate,
    (S.ROLLING_BACK, S.ROLLBACK_FAILED): rollback_failed,
    (S.ROLLING_BACK, S.ROLLING_BACK): killed_rollback_resumed,
    (S.ROLLBACK_FAILED, S.ROLLING_BACK): rollback_failed_then_finished,
    (S.KEEPING_WARM, S.SUCCEEDED): finalized,
    (S.KEEPING_WARM, S.ROLLING_BACK): rolled_back_while_warm,
    (S.FAILED, S.ROLLING_BACK): failed_then_rolled_back,
}


@pytest.fixture
def transitions(monkeypatch) -> list[tuple[Status, Status]]:
    """Every status change made through `Deployment.to`, in order."""
    made: list[tuple[Status, Status]] = []
    original = Deployment.to

    def to(self: Deployment, status: Status, **changes: object) -> Deployment:
        made.append((self.status, status))
        return original(self, status, **changes)

    monkeypatch.setattr(Deployment, "to", to)
    return made


def test_there_is_a_scenario_for_every_transition_in_the_table():
    table = {(before, after) for before, afters in TRANSITIONS.items() for after in afters}

    assert set(SCENARIOS) == table


@pytest.mark.parametrize(("before", "after"), list(SCENARIOS), ids=[f"{b}->{a}" for b, a in SCENARIOS])
def test_the_commands_make_each_transition_of_the_table(tmp_path, transitions, before, after):
    SCENARIOS[(before, after)](Commands(tmp_path))

    assert (before, after) in transitions
