"""Live progress on a terminal: one panel redrawn in place, fed by the same events the plain lines are.

The panel shows the step in flight (and how far into its budget it is), each listener's or record's
traffic weights as bars, the gates (passed, in flight, failed, to come), the time left in the plan's
budget with an ETA, and the last events. It is a view: `Progress` folds the event stream into state
(pure, no terminal), `render` draws that state with rich, and `Panel` keeps a rich `Live` display
redrawn on each event and a few times a second in between (a bake shows its countdown).

Where the panel is used (`mode`): `--progress panel`, or `auto` on a terminal (not TERM=dumb). Piped
output, `--plain`/`--progress plain` and `--events json` keep their lines exactly as before.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, TextIO

from bluegreen.cli.render.timeline import label
from bluegreen.domain.durations import format_duration
from bluegreen.domain.plan import Plan
from bluegreen.domain.steps import KeepWarm, SetRecordWeights, SetWeights, Step
from bluegreen.domain.weights import percentages

BAR = 24  # characters of a full (100%) weight bar
SHOWN_EVENTS = 5


def mode(events_mode: str, progress: str, stream: TextIO) -> str:
    """"json", "plain" or "panel" for this run's output."""
    if events_mode == "json" or progress == "plain":
        return events_mode
    if progress == "panel":
        return "panel"
    tty = hasattr(stream, "isatty") and stream.isatty()
    return "panel" if tty and os.environ.get("TERM", "") != "dumb" else "plain"


# --- state ------------------------------------------------------------------------------------------


@dataclass
class Progress:
    """What the panel shows, folded from the events (`on`) and the plan (`plan_known`)."""

    plan: Plan | None = None
    elapsed: float = 0.0  # seconds since the command started, as of the last event
    current: str | None = None  # the id of the step in flight
    current_since: float = 0.0
    done: list[str] = field(default_factory=list)
    failed: str | None = None
    state: str = "starting"  # starting / running / rolling back / succeeded / rolled back / paused / stopped
    weights: dict[str, dict[str, int]] = field(default_factory=dict)  # label -> name -> percent
    initial: dict[str, dict[str, int]] = field(default_factory=dict)
    waiting: str = ""  # the last gate.waiting line of the step in flight
    undoing: str = ""  # the rollback step in flight
    last: deque[tuple[float, str]] = field(default_factory=lambda: deque(maxlen=SHOWN_EVENTS))

    def plan_known(self, plan: Plan) -> None:
        self.plan = plan
        for step in plan.steps:
            if isinstance(step, (SetWeights, SetRecordWeights)) and _traffic_label(step) not in self.initial:
                self.initial[_traffic_label(step)] = _shares(step, step.previous)
        self.weights = {k: dict(v) for k, v in self.initial.items()}

    def on(self, record: dict[str, Any]) -> None:
        event, step_id = record.get("event", ""), record.get("step")
        self.elapsed = float(record.get("elapsed", self.elapsed))
        self.last.append((self.elapsed, str(record.get("message", ""))))
        if event == "step.started" and step_id:
            self.current, self.current_since, self.waiting, self.state = step_id, self.elapsed, "", "running"
        elif event == "step.succeeded" and step_id:
            self.done.append(step_id)
            step = self.step_of(step_id)
            if isinstance(step, (SetWeights, SetRecordWeights)):
                self.weights[_traffic_label(step)] = _shares(step, step.weights)
            self.current = None
        elif event == "step.failed" and step_id:
            self.failed, self.current = step_id, None
        elif event == "gate.waiting":
            self.waiting = str(record.get("message", ""))
        elif event == "rollback.begun":
            self.state, self.current = "rolling back", None
        elif event == "rollback.started":
            self.undoing = str(record.get("message", "")).removeprefix("[rollback] ")
        elif event == "traffic.restored":
            self.weights = {k: dict(v) for k, v in self.initial.items()}  # a rollback restores the start
        else:
            self.state = _STATES.get(event, self.state)

    def step_of(self, step_id: str) -> Step | None:
        return next((s for s in self.plan.steps if s.id == step_id), None) if self.plan else None

    # what the numbers say

    def remaining(self, now: float) -> float:
        """Expected seconds left: the budgets of the steps to come, and what is left of the one in flight."""
        if self.plan is None or self.state not in ("running", "starting"):
            return 0.0
        left = 0.0
        for step in self.plan.steps:
            if step.id in self.done or isinstance(step, KeepWarm):
                continue
            left += max(step.budget() - (now - self.current_since), 0.0) if step.id == self.current else step.budget()
        return left


_STATES = {"deploy.succeeded": "succeeded", "rollback.succeeded": "rolled back", "deploy.paused": "paused",
           "deploy.stopped": "stopped", "deploy.started": "running", "deploy.noop": "nothing to deploy"}


def _traffic_label(step: SetWeights | SetRecordWeights) -> str:
    if isinstance(step, SetWeights):
        return step.label + ("" if step.production else " (test)")
    return step.record


def _shares(step: SetWeights | SetRecordWeights, weights: dict[str, int]) -> dict[str, int]:
    names = step.names if isinstance(step, SetWeights) else {}
    return {names.get(key, key): pct for key, pct in percentages(weights).items()}


# --- drawing ------------------------------------------------------------------------------------------


def bar(percent: int, width: int = BAR) -> str:
    full = round(width * percent / 100)
    return "█" * full + "░" * (width - full)


