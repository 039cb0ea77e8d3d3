"""The first UpdateService of a run reuses the service discovery just read; any later one reads it again."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.adapters.aws import session as session_module
from bluegreen.adapters.aws.actions import AwsActions
from bluegreen.adapters.aws.session import Aws

SERVICE = {"serviceName": "worker", "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/worker:1",
           "desiredCount": 2}


class Ecs:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def describe_services(self, **_: Any) -> dict:
        self.calls.append("DescribeServices")
        return {"services": [dict(SERVICE)]}

    def update_service(self, **_: Any) -> dict:
        self.calls.append("UpdateService")
        return {}


@pytest.fixture
def aws() -> Aws:
    aws = Aws("us-east-1", endpoint_url="http://127.0.0.1:1")
    aws._clients["ecs"] = Ecs()  # no boto3: the adapter's own logic only
    return aws


def test_the_first_update_after_discovery_makes_no_second_read(aws):
    aws.saw_service("prod", dict(SERVICE))

    AwsActions(aws).update_service("prod", "worker", SERVICE["taskDefinition"].replace(":1", ":2"), 2)

    assert aws._clients["ecs"].calls == ["UpdateService"]


def test_a_second_update_of_the_same_service_reads_it_again(aws):
    aws.saw_service("prod", dict(SERVICE))
    actions = AwsActions(aws)
    actions.update_service("prod", "worker", SERVICE["taskDefinition"].replace(":1", ":2"), 2)

    actions.update_service("prod", "worker", SERVICE["taskDefinition"].replace(":1", ":3"), 2)

    assert aws._clients["ecs"].calls == ["UpdateService", "DescribeServices", "UpdateService"]


def test_a_service_read_long_before_its_update_is_read_again(aws, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(session_module.time, "monotonic", lambda: now[0])
    aws.saw_service("prod", dict(SERVICE))
    now[0] += session_module.SEEN_SERVICE_TTL + 1  # a bake or a keep-warm wait in between

    AwsActions(aws).update_service("prod", "worker", SERVICE["taskDefinition"].replace(":1", ":2"), 2)

    assert aws._clients["ecs"].calls == ["DescribeServices", "UpdateService"]
