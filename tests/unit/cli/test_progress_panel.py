"""Live progress on a terminal: a panel redrawn in place, read back through a pseudo-terminal and a
terminal emulator (pyte), as a person at a terminal would see it; and plain lines when not a TTY.

The events are the executor's own (`step.started` / `step.succeeded` with step ids, `gate.waiting`,
`traffic.restored`), on a hand-moved clock; the plan is the target-group swap planner world.
"""

from __future__ import annotations

import io
import re
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "planning"))  # the strategies' planner worlds

from bluegreen.cli.progress import Panel, Progress, bar, mode  # noqa: E402
from bluegreen.domain.colors import Color  # noqa: E402
from bluegreen.domain.durations import format_duration  # noqa: E402
from bluegreen.domain.plan import Plan  # noqa: E402
from bluegreen.domain.steps import SetWeights  # noqa: E402
from bluegreen.events import Events  # noqa: E402
from bluegreen.planning.planner import make_plan  # noqa: E402
from support.builders import NOW  # noqa: E402
from support.terminal import pseudo_terminal  # noqa: E402
from test_target_group_swap import web_spec, web_world  # noqa: E402

WALL = datetime(2026, 12, 2, 19, 0, 0)


def web_plan() -> Plan:
    return make_plan(web_spec(), web_world(Color.BLUE), image_tag="v2", now=NOW)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def terminal(monkeypatch):
    with pseudo_terminal(monkeypatch) as made:
        yield made


def panel_events(stream, clock: Clock) -> Events:
    events = Events(mode="panel", stream=stream, clock=clock, service="web")
    events.watcher = Panel(stream=stream, clock=clock, start=0.0, wall=lambda: WALL, auto_refresh=False)
    return events


def run_until(events: Events, clock: Clock, plan: Plan, stop_at: str) -> None:
    """The executor's events for each step up to `stop_at`, which is left in flight; each step takes its budget."""
    for i, step in enumerate(plan.steps):
        events.emit("step.started", f"[{i + 1}/{len(plan.steps)}] {step.describe()}", step=step.id, phase=step.phase)
        if step.id == stop_at:
            return
        clock.now += step.budget()
        events.emit("step.succeeded", f"[{i + 1}/{len(plan.steps)}] done in {step.budget():.1f}s", step=step.id)


def line_with(screen: list[str], *words: str) -> str:
    found = [line for line in screen if all(w in line for w in words)]
    assert found, f"no line with {words} on the screen:\n" + "\n".join(screen)
    return found[0]


def test_the_panel_shows_the_step_in_flight_weight_bars_gates_and_an_eta(terminal):
    clock, plan = Clock(), web_plan()
    events = panel_events(terminal.tty, clock)
    events.show_plan(plan)
    run_until(events, clock, plan, "bake-10")
    clock.now += 20
    events.emit("gate.waiting", "bake: 20s of 1m held, alarms OK")

    screen = terminal.screen()

    assert "step 10/16 [shift] bake 1m at 10%" in line_with(screen, "step 10/16")
    assert f"{bar(90)}  90%" in line_with(screen, "web-alb:80 ", "web-blue")
    assert f"{bar(10)}  10%" in line_with(screen, "web-green", bar(10))
    assert "✓ alarms not firing" in line_with(screen, "gates") and "▶ bake 1m at 10%" in "".join(screen)
    left = Progress.remaining(events.watcher.progress, clock.now)
    eta = (WALL + timedelta(seconds=left)).strftime("%H:%M:%S")
    assert f"{format_duration(left)} left of {format_duration(plan.estimated_seconds)}, ETA {eta}" in "".join(screen)
    assert "bake: 20s of 1m held, alarms OK" in "".join(screen)


def test_the_panel_is_redrawn_in_place_not_scrolled(terminal):
    clock, plan = Clock(), web_plan()
    events = panel_events(terminal.tty, clock)
    events.show_plan(plan)
    run_until(events, clock, plan, "bake-10")
    first = terminal.screen()
    events.emit("step.succeeded", "[10/16] done", step="bake-10")
    for i, step in enumerate(plan.steps[10:], 11):
        clock.now += 1
        events.emit("step.started", f"[{i}/16] {step.describe()}", step=step.id, phase=step.phase)
        events.emit("step.succeeded", f"[{i}/16] done", step=step.id)
    events.emit("deploy.succeeded", "deployment succeeded")
    events.close()
    last = terminal.screen()

    titles = [n for n, line in enumerate(last) if "bluegreen · web · blue → green" in line]
    assert titles == [n for n, line in enumerate(first) if "bluegreen · web · blue → green" in line] and len(titles) == 1
    assert "\x1b[1A" in terminal.raw.decode(errors="replace") and "\x1b[2K" in terminal.raw.decode(errors="replace")
    assert f"{bar(100)} 100%" in line_with(last, "web-green", bar(100))
    assert "16/16 steps done" in "".join(last) and "succeeded" in "".join(last)
    assert "▶" not in "".join(last) and "·" not in line_with(last, "gates")


def test_a_rollback_puts_the_bars_back_where_traffic_started():
    progress, plan = Progress(), web_plan()
    progress.plan_known(plan)
    shift = next(s for s in plan.steps if isinstance(s, SetWeights) and s.production)
    progress.on({"event": "step.succeeded", "step": shift.id, "elapsed": 100})
    moved = dict(progress.weights)

    progress.on({"event": "rollback.begun", "elapsed": 101})
    progress.on({"event": "rollback.started", "step": f"undo-{shift.id}", "elapsed": 101.5,
                 "message": f"[rollback] {shift.inverse().describe()}"})
    progress.on({"event": "traffic.restored", "elapsed": 102})

    assert moved != progress.initial
    assert progress.weights == progress.initial
    assert progress.initial["web-alb:80"] == {"web-blue": 100, "web-green": 0}
    assert progress.state == "rolling back"
    assert progress.undoing == shift.inverse().describe()


def test_output_to_a_pipe_stays_plain_lines_and_json_stays_json():
    pipe = io.StringIO()

    assert mode("plain", "auto", pipe) == "plain"
    assert mode("json", "panel", pipe) == "json"
    assert mode("plain", "plain", pipe) == "plain"
    assert mode("plain", "panel", pipe) == "panel"


def test_a_dumb_terminal_gets_plain_lines(terminal, monkeypatch):
    monkeypatch.setenv("TERM", "dumb")
    assert mode("plain", "auto", terminal.tty) == "plain"
    monkeypatch.setenv("TERM", "xterm-256color")
    assert mode("plain", "auto", terminal.tty) == "panel"


def test_plain_lines_are_the_same_with_or_without_the_progress_options():
    lines = {}
    for chosen in ("plain", "auto"):
        pipe, clock = io.StringIO(), Clock()
        events = Events(mode=mode("plain", chosen, pipe), stream=pipe, clock=clock, service="web")
        events.show_plan(web_plan())
        clock.now = 65
        events.emit("step.started", "[1/16] refuse to start if any alarm is in ALARM: web-5xx", step="check-alarms")
        lines[chosen] = pipe.getvalue()

    assert lines["plain"] == lines["auto"] == "01:05 [web] [1/16] refuse to start if any alarm is in ALARM: web-5xx\n"
    assert not re.search("\x1b", lines["auto"])
