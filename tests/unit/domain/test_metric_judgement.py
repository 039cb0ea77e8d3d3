"""How one evaluation of a metric gate is judged: thresholds, green against blue, and missing data."""

from __future__ import annotations

import pytest

from bluegreen.domain.analysis import MetricGate, MetricRef, Result, judge

LATENCY = MetricRef(namespace="AWS/ApplicationELB", name="TargetResponseTime", stat="p99",
                    dimensions={"TargetGroup": "targetgroup/web-green/1"})
RATE = MetricGate(name="green-5xx-rate", metrics={"errors": LATENCY}, expression="100 * FILL(errors, 0) / requests",
                  at_most=1.0)
VS_BLUE = MetricGate(name="p99-vs-blue", metrics={"latency": LATENCY}, baseline={"latency": LATENCY},
                     ratio_at_most=1.2)


def test_a_value_within_its_threshold_passes():
    assert judge(RATE, 0.5).result is Result.PASS


def test_a_value_above_its_threshold_fails_naming_the_query_and_the_value():
    verdict = judge(RATE, 4.2)

    assert verdict.result is Result.FAIL
    assert verdict.message == ("metric green-5xx-rate (100 * FILL(errors, 0) / requests) = 4.2: "
                               "above its threshold 1")


def test_a_floor_fails_below_it():
    floor = RATE.model_copy(update={"at_most": None, "at_least": 99.0})
    assert judge(floor, 98.0).message.endswith("below its threshold 99")
    assert judge(floor, 99.5).result is Result.PASS


@pytest.mark.parametrize("green, blue, result", [(0.36, 0.3, Result.PASS), (0.37, 0.3, Result.FAIL),
                                                 (0.0, 0.0, Result.PASS)])
def test_green_is_judged_against_blue_times_the_factor(green, blue, result):
    assert judge(VS_BLUE, green, blue).result is result


def test_a_failed_comparison_shows_both_values_and_the_limit():
    message = judge(VS_BLUE, 0.9, 0.3).message
    assert message.endswith("= 0.9: more than 1.2 x blue's 0.3 (= 0.36)")


@pytest.mark.parametrize("policy, result", [("fail", Result.FAIL), ("pass", Result.PASS), ("wait", Result.WAIT)])
def test_no_data_is_what_the_query_says(policy, result):
    gate = RATE.model_copy(update={"on_no_data": policy})
    verdict = judge(gate, None)

    assert verdict.result is result
    assert "no data for green in the last 5m" in verdict.message


def test_a_comparison_without_blue_data_has_no_data():
    verdict = judge(VS_BLUE.model_copy(update={"on_no_data": "fail"}), 0.3, None)
    assert verdict.result is Result.FAIL and "no data for blue (the baseline)" in verdict.message


def test_the_plan_line_says_what_is_queried_and_what_missing_data_means():
    assert VS_BLUE.describe() == ("metric p99-vs-blue: AWS/ApplicationELB TargetResponseTime p99 "
                                  "[TargetGroup=targetgroup/web-green/1] green at most 1.2 x blue over 5m (blue: latency = "
                                  "AWS/ApplicationELB TargetResponseTime p99 [TargetGroup=targetgroup/web-green/1]); "
                                  "no data: wait")
