"""How `plan`'s host counts are asked and read (`Calls.tg_host_counts`), on a fake CloudWatch client.

Each (target group, load balancer) pair is two queries; the newest value of each series counts; a
group behind two load balancers is as healthy as the fewer and as unhealthy as the more; a group any
of whose series has no datum is left out, so discovery reads its targets instead. Requests are checked
against botocore's CloudWatch model, since the fake would take anything.
"""

from __future__ import annotations

import threading
from typing import Any

import botocore.session
from botocore.validate import validate_parameters

from bluegreen.adapters.aws.reads_calls import Calls, elb_dimension, host_count_queries
from bluegreen.discovery.raw import RawState

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
WEB, API = f"{ARN}:targetgroup/web/aaa", f"{ARN}:targetgroup/api/bbb"
ALB, NLB = f"{ARN}:loadbalancer/app/front/111", f"{ARN}:loadbalancer/net/inner/222"
NOW = 1_800_000_000.0
MODEL = botocore.session.get_session().get_service_model("cloudwatch").operation_model("GetMetricData").input_shape


class FakeCloudWatch:
    def __init__(self, pages: list[dict[str, list[float]]]) -> None:
        self.pages, self.requests = pages, []

    def get_metric_data(self, **request: Any) -> dict[str, Any]:
        validate_parameters(request, MODEL)  # raises on what CloudWatch would refuse
        self.requests.append(request)
        page = int(request["NextToken"].split("-")[1]) if "NextToken" in request else 0
        values = self.pages[page]
        answer: dict[str, Any] = {"MetricDataResults": [{"Id": q["Id"], "Values": values.get(q["Id"], [])}
                                                        for q in request["MetricDataQueries"]]}
        if page + 1 < len(self.pages):
            answer["NextToken"] = f"page-{page + 1}"
        return answer


class FakeAws:
    region = "us-east-1"

    def __init__(self, cloudwatch: FakeCloudWatch) -> None:
        self.cloudwatch = cloudwatch

    def client(self, name: str) -> FakeCloudWatch:
        assert name == "cloudwatch"
        return self.cloudwatch


def counts(groups: list[tuple[str, list[str]]], *pages: dict[str, list[float]]) -> tuple[RawState, FakeCloudWatch]:
    raw, cloudwatch = RawState(), FakeCloudWatch(list(pages))
    Calls(FakeAws(cloudwatch), raw, threading.Lock()).tg_host_counts(groups, NOW)  # type: ignore[arg-type]
    return raw, cloudwatch


def test_the_dimensions_are_the_resource_parts_of_the_arns():
    assert elb_dimension(WEB) == "targetgroup/web/aaa"
    assert elb_dimension(ALB) == "app/front/111"


def test_each_pair_asks_both_counts_in_its_load_balancers_namespace():
    queries, ids = host_count_queries([(WEB, [ALB]), (API, [NLB])])

    asked = [(q["Id"], q["MetricStat"]["Metric"]["Namespace"], q["MetricStat"]["Metric"]["MetricName"],
              q["MetricStat"]["Stat"]) for q in queries]
    assert asked == [("h0", "AWS/ApplicationELB", "HealthyHostCount", "Minimum"),
                     ("u0", "AWS/ApplicationELB", "UnHealthyHostCount", "Maximum"),
                     ("h1", "AWS/NetworkELB", "HealthyHostCount", "Minimum"),
                     ("u1", "AWS/NetworkELB", "UnHealthyHostCount", "Maximum")]
    assert queries[2]["MetricStat"]["Metric"]["Dimensions"] == [
        {"Name": "TargetGroup", "Value": "targetgroup/api/bbb"}, {"Name": "LoadBalancer", "Value": "net/inner/222"}]
    assert ids == {WEB: [("h0", "u0")], API: [("h1", "u1")]}


def test_the_newest_value_of_each_series_counts_over_the_five_minutes_before_now():
    raw, cloudwatch = counts([(WEB, [ALB])], {"h0": [3.0, 1.0], "u0": [0.0, 2.0]})

    assert raw.tg_host_counts == {WEB: [3, 0]}
    (request,) = cloudwatch.requests
    assert request["ScanBy"] == "TimestampDescending"
    assert (request["EndTime"].timestamp(), request["StartTime"].timestamp()) == (NOW, NOW - 300)


def test_a_group_behind_two_load_balancers_counts_the_fewer_healthy_and_the_more_unhealthy():
    raw, _ = counts([(WEB, [ALB, NLB])], {"h0": [4.0], "u0": [0.0], "h1": [2.0], "u1": [1.0]})

    assert raw.tg_host_counts == {WEB: [2, 1]}


def test_a_group_with_a_series_without_datum_is_left_to_be_read_target_by_target():
    raw, _ = counts([(WEB, [ALB]), (API, [ALB])], {"h0": [2.0], "u0": [0.0], "h1": [2.0]})

    assert raw.tg_host_counts == {WEB: [2, 0]}


def test_every_page_is_read_and_an_earlier_page_holds_the_newer_values():
    raw, cloudwatch = counts([(WEB, [ALB]), (API, [ALB])],
                             {"h0": [2.0], "u0": [0.0]}, {"h0": [9.0], "h1": [1.0], "u1": [1.0]})

    assert raw.tg_host_counts == {WEB: [2, 0], API: [1, 1]}
    assert cloudwatch.requests[1]["NextToken"] == "page-1"


def test_a_fleet_is_counted_in_calls_of_at_most_250_pairs_the_500_queries_getmetricdata_takes():
    from bluegreen.adapters.aws.reads import _Reader

    cloudwatch = FakeCloudWatch([{}])
    reader = _Reader(FakeAws(cloudwatch), pool=None, count_health=True, wall_clock=lambda: NOW)  # type: ignore[arg-type]
    for i in range(260):
        arn = f"{ARN}:targetgroup/svc-{i:03d}/{i:03x}"
        reader.raw.target_groups[arn] = {"TargetGroupName": f"svc-{i:03d}", "LoadBalancerArns": [ALB, ALB]}
        reader.to_count.add(arn)

    for task in reader.count_round():
        task()

    assert [len(r["MetricDataQueries"]) for r in cloudwatch.requests] == [500, 20]  # one load balancer each
    assert reader.raw.tg_host_counts == {}  # no datum: every group is left to be read target by target
