"""Metric gates as the plan carries them, and the pure judgement of one evaluation.

A `MetricGate` is a spec query with every dimension filled in (the planner resolves `of: green`
to the target group's TargetGroup and LoadBalancer dimensions), so a saved plan or a resumed run
queries exactly what the plan showed. `judge` turns the values one evaluation read into a
`Verdict`: pass, fail (with the query and the value named) or wait (no data yet, and the query
says to keep waiting). It never reads CloudWatch; the execution side does, and asks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from bluegreen.domain.durations import format_duration


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MetricRef(_Frozen):
    """One GetMetricData MetricStat, every dimension known."""

    namespace: str
    name: str
    stat: str
    dimensions: dict[str, str] = Field(default_factory=dict)
    unit: str | None = None

    def describe(self) -> str:
        dims = ",".join(f"{k}={v}" for k, v in sorted(self.dimensions.items()))
        return f"{self.namespace} {self.name} {self.stat}" + (f" [{dims}]" if dims else "")


class MetricGate(_Frozen):
    name: str
    metrics: dict[str, MetricRef]  # id -> metric, green's side
    expression: str | None = None
    baseline: dict[str, MetricRef] | None = None  # the same ids, blue's side (compare_to_blue)
    at_most: float | None = None
    at_least: float | None = None
    ratio_at_most: float | None = None  # green <= ratio_at_most x blue
    ratio_at_least: float | None = None
    on_no_data: str = "wait"  # fail | pass | wait
    window: float = 300.0

    @property
    def what(self) -> str:
        """The query as a person reads it: the expression, or the one metric."""
        if self.expression:
            return self.expression
        return next(iter(self.metrics.values())).describe()

    def describe(self) -> str:
        bounds = []
        if self.at_most is not None:
            bounds.append(f"at most {_num(self.at_most)}")
        if self.at_least is not None:
            bounds.append(f"at least {_num(self.at_least)}")
        if self.ratio_at_most is not None:
            bounds.append(f"green at most {_num(self.ratio_at_most)} x blue")
        if self.ratio_at_least is not None:
            bounds.append(f"green at least {_num(self.ratio_at_least)} x blue")
        metrics = "; ".join(f"{key} = {m.describe()}" for key, m in self.metrics.items()) if self.expression else ""
        blue = "; ".join(f"{key} = {m.describe()}" for key, m in (self.baseline or {}).items())
        return (f"metric {self.name}: {self.what} {' and '.join(bounds)} over {format_duration(self.window)}"
                + (f" ({metrics})" if metrics else "") + (f" (blue: {blue})" if blue else "")
                + f"; no data: {self.on_no_data}")


class BakeMetrics(_Frozen):
    """A bake's metric gates: judged every `interval`; a gate waiting for data may hold the bake past its
    time for `no_data_deadline` seconds."""

    gates: list[MetricGate]
    interval: float = 60.0
    no_data_deadline: float = 600.0


class Result(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WAIT = "wait"  # no data yet, and the query keeps waiting for it


@dataclass(frozen=True)
class Verdict:
    gate: str
    result: Result
    message: str
    value: float | None = None
    baseline: float | None = None


def judge(gate: MetricGate, value: float | None, baseline: float | None = None) -> Verdict:
    """One evaluation of `gate`: its value (green's) and, for a comparison, blue's."""
    if value is None or (gate.baseline is not None and baseline is None):
        side = "green" if value is None else "blue (the baseline)"
        message = f"metric {gate.name} ({gate.what}): no data for {side} in the last {format_duration(gate.window)}"
        result = {"fail": Result.FAIL, "pass": Result.PASS}.get(gate.on_no_data, Result.WAIT)
        return Verdict(gate.name, result, message, value, baseline)
    broken = _threshold(gate, value) or (_ratio(gate, value, baseline) if baseline is not None else None)
    if broken:
        return Verdict(gate.name, Result.FAIL, f"metric {gate.name} ({gate.what}) = {_num(value)}: {broken}",
                       value, baseline)
    shown = f"metric {gate.name} = {_num(value)}" + (f" (blue {_num(baseline)})" if baseline is not None else "")
    return Verdict(gate.name, Result.PASS, shown, value, baseline)


def _threshold(gate: MetricGate, value: float) -> str | None:
    if gate.at_most is not None and value > gate.at_most:
        return f"above its threshold {_num(gate.at_most)}"
    if gate.at_least is not None and value < gate.at_least:
        return f"below its threshold {_num(gate.at_least)}"
    return None


def _ratio(gate: MetricGate, value: float, baseline: float) -> str | None:
    if gate.ratio_at_most is not None and value > gate.ratio_at_most * baseline:
        return (f"more than {_num(gate.ratio_at_most)} x blue's {_num(baseline)} "
                f"(= {_num(gate.ratio_at_most * baseline)})")
    if gate.ratio_at_least is not None and value < gate.ratio_at_least * baseline:
        return (f"less than {_num(gate.ratio_at_least)} x blue's {_num(baseline)} "
                f"(= {_num(gate.ratio_at_least * baseline)})")
    return None


def _num(value: float) -> str:
    return f"{value:.4g}"
