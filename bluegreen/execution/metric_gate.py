"""The metric gates of one bake: each query evaluated every `interval`, judged by `domain.analysis.judge`.

    tick()      every interval: read each gate's value (and blue's, for a comparison) over the window
                ending at the last full minute; a FAIL raises GateFailed naming the query and the value
    waiting()   the gates whose `on_no_data: wait` has not seen data yet in this bake: the bake holds
                past its time for them, up to the no-data deadline, and then fails naming them

The reader is an adapter (`adapters.aws.metrics.AwsMetrics`) or a fake with the same `value` method.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol

from bluegreen.domain.analysis import MetricGate, MetricRef, Result, Verdict, judge
from bluegreen.domain.durations import format_duration
from bluegreen.errors import StepFailed


class MetricReader(Protocol):
    def value(self, metrics: Mapping[str, MetricRef], expression: str | None, start: float,
              end: float) -> float | None: ...  # noqa: E704


class MetricGateFailed(StepFailed):
    """A metric query failed its threshold or comparison (or had no data and says so): roll back."""


def window(now: float, length: float) -> tuple[float, float]:
    """[start, end) of `length` seconds ending at the last full minute: CloudWatch's periods are whole minutes."""
    end = math.floor(now / 60.0) * 60.0
    return end - length, end


@dataclass
class MetricWatch:
    reader: MetricReader
    gates: list[MetricGate]
    wall_clock: Callable[[], float]
    interval: float
    no_data_deadline: float = 600.0  # how long past its time a bake is held for a gate waiting for data
    on_verdict: Callable[[Verdict], None] = field(default=lambda verdict: None)
    _next: float = field(default=-math.inf, init=False)
    _seen: set[str] = field(default_factory=set, init=False)

    def evaluate(self) -> list[Verdict]:
        """Every gate once, now; raises MetricGateFailed on the first that fails."""
        verdicts = []
        for gate in self.gates:
            start, end = window(self.wall_clock(), gate.window)
            value = self.reader.value(gate.metrics, gate.expression, start, end)
            baseline = (self.reader.value(gate.baseline, gate.expression, start, end)
                        if gate.baseline is not None else None)
            verdict = judge(gate, value, baseline)
            self.on_verdict(verdict)
            if verdict.result is Result.FAIL:
                raise MetricGateFailed(verdict.message)
            if verdict.result is Result.PASS and value is not None:
                self._seen.add(gate.name)
            verdicts.append(verdict)
        return verdicts

    def tick(self, now: float) -> None:
        """Evaluate when an interval has passed since the last evaluation (`now`: the gates' clock)."""
        if now >= self._next:
            self._next = now + self.interval
            self.evaluate()

    def waiting(self) -> list[str]:
        return [g.name for g in self.gates if g.on_no_data == "wait" and g.name not in self._seen]


def hold_for_data(watch: MetricWatch, clock: Callable[[], float], sleep: Callable[[float], None],
                  on_wait: Callable[[str], None]) -> None:
    """After the bake's time: keep evaluating while a waiting gate has no data, up to the no-data deadline."""
    deadline = watch.no_data_deadline
    started = clock()
    while watch.waiting():
        waited = clock() - started
        if waited >= deadline:
            raise MetricGateFailed(f"no data for metric {', '.join(watch.waiting())} after waiting "
                                   f"{format_duration(deadline)} past the bake (on_no_data: wait)")
        on_wait(f"waiting for data: metric {', '.join(watch.waiting())} "
                f"({format_duration(waited)} of {format_duration(deadline)})")
        sleep(min(watch.interval, deadline - waited))
        watch.tick(clock())
