"""GetMetricData on the realistic emulator, as CloudWatch answers it (bluegreen/local/cloudwatch.py):
percentile statistics, metric math over the queries' ids, and datapoints stamped on the world's clock.
Plain moto answers a p99 with a 500 and evaluates no arithmetic (see DIVERGENCES.md)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from emulator_helpers import error_of

DIMS = [{"Name": "TargetGroup", "Value": "targetgroup/web-green/1"}]


def stat(key: str, name: str, statistic: str, *, returned: bool = True) -> dict:
    return {"Id": key, "ReturnData": returned, "MetricStat": {
        "Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": name, "Dimensions": DIMS},
        "Period": 300, "Stat": statistic}}


def query(cloudwatch, start: float, *queries: dict) -> dict:
    answer = cloudwatch.get_metric_data(MetricDataQueries=list(queries), StartTime=datetime.fromtimestamp(
        start, timezone.utc), EndTime=datetime.fromtimestamp(start + 300, timezone.utc))
    return {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}


@pytest.fixture
def minute(realistic_aws) -> float:
    """A whole minute of the world's clock, ten minutes ago, with 100 latency samples and request counts in it."""
    now = realistic_aws.clock.time()
    start = now - now % 60 - 600
    cloudwatch = realistic_aws.client("cloudwatch")
    at = datetime.fromtimestamp(start + 30, timezone.utc)
    cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
        {"MetricName": "TargetResponseTime", "Dimensions": DIMS, "Timestamp": at,
         "Values": [i / 100 for i in range(1, 101)]},
        {"MetricName": "RequestCount", "Dimensions": DIMS, "Timestamp": at, "Value": 200}])
    return start


def test_a_percentile_statistic_is_the_nearest_rank_of_the_samples(realistic_aws, minute):
    values = query(realistic_aws.client("cloudwatch"), minute, stat("p", "TargetResponseTime", "p99"),
                   stat("m", "TargetResponseTime", "Average"))
    assert values == {"p": [0.99], "m": [pytest.approx(0.505)]}


def test_metric_math_combines_the_queries_ids_and_fill_stands_in_for_a_missing_metric(realistic_aws, minute):
    values = query(realistic_aws.client("cloudwatch"), minute,
                   stat("errors", "HTTPCode_Target_5XX_Count", "Sum", returned=False),
                   stat("requests", "RequestCount", "Sum", returned=False),
                   {"Id": "rate", "Expression": "100 * FILL(errors, 0) / requests"},
                   {"Id": "bare", "Expression": "errors / requests"},
                   {"Id": "nested", "Expression": "(rate + 2) * -1"})
    assert values == {"rate": [0.0], "bare": [], "nested": [-2.0]}


def test_a_division_by_zero_leaves_no_datapoint(realistic_aws, minute):
    values = query(realistic_aws.client("cloudwatch"), minute, stat("requests", "RequestCount", "Sum", returned=False),
                   {"Id": "r", "Expression": "requests / (requests - 200)"})
    assert values == {"r": []}


def test_an_expression_naming_an_unknown_id_is_a_validation_error(realistic_aws, minute):
    error = error_of(realistic_aws.client("cloudwatch").get_metric_data, MetricDataQueries=[
        {"Id": "r", "Expression": "100 * nothing"}], StartTime=datetime.fromtimestamp(minute, timezone.utc),
        EndTime=datetime.fromtimestamp(minute + 300, timezone.utc))
    assert error["Code"] == "ValidationError" and "nothing" in error["Message"]


def test_a_datapoint_without_a_timestamp_is_stamped_with_the_worlds_time(realistic_aws):
    realistic_aws.advance(7200)  # two hours on: the machine's clock would put the datum in the past
    cloudwatch = realistic_aws.client("cloudwatch")
    cloudwatch.put_metric_data(Namespace="AWS/ApplicationELB", MetricData=[
        {"MetricName": "RequestCount", "Dimensions": DIMS, "Value": 7}])
    now = realistic_aws.clock.time()
    start = now - now % 60

    assert query(cloudwatch, start, stat("n", "RequestCount", "Sum")) == {"n": [7.0]}

