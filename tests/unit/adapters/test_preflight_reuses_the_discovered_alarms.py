"""The deploy's pre-flight alarm check takes the states discovery just read; every later alarm gate reads them."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.adapters.aws import session as session_module
from bluegreen.adapters.aws.observe import AwsObserver
from bluegreen.adapters.aws.session import Aws
from bluegreen.execution.gates import GateFailed, Gates


class CloudWatch:
    def __init__(self, state: str) -> None:
        self.state = state
        self.calls: list[str] = []

    def describe_alarms(self, **_: Any) -> dict:
        self.calls.append("DescribeAlarms")
        return {"MetricAlarms": [{"AlarmName": "web-5xx", "StateValue": self.state}]}


@pytest.fixture
def aws() -> Aws:
    aws = Aws("us-east-1", endpoint_url="http://127.0.0.1:1")
    aws._clients["cloudwatch"] = CloudWatch("OK")  # no boto3: the adapter's own logic only
    return aws


def test_the_preflight_check_after_discovery_makes_no_second_read(aws):
    aws.saw_alarms({"web-5xx": "OK"})

    Gates(AwsObserver(aws)).check_alarms(["web-5xx"], at_start=True)

    assert aws._clients["cloudwatch"].calls == []


def test_an_alarm_discovery_saw_firing_still_refuses_the_start(aws):
    aws.saw_alarms({"web-5xx": "ALARM"})

    with pytest.raises(GateFailed, match="web-5xx"):
        Gates(AwsObserver(aws)).check_alarms(["web-5xx"], at_start=True)


def test_a_bake_reads_the_alarms_even_right_after_discovery(aws):
    aws.saw_alarms({"web-5xx": "OK"})
    aws._clients["cloudwatch"].state = "ALARM"  # it fired after the change

    with pytest.raises(GateFailed, match="web-5xx"):
        Gates(AwsObserver(aws)).check_alarms(["web-5xx"])

    assert aws._clients["cloudwatch"].calls == ["DescribeAlarms"]


def test_the_states_are_taken_once(aws):
    aws.saw_alarms({"web-5xx": "OK"})
    gates = Gates(AwsObserver(aws))
    gates.check_alarms(["web-5xx"], at_start=True)

    gates.check_alarms(["web-5xx"], at_start=True)

    assert aws._clients["cloudwatch"].calls == ["DescribeAlarms"]


def test_an_alarm_discovery_did_not_read_is_read(aws):
    aws.saw_alarms({"other": "OK"})

    Gates(AwsObserver(aws)).check_alarms(["web-5xx"], at_start=True)

    assert aws._clients["cloudwatch"].calls == ["DescribeAlarms"]


def test_states_read_long_before_the_check_are_read_again(aws, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(session_module.time, "monotonic", lambda: now[0])
    aws.saw_alarms({"web-5xx": "OK"})
    now[0] += session_module.SEEN_ALARMS_TTL + 1  # a saved plan applied later, a slow lock

    Gates(AwsObserver(aws)).check_alarms(["web-5xx"], at_start=True)

    assert aws._clients["cloudwatch"].calls == ["DescribeAlarms"]
