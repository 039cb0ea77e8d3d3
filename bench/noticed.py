"""How late a finished rollout is noticed: `Gates.wait_until` (the code every waiting gate runs, with its
real backoff and jitter) on a simulated clock, for rollouts finishing at random moments.

Nothing is slept: the clock moves only when the gate sleeps, so thousands of waits take milliseconds,
and the figure is the code's, not the machine's. The lag is the time from the rollout finishing to the
poll that sees it, as a multiple of the configured interval.
"""

from __future__ import annotations

import random
import statistics

from bluegreen.execution.gates import Gates, NotYet

INTERVAL = 10.0  # the default health interval
ROLLOUTS = 2000


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def lags(interval: float = INTERVAL, rollouts: int = ROLLOUTS, seed: int = 16) -> list[float]:
    """Lag / interval for `rollouts` rollouts, each finishing at a random time within 30 intervals."""
    random.seed(seed)  # tenacity's jitter draws from `random`: the same figures every run
    finishes = random.Random(seed).sample(range(1, 300 * 1000), rollouts)
    out = []
    for finish_ms in finishes:
        clock, finish = _Clock(), finish_ms / 1000 * interval / 10

        def check() -> None:
            if clock.now < finish:
                raise NotYet("rollout IN_PROGRESS")

        Gates(observer=None, clock=clock.clock, sleep=clock.sleep).wait_until(  # type: ignore[arg-type]
            check, what="rollout", deadline=1e9, interval=interval, report=False)
        out.append((clock.now - finish) / interval)
    return out


def measure() -> list[tuple[str, str, str, str]]:
    found = lags()
    worst, median = max(found), statistics.median(found)
    return [(f"finished rollout noticed after ({len(found):,} simulated waits, interval {INTERVAL:g} s)",
             f"median {median:.2f}x, worst {worst:.2f}x the interval", "target: within 1.5x", "")]


if __name__ == "__main__":
    print(measure())
