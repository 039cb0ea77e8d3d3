"""The spec's `notifications`: where a deployment says what happened (SNS, EventBridge, a webhook).

Delivery is best effort by design: a notification that cannot be delivered never fails a
deployment; it is reported as a warning event.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from bluegreen.domain.durations import Duration
from bluegreen.domain.spec.base import Model


class NotifyOn(StrEnum):
    STARTED = "started"
    TRAFFIC_MOVED = "traffic-moved"
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"


class Notifications(Model):
    sns_topic: str | None = Field(None, pattern=r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$",
                                  description="SNS topic ARN.")
    event_bus: str | None = Field(None, pattern=r"^[A-Za-z0-9/._:-]{1,1600}$",
                                  description="EventBridge bus name or ARN (`default` for the account's bus).")
    webhook: str | None = Field(None, pattern=r"^https?://[^\s]+$",
                                description="URL receiving Slack-compatible JSON (`{\"text\": ...}`); shown by host only.")
    webhook_timeout: Duration = Field(5.0, description="Per webhook delivery.")
    events: list[NotifyOn] = Field(default_factory=lambda: list(NotifyOn),
                               description="Which moments are sent (default: all).")
