"""CloudWatch GetMetricData for the metric gates: one query (metrics and an optional metric-math
expression) over one window, answered as its single value, or None when CloudWatch has no datapoint.

The window is one period (`end - start`, whole minutes), so a Sum is the sum over the window and a
p99 the 99th percentile of every sample in it: one number per query, comparable between colors.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping

from bluegreen.adapters.aws.session import Aws
from bluegreen.domain.analysis import MetricRef

RESULT_ID = "result"


def data_queries(metrics: Mapping[str, MetricRef], expression: str | None, period: int) -> list[dict[str, Any]]:
    """MetricDataQueries: each metric under its id; with an expression, only the expression's data returns."""
    out: list[dict[str, Any]] = []
    for key, metric in metrics.items():
        stat: dict[str, Any] = {"Metric": {"Namespace": metric.namespace, "MetricName": metric.name,
                                           "Dimensions": [{"Name": k, "Value": v}
                                                          for k, v in sorted(metric.dimensions.items())]},
                                "Period": period, "Stat": metric.stat}
        if metric.unit:
            stat["Unit"] = metric.unit
        out.append({"Id": key, "MetricStat": stat, "ReturnData": expression is None})
    if expression is not None:
        out.append({"Id": RESULT_ID, "Expression": expression, "ReturnData": True})
    return out


class AwsMetrics:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    def value(self, metrics: Mapping[str, MetricRef], expression: str | None, start: float, end: float) -> float | None:
        """The query's newest value in [start, end), or None when there is no datapoint."""
        period = int(end - start)
        request: dict[str, Any] = {"MetricDataQueries": data_queries(metrics, expression, period),
                                   "StartTime": _utc(start), "EndTime": _utc(end), "ScanBy": "TimestampDescending"}
        cloudwatch = self.aws.client("cloudwatch")
        values: list[float] = []
        while True:
            answer = cloudwatch.get_metric_data(**request)
            for result in answer.get("MetricDataResults", []):
                values += [float(v) for v in result.get("Values", [])]
            token = answer.get("NextToken")
            if not token or values:
                break
            request["NextToken"] = token
        return values[0] if values else None


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)
