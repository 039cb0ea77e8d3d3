"""`status` of a paused deployment: the step it waits before, later pauses, and the auto-promotion countdown."""

from __future__ import annotations

from bluegreen.app.views import paused
from bluegreen.cli.render.status import status_text
from bluegreen.domain.deployment import Status

from support.clock import FakeClock
from support.runs import running_record, step_index, web_plan, web_spec


def test_a_pause_with_a_timer_shows_its_step_the_later_pauses_and_the_seconds_left(tmp_path):
    clock = FakeClock()
    plan = web_plan(percentages=(10, 50, 100))
    record = running_record(web_spec(tmp_path).spec, plan, clock).with_(pause_before=("shift-50", "shift-100"))
    record = record.to(Status.PAUSED, next_step=step_index(plan, "shift-50"), auto_promote_at=clock.wall() + 300)
    clock.sleep(42)

    shown = paused(record, clock.wall())
    text = status_text({"service": "web", "strategy": "ecs-target-group-swap", "live_color": "blue", "state": [],
                        "health": [], "problems": [], "lock": None, "commands": [], "paused": shown,
                        "deployment": None})

    assert shown == {"before_step": "shift-50", "step": f"{step_index(plan, 'shift-50') + 1}/{len(plan.steps)}",
                     "later_pauses": ["shift-100"], "auto_promote_seconds_left": 258}
    assert f"paused before step {shown['step']} (shift-50); later pauses: shift-100; auto-promotes in 258s" in text
