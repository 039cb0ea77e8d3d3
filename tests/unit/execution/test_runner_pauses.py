"""Pauses at any named step, promotion to the next pause, and the auto-promotion timer, on the in-memory rig."""

from __future__ import annotations

import pytest

from bluegreen.domain.deployment import Status
from bluegreen.execution.runner import Ending
from bluegreen.planning.judgement import UnknownStep, pause_points

from support.runs import running_record, step_index, web_plan
from support.world import TG_BLUE, TG_GREEN


def paused_at(rig, spec, plan, *pauses, **record_fields):
    record = running_record(spec, plan, rig.clock).with_(pause_before=pauses, **record_fields)
    return rig.runner(plan).run(record)


def test_a_named_step_pauses_the_deployment_before_it(rig, spec):
    plan = web_plan(percentages=(10, 50, 100))

    outcome = paused_at(rig, spec, plan, "shift-50")

    assert outcome.ending is Ending.PAUSED and outcome.record.next_step == step_index(plan, "shift-50")
    assert rig.world.listener_changes() == [{TG_BLUE: 90, TG_GREEN: 10}]


def test_promoting_past_a_pause_runs_to_the_next_one(rig, spec):
    plan = web_plan(percentages=(10, 50, 100))
    first = paused_at(rig, spec, plan, "shift-10", "shift-100").record
    promoted = first.to(Status.RUNNING, promoted=True, passed_pause=first.next_step)

    outcome = rig.runner(plan).run(promoted, start=promoted.next_step)

    assert outcome.ending is Ending.PAUSED and outcome.record.next_step == step_index(plan, "shift-100")
    assert rig.world.listener_changes() == [{TG_BLUE: 90, TG_GREEN: 10}, {TG_BLUE: 50, TG_GREEN: 50}]


def test_a_pause_with_a_timer_counts_down_and_promotes_itself(rig, spec):
    plan = web_plan(interval=60.0)

    outcome = paused_at(rig, spec, plan, "shift-100", auto_promote_after=150.0)

    assert outcome.ending is Ending.KEEPING_WARM
    waiting = [r for r in rig.records.saved if r.status is Status.PAUSED]
    assert len(waiting) == 1 and waiting[0].next_step == step_index(plan, "shift-100")
    assert [60.0, 60.0, 30.0] == rig.clock.slept[-4:-1]  # the countdown, then the 100% step's bake
    assert waiting[0].auto_promote_at is not None
    assert "deploy.countdown" in rig.emitted() and "deploy.promoted" in rig.emitted()
    assert rig.world.listener_changes()[-1] == {TG_BLUE: 0, TG_GREEN: 100}


@pytest.mark.parametrize("names, expected", [
    (["shift"], ("shift-10",)), (["bake-100", "shift-10"], ("shift-10", "bake-100")), (["shift-10", "shift"], ("shift-10",)),
])
def test_pause_names_resolve_to_plan_steps_in_order(names, expected):
    assert pause_points(web_plan().steps, names) == expected


def test_a_pause_naming_no_step_is_refused_with_the_steps_there_are():
    with pytest.raises(UnknownStep, match=r"no step named 'shift-7' to pause before; the plan's steps are: "
                                          r"check-alarms, register-task-definition"):
        pause_points(web_plan().steps, ["shift-7"])
