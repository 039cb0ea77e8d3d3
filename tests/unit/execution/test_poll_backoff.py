"""The wait between health polls is capped: a finished rollout is noticed within 1.5x the interval."""

from __future__ import annotations

from tenacity import RetryCallState

from bluegreen.execution.gates import MAX_WAIT_FACTOR, Gates, NotYet, poll_backoff


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _state(attempt: int) -> RetryCallState:
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt
    return state


def test_the_wait_never_grows_past_one_and_a_half_intervals_however_long_the_wait():
    backoff = poll_backoff(10.0)

    waits = [backoff(_state(attempt)) for attempt in range(1, 60)]

    assert max(waits) <= 10.0 * MAX_WAIT_FACTOR
    assert min(waits) >= 5.0  # never faster than half the interval: polling stays cheap


def test_a_rollout_that_finishes_during_a_long_wait_is_noticed_within_one_and_a_half_intervals():
    clock = Clock()
    finished_at = 300.0
    noticed: list[float] = []

    def check() -> None:
        if clock.now < finished_at:
            raise NotYet("rollout IN_PROGRESS")
        noticed.append(clock.now)

    Gates(observer=None, clock=clock, sleep=clock.sleep).wait_until(  # type: ignore[arg-type]
        check, what="web", deadline=600.0, interval=10.0)

    assert noticed and noticed[0] - finished_at <= 10.0 * MAX_WAIT_FACTOR
    assert max(clock.sleeps) <= 10.0 * MAX_WAIT_FACTOR




class GuardedClock(Clock):
    def sleep(self, seconds: float) -> None:
        if len(self.sleeps) > 1000:
            raise AssertionError("the wait never ended: it kept sleeping the sliver left before its deadline")
        super().sleep(seconds)


def test_a_wait_ends_at_its_deadline_even_when_the_sliver_left_never_moves_the_clock_past_it():
    # 126.724 + 30.0 - 126.724 is 29.999999999999986 in floats, and adding the 1.4e-14 left to 156.724
    # changes nothing: the wait once slept that sliver forever (a whole suite hung on it now and then).
    clock = GuardedClock()
    clock.now = 126.724
    gates = Gates(observer=None, clock=clock, sleep=clock.sleep)  # type: ignore[arg-type]

    def never() -> None:
        raise NotYet("web-blue: 0/2 healthy")

    try:  # an interval longer than the deadline: the first wait sleeps all that is left
        gates.wait_until(never, what="target group web-blue", deadline=30.0, interval=100.0)
    except Exception as failed:
        assert "not healthy after 30s" in str(failed)
    else:
        raise AssertionError("a check that never passes passed")
    assert len(clock.sleeps) <= 2 and clock.now == 126.724 + 30.0
