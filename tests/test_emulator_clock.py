"""The clocks the emulator and a test share (bluegreen.local.clock)."""

from __future__ import annotations

import time

import pytest

from bluegreen.local.clock import ORIGIN_VARIABLE, SCALE_VARIABLE, ScaledClock, VirtualClock, from_environment


def test_a_virtual_sleep_returns_at_once_and_moves_time_on_by_the_seconds_slept():
    clock = VirtualClock(start=1000.0)
    wall = time.monotonic()

    clock.sleep(300)

    assert clock.time() == clock.monotonic() == 1300.0
    assert clock.slept == 300
    assert time.monotonic() - wall < 1


def test_a_virtual_clock_never_goes_back():
    with pytest.raises(ValueError):
        VirtualClock().advance(-1)


def test_a_scaled_clock_runs_scale_times_faster_than_real_time_from_its_origin():
    now = [100.0]
    slept = []
    clock = ScaledClock(50, origin=100.0, real=lambda: now[0], real_sleep=slept.append)

    now[0] = 102.0
    clock.sleep(60)

    assert clock.time() == 100.0 + 2.0 * 50
    assert slept == [60 / 50]


def test_processes_that_share_the_harness_variables_share_the_time():
    harness = ScaledClock(20)
    env = harness.environment()

    child = from_environment(env)

    assert set(env) == {ORIGIN_VARIABLE, SCALE_VARIABLE}
    assert child is not None and child.scale == 20 and child.origin == harness.origin
    assert abs(child.time() - harness.time()) < 1


def test_without_the_harness_variables_there_is_no_scaled_clock():
    assert from_environment({}) is None
