"""The notifier with fakes: which events become which moments, and failed deliveries are warnings."""

from __future__ import annotations

import io

from bluegreen.domain.spec import Notifications
from bluegreen.events import Events
from bluegreen.execution.notify import Notifier


class FakeAws:
    def __init__(self, fail: bool = False) -> None:
        self.fail, self.published, self.put = fail, [], []

    def publish(self, topic, subject, body):
        if self.fail:
            raise RuntimeError("AuthorizationError: not allowed")
        self.published.append((subject, body["event"]))

    def put_event(self, bus, detail_type, body):
        self.put.append(detail_type)


def notifier(spec: dict, aws: FakeAws, posted: list) -> tuple[Notifier, Events]:
    events = Events(stream=io.StringIO(), service="web")
    found = Notifier(Notifications(**spec), events, aws=lambda: aws,
                     post=lambda url, body, timeout: posted.append(body["text"])).attach()
    return found, events


def a_run(events: Events) -> None:
    events.emit("deploy.started", "deploying v2", deployment_id="web-1")
    events.emit("step.started", "[3/9] production listener web-alb:80: blue 100% -> blue 90% / green 10%",
                step="shift-10", phase="shift", step_kind="set-weights")
    events.emit("step.succeeded", "[3/9] done in 0.1s", step="shift-10")
    events.emit("step.started", "[4/9] wait for targets", step="verify", phase="verify", step_kind="wait-targets-healthy")
    events.emit("step.succeeded", "[4/9] done", step="verify")
    events.signal("deploy.failed", "deployment failed: alarm in ALARM: web-5xx")
    events.signal("deploy.rolled-back", "rolled back: production traffic is on blue")


def test_each_moment_goes_to_every_destination_in_order():
    aws, posted = FakeAws(), []
    sent, events = notifier({"sns_topic": "arn:aws:sns:us-east-1:123456789012:t", "event_bus": "default",
                             "webhook": "https://hooks.example.com/secret/path"}, aws, posted)

    a_run(events)

    moments = ["started", "traffic-moved", "failed", "rolled-back"]
    assert [event for _, event in aws.published] == moments
    assert aws.put == [f"bluegreen deployment {m}" for m in moments]
    assert posted == ["[web] started: deploying v2",
                      "[web] traffic-moved: traffic moved: production listener web-alb:80: blue 100% -> blue 90% / green 10%",
                      "[web] failed: deployment failed: alarm in ALARM: web-5xx",
                      "[web] rolled-back: rolled back: production traffic is on blue"]
    assert {s["deployment"] for s in sent.sent} == {"web-1"}
    assert {s["to"] for s in sent.sent} == {"SNS topic t", "EventBridge bus default", "webhook hooks.example.com"}


def test_a_failed_delivery_is_a_warning_event_and_the_others_still_go():
    aws, posted = FakeAws(fail=True), []
    _, events = notifier({"sns_topic": "arn:aws:sns:us-east-1:123456789012:t", "webhook": "http://127.0.0.1:9/x"},
                         aws, posted)

    a_run(events)

    warnings = [e["message"] for e in events.history if e["event"] == "notify.warning"]
    assert len(warnings) == 4
    assert warnings[0] == ("warning: the started notification to SNS topic t was not delivered: "
                           "AuthorizationError: not allowed")
    assert len(posted) == 4


def test_only_the_chosen_moments_are_sent():
    aws, posted = FakeAws(), []
    _, events = notifier({"webhook": "http://127.0.0.1:9/x", "events": ["failed"]}, aws, posted)

    a_run(events)

    assert posted == ["[web] failed: deployment failed: alarm in ALARM: web-5xx"]
