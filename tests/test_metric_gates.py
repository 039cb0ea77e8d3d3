"""Metric analysis during bake, through the CLI on the realistic emulator and its virtual clock.

The ALB's own metrics for each color's target group are published with put_metric_data (as the
load balancer would, one datapoint a minute); the deploy judges them every interval through each
bake, and a failing query rolls back naming the query and its value.
"""

from __future__ import annotations

import pytest

from bluegreen.cli.main import main
from bluegreen.execution.executor import Executor

from deploy_helpers import REALISTIC, listener_weights, seeded, write_spec
from emulator_helpers import publish_alb_minutes

HOUR = 60


def web_with_analysis(workdir, aws, analysis: dict, **overrides):
    path = write_spec(workdir, "web", timings=REALISTIC, analysis=analysis, **overrides)
    world = seeded(aws.endpoint_url, path)
    seed = world["seed"]
    lb = seed.load_balancers["web-alb"]
    return path, lb, seed.target_groups["web-blue"], seed.target_groups["web-green"]


def when_step_starts(monkeypatch, step_id: str, action) -> None:
    """Run `action()` once, as the deploy starts step `step_id` (the moment a bake begins, say)."""
    original = Executor.run_step

    def run_step(self, step, *, index=None, rollback=False):
        if step.id == step_id and not rollback:
            action()
        return original(self, step, index=index, rollback=rollback)

    monkeypatch.setattr(Executor, "run_step", run_step)


def test_a_5xx_rate_breaching_mid_bake_rolls_back_naming_the_query_and_the_value(
        realistic_aws, workdir, product_on_virtual_clock, monkeypatch, capsys):
    path, lb, blue, green = web_with_analysis(workdir, realistic_aws, {"defaults": True})
    clock = product_on_virtual_clock
    for tg in (blue, green):
        publish_alb_minutes(realistic_aws, lb, tg, start=clock.time() - 600, minutes=HOUR, latencies=[0.1, 0.2])
    when_step_starts(monkeypatch, "bake-50", lambda: publish_alb_minutes(
        realistic_aws, lb, green, start=clock.time(), minutes=10, requests=0, errors=40))

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    out = capsys.readouterr()
    # 40 errors a minute on a green that answers nothing else: 40 / (5 x 100 + 0) over the 5-minute window
    assert "metric green-5xx-rate (100 * FILL(errors, 0) / requests) = " in out.err
    assert "above its threshold 1. Traffic is back on blue" in out.err
    assert "bake-10" not in out.err and "failed: metric green-5xx-rate" in out.out
    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}


LATENCY_VS_BLUE = {"defaults": False, "queries": [{
    "name": "p99-vs-blue", "compare_to_blue": {"at_most": 1.2},
    "metrics": {"latency": {"namespace": "AWS/ApplicationELB", "name": "TargetResponseTime", "stat": "p99",
                            "of": "green"}}}]}


@pytest.mark.parametrize("green_latencies, code", [([0.1, 0.2, 0.3, 0.33], 0), ([0.1, 0.2, 0.3, 0.9], 1)],
                         ids=["green-p99-within-1.2x-blue", "green-p99-3x-blue"])
def test_green_p99_latency_is_judged_against_blues(realistic_aws, workdir, product_on_virtual_clock, capsys,
                                                   green_latencies, code):
    path, lb, blue, green = web_with_analysis(workdir, realistic_aws, LATENCY_VS_BLUE)
    start = product_on_virtual_clock.time() - 600
    publish_alb_minutes(realistic_aws, lb, blue, start=start, minutes=HOUR, latencies=[0.1, 0.2, 0.28, 0.3])
    publish_alb_minutes(realistic_aws, lb, green, start=start, minutes=HOUR, latencies=green_latencies)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == code

    err = capsys.readouterr().err
    if code == 0:
        assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 0, "web-green": 100}
    else:
        assert "metric p99-vs-blue (AWS/ApplicationELB TargetResponseTime p99 [" in err
        assert "= 0.9: more than 1.2 x blue's 0.3 (= 0.36)" in err


