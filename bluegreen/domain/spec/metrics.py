"""The spec's `analysis` section: CloudWatch metric queries judged through every bake.

A query is one or more metrics (GetMetricData `MetricStat`s, each under an id) and optionally a
metric-math `expression` over those ids. It passes when its value is within `at_most` / `at_least`;
with `compare_to_blue` the same query is also run with every `of: green` metric pointed at blue,
and green's value is judged against blue's times the given factors. `on_no_data` says what a
window without a datapoint means: fail the gate, pass it, or keep waiting for data (the bake is
held past its time, up to `no_data_deadline`, then fails).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import Field, field_validator, model_validator

from bluegreen.domain.durations import Duration
from bluegreen.domain.spec.base import Model

METRIC_ID = r"^[a-z][a-zA-Z0-9_]{0,254}$"  # GetMetricData's rule for a query id


class NoData(StrEnum):
    FAIL = "fail"
    PASS = "pass"
    WAIT = "wait"


class Metric(Model):
    """One CloudWatch metric and statistic (a GetMetricData `MetricStat`)."""

    namespace: str = Field(min_length=1, max_length=255, description="e.g. AWS/ApplicationELB")
    name: str = Field(min_length=1, max_length=255, description="The metric's name, e.g. HTTPCode_Target_5XX_Count.")
    stat: str = Field("Average", pattern=r"^(SampleCount|Average|Sum|Minimum|Maximum|p\d{1,2}(\.\d{1,2})?)$",
                      description="Sum, Average, Minimum, Maximum, SampleCount or a percentile such as p99.")
    of: Literal["green", "blue"] | None = Field(
        None, description="Fill in the TargetGroup and LoadBalancer dimensions of this color's target group "
                          "(the first route's); `compare_to_blue` swaps green for blue.")
    dimensions: dict[str, str] = Field(default_factory=dict, description="Literal dimensions (added to `of`'s).")
    unit: str | None = Field(None, description="Only datapoints published with this unit.")


class Comparison(Model):
    """Green's value against blue's: green <= at_most x blue and/or green >= at_least x blue."""

    at_most: float | None = Field(None, gt=0, description="e.g. 1.2: green's value at most 1.2 x blue's.")
    at_least: float | None = Field(None, gt=0, description="e.g. 0.9: green's value at least 0.9 x blue's.")

    @model_validator(mode="after")
    def _one_bound(self) -> "Comparison":
        if self.at_most is None and self.at_least is None:
            raise ValueError("give at_most and/or at_least (factors of blue's value)")
        return self


class MetricQuery(Model):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description="Named in the plan and in a failure.")
    metrics: dict[str, Metric] = Field(min_length=1, description="Metrics by id (lower-case first letter), "
                                                                  "usable in `expression`.")
    expression: str | None = Field(None, max_length=1024,
                                   description="Metric math over the ids, e.g. `100 * FILL(errors, 0) / requests`; "
                                               "default: the one metric.")
    at_most: float | None = Field(None, description="The value must be at most this.")
    at_least: float | None = Field(None, description="The value must be at least this.")
    compare_to_blue: Comparison | None = Field(None, description="Judge green's value against blue's.")
    on_no_data: NoData | None = Field(None, description="fail, pass or wait (default: analysis.on_no_data).")

    @field_validator("metrics")
    @classmethod
    def _ids(cls, value: dict[str, Metric]) -> dict[str, Metric]:
        bad = [key for key in value if not re.match(METRIC_ID, key)]
        if bad:
            raise ValueError(f"metric ids must start with a lower-case letter and hold only letters, digits "
                             f"and _: {', '.join(bad)}")
        return value

    @model_validator(mode="after")
    def _judged(self) -> "MetricQuery":
        if self.at_most is None and self.at_least is None and self.compare_to_blue is None:
            raise ValueError("give a threshold (at_most / at_least) or compare_to_blue")
        if self.expression is None and len(self.metrics) > 1:
            raise ValueError("several metrics need an `expression` that combines them")
        if self.compare_to_blue is not None and not any(m.of == "green" for m in self.metrics.values()):
            raise ValueError("compare_to_blue needs a metric with `of: green` (it is re-run with blue's)")
        return self


class Analysis(Model):
    defaults: bool = Field(True, description="Add the default queries for an ALB-fronted service (listener "
                                             "routes): green's 5xx rate under 1% and green's p99 latency at "
                                             "most 1.2 x blue's, from the target groups' own metrics.")
    queries: list[MetricQuery] = Field(default_factory=list, description="Queries judged through every bake.")
    window: Duration = Field(300.0, description="Each evaluation looks at this much (whole minutes), ending at "
                                                "the last full minute.")
    interval: Duration | None = Field(None, description="How often queries are evaluated (default: health.interval).")
    on_no_data: NoData = Field(NoData.WAIT, description="What a window without a datapoint means, unless a "
                                                        "query says otherwise.")
    no_data_deadline: Duration | None = Field(None, description="How long a bake is held waiting for data "
                                                                "(default: health.deadline).")

    @field_validator("window")
    @classmethod
    def _whole_minutes(cls, value: float) -> float:
        if value < 60 or value % 60:
            raise ValueError("window must be a whole number of minutes (a CloudWatch period)")
        return value

    @model_validator(mode="after")
    def _unique(self) -> "Analysis":
        names = [q.name for q in self.queries]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"query names must be unique: {', '.join(twice)}")
        return self
