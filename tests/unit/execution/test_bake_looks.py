"""A bake looks at its alarms and target health once per interval, first one interval in and last at its end."""

from __future__ import annotations

import pytest

from bluegreen.execution.gates import GateFailed, Gates
from support.clock import FakeClock


class Observer:
    """Alarm states and target health, with the time of every read."""

    def __init__(self, clock: FakeClock, alarm_at: float | None = None) -> None:
        self.clock, self.alarm_at = clock, alarm_at
        self.reads: list[tuple[str, float]] = []

    def alarms(self, names, *, at_start=False):
        now = self.clock.clock()
        self.reads.append(("alarms", now))
        firing = self.alarm_at is not None and now >= self.alarm_at
        return {n: "ALARM" if firing else "OK" for n in names}

    def target_health(self, arn):
        self.reads.append(("health", self.clock.clock()))
        return [("10.0.0.1", "healthy", None)]


def baked(duration: float, interval: float, alarm_at: float | None = None) -> tuple[Observer, float]:
    clock = FakeClock()
    observer = Observer(clock, alarm_at)
    start = clock.clock()
    gates = Gates(observer=observer, clock=clock.clock, sleep=clock.sleep)
    try:
        gates.bake(duration, interval, ["web-5xx"], ["arn:tg/web-green/1"], None)
    finally:
        observer.reads = [(what, round(at - start, 6)) for what, at in observer.reads]
    return observer, clock.clock() - start


def test_a_bake_reads_each_signal_once_per_interval_the_last_time_at_its_end():
    observer, took = baked(duration=60.0, interval=10.0)

    assert [at for what, at in observer.reads if what == "alarms"] == [10, 20, 30, 40, 50, 60]
    assert [at for what, at in observer.reads if what == "health"] == [10, 20, 30, 40, 50, 60]
    assert took == 60.0


def test_a_bake_shorter_than_its_interval_looks_once_at_its_end():
    observer, _ = baked(duration=4.0, interval=10.0)

    assert observer.reads == [("alarms", 4.0), ("health", 4.0)]


def test_a_bake_of_nothing_is_one_look_now():
    observer, _ = baked(duration=0.0, interval=10.0)

    assert observer.reads == [("alarms", 0.0), ("health", 0.0)]


def test_an_alarm_firing_mid_bake_fails_it_at_the_next_look():
    clock = FakeClock()
    observer = Observer(clock, alarm_at=25.0)
    gates = Gates(observer=observer, clock=clock.clock, sleep=clock.sleep)

    with pytest.raises(GateFailed, match="web-5xx"):
        gates.bake(60.0, 10.0, ["web-5xx"], ["arn:tg/web-green/1"], None)

    assert observer.reads[-1] == ("alarms", 30.0)
