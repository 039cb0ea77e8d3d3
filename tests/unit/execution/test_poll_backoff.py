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
