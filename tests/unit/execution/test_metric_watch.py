"""A bake's metric gates with a fake CloudWatch: evaluated every interval, whole-minute windows, waiting for data."""

from __future__ import annotations

import pytest

from bluegreen.domain.analysis import BakeMetrics, MetricGate, MetricRef
from bluegreen.execution.gates import Gates
from bluegreen.execution.metric_gate import MetricGateFailed, window
from support.clock import FakeClock

AGE = MetricRef(namespace="Jobs", name="OldestMessageAge", stat="Maximum")
GATE = MetricGate(name="queue-age", metrics={"age": AGE}, at_most=60.0)


class FakeMetrics:
    """Answers each query from `values(now)`; records the windows asked for."""

    def __init__(self, clock, values):
        self.clock, self.values, self.windows = clock, values, []

    def value(self, metrics, expression, start, end):
        self.windows.append((start, end))
        return self.values(self.clock.wall())


def bake(clock, metrics, gate=GATE, duration=120.0, no_data_deadline=600.0, waits=None):
    gates = Gates(observer=None, clock=clock.clock, sleep=clock.sleep, metrics=metrics, wall_clock=clock.wall,
                  on_wait=(waits.append if waits is not None else (lambda m: None)))
    gates.bake(duration, 10.0, [], [], None,
               metrics=BakeMetrics(gates=[gate], interval=30.0, no_data_deadline=no_data_deadline))


def test_each_window_ends_at_the_last_full_minute():
    assert window(1000.0, 300.0) == (660.0, 960.0)


def test_gates_are_evaluated_every_metric_interval_through_the_bake():
    clock = FakeClock(wall_start=6000.0)
    metrics = FakeMetrics(clock, lambda now: 5.0)

    bake(clock, metrics)

    assert len(metrics.windows) == 5  # at 0, 30, 60, 90 and 120 s
    assert metrics.windows[0] == (5700.0, 6000.0)


def test_a_breach_mid_bake_fails_the_bake_with_the_query_and_value():
    clock = FakeClock(wall_start=6000.0)
    metrics = FakeMetrics(clock, lambda now: 5.0 if now < 6050 else 75.0)

    with pytest.raises(MetricGateFailed, match=r"metric queue-age \(Jobs OldestMessageAge Maximum\) = 75: above"):
        bake(clock, metrics)
    assert clock.wall() == 6060.0


def test_waiting_for_data_holds_the_bake_past_its_time_until_data_arrives():
    clock = FakeClock(wall_start=6000.0)
    waits: list[str] = []
    metrics = FakeMetrics(clock, lambda now: None if now < 6200 else 1.0)

    bake(clock, metrics, gate=GATE.model_copy(update={"on_no_data": "wait"}), waits=waits)

    assert clock.wall() == 6210.0  # the bake's 120 s, then held until the first evaluation with data
    assert any(w.startswith("waiting for data: metric queue-age") for w in waits)


def test_waiting_for_data_gives_up_at_the_no_data_deadline():
    clock = FakeClock(wall_start=6000.0)
    metrics = FakeMetrics(clock, lambda now: None)

    with pytest.raises(MetricGateFailed, match="no data for metric queue-age after waiting 1m past the bake"):
        bake(clock, metrics, gate=GATE.model_copy(update={"on_no_data": "wait"}), no_data_deadline=60.0)
    assert clock.wall() == 6180.0


def test_data_once_seen_then_missing_does_not_hold_the_bake():
    clock = FakeClock(wall_start=6000.0)
    metrics = FakeMetrics(clock, lambda now: 1.0 if now < 6030 else None)

    bake(clock, metrics, gate=GATE.model_copy(update={"on_no_data": "wait"}))

    assert clock.wall() == 6120.0
