"""The AWS calls of notifications: SNS Publish and EventBridge PutEvents."""

from __future__ import annotations

import json
from typing import Any, Mapping

from bluegreen.adapters.aws.session import Aws


class AwsNotify:
    def __init__(self, aws: Aws) -> None:
        self.aws = aws

    def publish(self, topic_arn: str, subject: str, body: Mapping[str, Any]) -> None:
        self.aws.client("sns").publish(TopicArn=topic_arn, Subject=subject[:100],
                                       Message=json.dumps(body, sort_keys=True, default=str))

    def put_event(self, bus: str, detail_type: str, body: Mapping[str, Any]) -> None:
        answer = self.aws.client("events").put_events(Entries=[{
            "Source": "bluegreen", "DetailType": detail_type, "EventBusName": bus,
            "Detail": json.dumps(body, sort_keys=True, default=str)}])
        if answer.get("FailedEntryCount"):
            entry = next((e for e in answer.get("Entries", []) if e.get("ErrorCode")), {})
            raise RuntimeError(f"{entry.get('ErrorCode', 'failed')}: {entry.get('ErrorMessage', 'the event was not put')}")