def quiet_metric(on_no_data: str, **analysis) -> dict:
    """A query on a metric nobody publishes (until a test does)."""
    return {"defaults": False, **analysis, "queries": [{
        "name": "queue-age", "at_most": 60, "on_no_data": on_no_data,
        "metrics": {"age": {"namespace": "Jobs", "name": "OldestMessageAge", "stat": "Maximum",
                            "dimensions": {"Queue": "jobs"}}}}]}


@pytest.mark.parametrize("on_no_data, code", [("fail", 1), ("pass", 0)])
def test_no_data_fails_or_passes_as_the_query_says(realistic_aws, workdir, product_on_virtual_clock, capsys,
                                                   on_no_data, code):
    path, *_ = web_with_analysis(workdir, realistic_aws, quiet_metric(on_no_data))

    assert main(["deploy", str(path), "--image-tag", "v2"]) == code

    if code:
        assert "metric queue-age (Jobs OldestMessageAge Maximum [Queue=jobs]): no data for green in the last 5m" \
            in capsys.readouterr().err


def test_no_data_with_wait_holds_the_bake_until_data_arrives(realistic_aws, workdir, product_on_virtual_clock,
                                                             monkeypatch, capsys):
    path, *_ = web_with_analysis(workdir, realistic_aws, quiet_metric("wait"))
    clock = product_on_virtual_clock

    def publish_later() -> None:  # the metric's first datapoint, three minutes into the first bake
        realistic_aws.client("cloudwatch").put_metric_data(Namespace="Jobs", MetricData=[{
            "MetricName": "OldestMessageAge", "Dimensions": [{"Name": "Queue", "Value": "jobs"}],
            "Timestamp": clock.time() + 180, "Value": 5}])
    when_step_starts(monkeypatch, "bake-10", publish_later)

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    assert "waiting for data: metric queue-age" in out


def test_no_data_with_wait_fails_once_the_no_data_deadline_passes(realistic_aws, workdir, product_on_virtual_clock,
                                                                  capsys):
    path, *_ = web_with_analysis(workdir, realistic_aws, quiet_metric("wait", no_data_deadline="3m"))

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 1

    assert "no data for metric queue-age after waiting 3m past the bake (on_no_data: wait)" in capsys.readouterr().err


def test_the_commented_analysis_and_judgement_example_in_web_yaml_is_a_valid_spec():
    import yaml

    from bluegreen.domain.spec import Spec
    from deploy_helpers import REPO

    text = (REPO / "deployments" / "web.yaml").read_text()
    data = yaml.safe_load(text)
    for section in ("analysis", "judgement"):
        block = text.split(f"# {section}:\n", 1)[1].split("\n#\n", 1)[0].split("\n\n", 1)[0]
        body = "\n".join(line[2:] for line in block.splitlines() if line.startswith("#   "))
        data[section] = yaml.safe_load(body)
    spec = Spec.model_validate(data)
    assert [q.name for q in spec.analysis.queries] == ["green-success-rate", "green-p90-vs-blue"]
    assert spec.judgement.pause_before == ["shift-50"]


def test_the_plan_shows_the_default_queries_with_greens_and_blues_dimensions(aws, workdir, capsys):
    path = write_spec(workdir, "web", analysis={})
    seed = seeded(aws.endpoint_url, path)["seed"]
    green, blue = (seed.target_groups[f"web-{c}"].rsplit(":", 1)[1] for c in ("green", "blue"))
    lb = seed.load_balancers["web-alb"].split(":loadbalancer/", 1)[1]

    assert main(["plan", str(path), "--image-tag", "v2"]) == 0

    out = capsys.readouterr().out
    assert (f"metric green-5xx-rate: 100 * FILL(errors, 0) / requests at most 1 over 5m (errors = AWS/ApplicationELB "
            f"HTTPCode_Target_5XX_Count Sum [LoadBalancer={lb},TargetGroup={green}]") in out
    assert "metric green-p99-latency-vs-blue: AWS/ApplicationELB TargetResponseTime p99" in out
    assert (f"green at most 1.2 x blue over 5m (blue: latency = AWS/ApplicationELB TargetResponseTime p99 "
            f"[LoadBalancer={lb},TargetGroup={blue}]); no data: pass") in out
