"""Clocks the emulator and a test share, so a 60 s bake or a 300 s deregistration delay costs
milliseconds instead of sleeps.

Both clocks offer the three callables the product's run context takes (`RunContext(clock=...,
sleep=..., wall_clock=...)`): `monotonic`, `sleep` and `time`. The emulator's simulation reads
`time()` whenever a request arrives, so whatever time the product has slept through has passed
for ECS, the load balancers and Auto Scaling too.

- `VirtualClock`: for one process (a test calling the CLI in-process). `sleep(s)` advances time
  at once; nothing moves unless someone sleeps or `advance`s.
- `ScaledClock`: virtual = origin + (real - origin) x scale. Two processes that agree on origin
  and scale agree on the time, so a CLI subprocess and the in-process server can both follow it.
  The test harness passes origin and scale through `BLUEGREEN_EMULATOR_CLOCK_ORIGIN` /
  `BLUEGREEN_EMULATOR_CLOCK_SCALE` (`environment()` makes them); only `bluegreen.local` reads
  them, never product code.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping, Protocol

ORIGIN_VARIABLE = "BLUEGREEN_EMULATOR_CLOCK_ORIGIN"
SCALE_VARIABLE = "BLUEGREEN_EMULATOR_CLOCK_SCALE"


class Clock(Protocol):
    def time(self) -> float: ...  # noqa: E704 - wall-clock seconds since the epoch
    def monotonic(self) -> float: ...  # noqa: E704
    def sleep(self, seconds: float) -> None: ...  # noqa: E704


class RealClock:
    """The machine's own time; what the emulator uses when nobody asks for another clock."""

    def time(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))


class VirtualClock:
    """Time that passes only when someone sleeps: a sleep returns at once, `seconds` later."""

    def __init__(self, start: float | None = None) -> None:
        self._now = time.time() if start is None else start
        self._lock = threading.Lock()
        self.slept = 0.0  # total virtual seconds slept, for reports

    def time(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.advance(seconds)
        self.slept += max(0.0, seconds)

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"a clock does not go back ({seconds}s)")
        with self._lock:
            self._now += seconds


class ScaledClock:
    """Real time sped up `scale` times from `origin` (a wall-clock instant both sides agree on)."""

    def __init__(self, scale: float, origin: float | None = None,
                 real: Callable[[], float] = time.time, real_sleep: Callable[[float], None] = time.sleep) -> None:
        if scale <= 0:
            raise ValueError(f"scale must be positive, not {scale}")
        self.scale = scale
        self.origin = real() if origin is None else origin
        self._real = real
        self._real_sleep = real_sleep

    def time(self) -> float:
        return self.origin + (self._real() - self.origin) * self.scale

    def monotonic(self) -> float:
        return self.time()

    def sleep(self, seconds: float) -> None:
        self._real_sleep(max(0.0, seconds) / self.scale)

    def environment(self) -> dict[str, str]:
        """The variables a child process needs to follow this clock (see `from_environment`)."""
        return {ORIGIN_VARIABLE: repr(self.origin), SCALE_VARIABLE: repr(self.scale)}


def from_environment(env: Mapping[str, str] | None = None) -> ScaledClock | None:
    """The scaled clock a test harness asked for, or None when it asked for none."""
    env = os.environ if env is None else env
    scale = env.get(SCALE_VARIABLE)
    if not scale:
        return None
    origin = env.get(ORIGIN_VARIABLE)
    try:
        return ScaledClock(float(scale), float(origin) if origin else None)
    except ValueError as error:
        raise ValueError(f"{SCALE_VARIABLE}={scale!r} / {ORIGIN_VARIABLE}={origin!r}: {error}") from None


def run_context_settings(clock: Clock) -> dict[str, Callable]:
    """Keyword arguments for `RunContext(...)` that put the product on `clock`."""
    return {"clock": clock.monotonic, "sleep": clock.sleep, "wall_clock": clock.time}


@contextmanager
def product_on(clock: Clock) -> Iterator[None]:
    """Run the product, in this process, on `clock`: every `RunContext.from_environment` (what the
    CLI builds) gets the clock's callables unless given others. For the test harness and the
    `harness` entry point only; the product itself never looks for a clock.

    Until the gates take the run context's clock (being wired now), their own defaults are
    pointed at the clock as well; once they do, that part changes nothing.
    """
    from bluegreen.app.context import RunContext
    from bluegreen.execution.gates import Gates

    settings = run_context_settings(clock)
    original = RunContext.__dict__["from_environment"]
    original_defaults = Gates.__init__.__defaults__

    def from_environment(cls: type, env: Mapping[str, str] | None = None, **given: object) -> object:
        return original.__func__(cls, env, **{**settings, **given})

    RunContext.from_environment = classmethod(from_environment)  # type: ignore[method-assign,assignment]
    defaults = list(original_defaults or ())
    if defaults[:2] == [time.monotonic, time.sleep]:  # Gates(observer, clock=..., sleep=..., ...)
        defaults[0], defaults[1] = clock.monotonic, clock.sleep
        Gates.__init__.__defaults__ = tuple(defaults)
    try:
        yield
    finally:
        RunContext.from_environment = original  # type: ignore[method-assign]
        Gates.__init__.__defaults__ = original_defaults
