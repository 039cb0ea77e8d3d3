"""`plan` counts target health with CloudWatch: one GetMetricData for a fleet, not one read per group.

ELB publishes HealthyHostCount / UnHealthyHostCount per target group and load balancer every minute
(moto publishes nothing; `bluegreen.local.elb_metrics` does it for the emulator). A plan's live-health
pre-flight needs only how many targets are healthy, so `discover(..., count_health=True)` asks
CloudWatch for the whole fleet at once, and reads a group target by target only where CloudWatch has
no count for it or the count was refused. A deploy keeps reading every target (its gates do too).
"""

from __future__ import annotations

from typing import Any


from bluegreen.adapters.aws.session import Aws
from bluegreen.app.discover import discover
from bluegreen.local.seed import seed, seed_fleet
from bluegreen.specfiles.loader import load_spec

from test_discovery import DEPLOYMENTS


def answer_instead(client: Any, operation: str, status: int, body: dict[str, Any]) -> None:
    """Answer `operation` on `client` with `body` before it leaves the machine (botocore's before-call)."""
    class Response:
        status_code = status

    client.meta.events.register(f"before-call.*.{operation}",
                                lambda **_: (Response(), {**body, "ResponseMetadata": {"HTTPStatusCode": status}}))


def test_a_plan_counts_a_fleets_target_health_in_one_call_and_the_counts_match_each_target(seeder, reader, placer):
    specs = seed_fleet(seeder, 25)
    placer.sync()  # every service's 2 running tasks are targets now

    exact = discover(reader, specs)
    exact_calls = reader.log.counts()
    reader.log.calls.clear()
    counted = discover(reader, specs, count_health=True)

    calls = reader.log.counts()
    assert exact_calls["elbv2:DescribeTargetHealth"] == 25 and exact_calls["cloudwatch:GetMetricData"] == 0
    assert calls["cloudwatch:GetMetricData"] == 1 and calls["elbv2:DescribeTargetHealth"] == 0
    for spec in specs:
        tg = counted[spec.service].target_groups[spec.service]
        read = exact[spec.service].target_groups[spec.service]
        assert tg.host_counts == (read.healthy_count, 0) == (2, 0)
        assert tg.targets == () and counted[spec.service].findings == ()


def test_a_refused_count_is_not_an_error_each_group_is_then_read_target_by_target(seeder, reader):
    spec = load_spec(DEPLOYMENTS / "web.yaml").spec
    seed(seeder, spec)
    answer_instead(reader.client("cloudwatch"), "GetMetricData", 403,
                   {"Error": {"Code": "AccessDenied", "Message": "not authorized to GetMetricData"}})

    snap = discover(reader, [spec], count_health=True)["web"]

    calls = reader.log.counts()
    assert calls["elbv2:DescribeTargetHealth"] == 2  # web-blue and web-green
    assert snap.findings == ()
    blue = snap.target_groups["web-blue"]
    assert blue.host_counts is None and blue.healthy_count == 2 and len(blue.targets) == 2


def test_a_group_cloudwatch_has_no_datum_for_is_read_target_by_target(seeder, reader):
    spec = load_spec(DEPLOYMENTS / "web.yaml").spec
    seed(seeder, spec)
    # AWS's answer for a metric with no datapoint in the window (a group created a moment ago)
    answer_instead(reader.client("cloudwatch"), "GetMetricData", 200, {"MetricDataResults": []})

    snap = discover(reader, [spec], count_health=True)["web"]

    assert reader.log.counts()["elbv2:DescribeTargetHealth"] == 2
    assert snap.target_groups["web-blue"].healthy_count == 2 and snap.target_groups["web-blue"].host_counts is None


def test_the_emulator_counts_unhealthy_targets_as_the_world_reports_them(realistic_aws):
    aws = Aws(realistic_aws.region, endpoint_url=realistic_aws.endpoint_url)
    spec = load_spec(DEPLOYMENTS / "worker.yaml").spec
    seed(aws, spec)
    realistic_aws.advance(120)  # the tasks run and pass their health checks
    reader = Aws(realistic_aws.region, endpoint_url=realistic_aws.endpoint_url)
    (first, *rest) = discover(reader, [spec])["worker"].target_groups["worker"].targets
    realistic_aws.set_target_health(first.target_id, ok=False)
    realistic_aws.advance(20)  # two failed checks, 10 s apart: unhealthy, and ECS starts draining it

    exact = discover(reader, [spec])["worker"].target_groups["worker"]
    counted = discover(reader, [spec], count_health=True,
                       wall_clock=realistic_aws.clock.time)["worker"].target_groups["worker"]

    states = sorted(t.state for t in exact.targets)
    assert rest and states != ["healthy"] * len(states)
    # neither count holds a draining (or initial) target, as ELB's metrics
    assert counted.host_counts == (states.count("healthy"), states.count("unhealthy"))
