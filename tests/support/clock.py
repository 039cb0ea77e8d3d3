"""A clock that only moves when the code under test sleeps: waits are tested without waiting."""

from __future__ import annotations

from typing import Callable


class FakeClock:
    """`clock()` (monotonic), `wall()` (epoch seconds) and `sleep(s)`, which advances both at once.

    `at(seconds, action)` runs `action` the first time the clock reaches `seconds` after now, as
    if something happened in the world while the code slept (an alarm firing during a bake).
    """

    def __init__(self, wall_start: float = 1_800_000_000.0) -> None:
        self.now = 0.0
        self.wall_start = wall_start
        self.slept: list[float] = []
        self._due: list[tuple[float, Callable[[], None]]] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return self.wall_start + self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(0.0, seconds)
        due = [item for item in self._due if item[0] <= self.now]
        self._due = [item for item in self._due if item[0] > self.now]
        for _, action in due:
            action()

    def advance(self, seconds: float) -> None:
        """Time passing between two commands (nobody is sleeping in between)."""
        self.now += seconds

    def at(self, seconds_from_now: float, action: Callable[[], None]) -> None:
        self._due.append((self.now + seconds_from_now, action))