def render(p: Progress, now: float, wall: datetime) -> Any:
    """The panel for state `p`, `now` seconds since the start (`wall`: the local time now, for the ETA)."""
    from rich.console import Group
    from rich.panel import Panel as RichPanel
    from rich.table import Table
    from rich.text import Text

    rows: list[Any] = [_step_line(p, now)]
    if p.weights:
        traffic = Table.grid(padding=(0, 1))
        for where, shares in p.weights.items():
            for i, (name, pct) in enumerate(shares.items()):
                traffic.add_row(where if i == 0 else "", name, Text(bar(pct), style=_hue(name)), f"{pct:3d}%")
        rows += [Text("traffic", style="bold"), traffic]
    gates = _gates(p)
    if gates is not None:
        rows += [gates]
    rows += [_time_line(p, now, wall), Text("last events", style="bold")]
    rows += [Text(f"  {_clock(at)} {message}", overflow="ellipsis", no_wrap=True) for at, message in p.last]
    title = "bluegreen" if p.plan is None else (
        f"bluegreen · {p.plan.service} · {p.plan.live_color or 'live'} → {p.plan.target_color or 'new'}")
    return RichPanel(Group(*rows), title=title, subtitle=p.state, title_align="left")


def _step_line(p: Progress, now: float) -> Any:
    from rich.text import Text

    if p.plan is None or not p.plan.steps:
        return Text("reading the live state and planning" if p.state == "starting" else p.state, style="bold")
    if p.state == "rolling back":
        return Text(f"rolling back: {p.undoing or 'putting traffic back on ' + (p.plan.live_color or 'the old color')}",
                    style="bold red")
    step = p.step_of(p.current) if p.current else None
    if step is None:
        failed = f"; step {p.failed} failed" if p.failed else ""
        return Text(f"{len(p.done)}/{len(p.plan.steps)} steps done{failed}", style="bold")
    index = p.plan.steps.index(step) + 1
    spent, budget = now - p.current_since, step.budget()
    line = Text(f"step {index}/{len(p.plan.steps)} [{step.phase}] {label(step)}", style="bold")
    line.append(f"  {format_duration(spent)} of {format_duration(budget)} expected  ")
    line.append(bar(min(int(100 * spent / budget), 100) if budget else 100, 16), style="cyan")
    if p.waiting:
        line.append(f"\n  {p.waiting}", style="yellow")
    return line


def _gates(p: Progress) -> Any:
    from rich.text import Text

    if p.plan is None:
        return None
    gates = [s for s in p.plan.steps if not s.mutates and not isinstance(s, KeepWarm)]
    if not gates:
        return None
    out = Text("gates ", style="bold")
    for step in gates:
        mark, style = (("✗", "red") if step.id == p.failed else ("✓", "green") if step.id in p.done
                       else ("▶", "yellow") if step.id == p.current else ("·", "dim"))
        out.append(f" {mark} {label(step)}", style=style)
    return out


def _time_line(p: Progress, now: float, wall: datetime) -> Any:
    from rich.text import Text

    if p.plan is None or not p.plan.steps:
        return Text(f"time  {format_duration(now)} elapsed")
    budget, left = p.plan.estimated_seconds, p.remaining(now)
    if p.state not in ("running", "starting"):
        return Text(f"time  {format_duration(now)} elapsed of {format_duration(budget)} budgeted")
    eta = (wall + timedelta(seconds=left)).strftime("%H:%M:%S")
    over = now + left - budget
    note = f" ({format_duration(over)} over the budget)" if over >= 1 else ""
    return Text(f"time  {format_duration(now)} elapsed, {format_duration(left)} left of "
                f"{format_duration(budget)}{note}, ETA {eta}")


def _hue(name: str) -> str:
    low = name.lower()
    return "blue" if "blue" in low else "green" if "green" in low else "magenta"


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


# --- the live display -------------------------------------------------------------------------------


@dataclass
class Panel:
    """The Events watcher of panel mode: a rich Live display on `stream`, redrawn in place.

    With `auto_refresh` (a real terminal) rich's own thread redraws a few times a second, so a burst
    of events costs no drawing of its own; a lock keeps that thread from drawing a half-folded event.
    Without it (tests), every event redraws."""

    stream: TextIO
    clock: Callable[[], float]  # the Events' clock: seconds, same origin as `start`
    start: float
    wall: Callable[[], datetime] = datetime.now
    auto_refresh: bool = True
    progress: Progress = field(default_factory=Progress)
    _live: Any = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def _frame(self) -> Any:
        with self._lock:
            return render(self.progress, max(self.clock() - self.start, self.progress.elapsed), self.wall())

    def _ensure(self) -> Any:
        if self._live is None:
            from rich.console import Console
            from rich.live import Live

            console = Console(file=self.stream, force_terminal=True)
            self._live = Live(get_renderable=self._frame, console=console, auto_refresh=self.auto_refresh,
                              refresh_per_second=4, redirect_stdout=False, redirect_stderr=False)
            self._live.start(refresh=True)
        return self._live

    def plan(self, plan: Plan) -> None:
        with self._lock:
            self.progress.plan_known(plan)
        self._ensure().refresh()

    def event(self, record: dict[str, Any]) -> None:
        with self._lock:
            self.progress.on(record)
        live = self._ensure()
        if not self.auto_refresh:
            live.refresh()

    def close(self) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()
            self._live = None
