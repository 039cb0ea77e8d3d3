"""Notifications through the CLI on the realistic emulator: SNS (read back through a subscribed SQS
queue), EventBridge (a rule sending to SQS) and a loopback webhook get every moment in order, and a
dead webhook never fails a deployment."""

from __future__ import annotations

import http.server
import json
import threading

import pytest

from bluegreen.adapters.aws.session import Aws
from bluegreen.cli.main import main
from bluegreen.local.seed import put_image, seed
from bluegreen.specfiles.loader import load_spec

from deploy_helpers import REALISTIC, listener_weights, write_spec


class _Collect(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append({"content_type": self.headers.get("Content-Type"), **json.loads(body)})
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    """A Slack-like incoming webhook on 127.0.0.1; yields (url, the JSON bodies received)."""
    handler = type("Collect", (_Collect,), {"received": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/secret-path", handler.received
    server.shutdown()


def dead_url() -> str:
    """A loopback port nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/hook"


def queue_on_topic(aws) -> tuple[str, str]:
    sns, sqs = aws.client("sns"), aws.client("sqs")
    topic = sns.create_topic(Name="deployments")["TopicArn"]
    queue = sqs.create_queue(QueueName="deployments")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    return topic, queue


def queue_on_bus(aws) -> str:
    events, sqs = aws.client("events"), aws.client("sqs")
    queue = sqs.create_queue(QueueName="bus-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="bluegreen", EventPattern=json.dumps({"source": ["bluegreen"]}))
    events.put_targets(Rule="bluegreen", Targets=[{"Id": "q", "Arn": queue_arn}])
    return queue


def drain(aws, queue: str) -> list[dict]:
    sqs, out = aws.client("sqs"), []
    while True:
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return out
        out += [json.loads(m["Body"]) for m in got]
        sqs.delete_message_batch(QueueUrl=queue, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                          for i, m in enumerate(got)])


def seeded_web(aws, workdir, notifications, **overrides):
    path = write_spec(workdir, "web", timings=REALISTIC, notifications=notifications,
                      shift={"mode": "canary", "percentages": [50, 100]}, **overrides)
    spec = load_spec(path).spec
    session = Aws(spec.region, endpoint_url=aws.endpoint_url)
    seed(session, spec, deregistration_delay=5)
    put_image(session, spec.image.repository, "v2")
    return path, spec


def test_sns_eventbridge_and_the_webhook_get_every_moment_of_a_deploy_in_order(
        realistic_aws, workdir, product_on_virtual_clock, webhook, capsys):
    topic, queue = queue_on_topic(realistic_aws)
    bus_queue = queue_on_bus(realistic_aws)
    url, received = webhook
    path, _ = seeded_web(realistic_aws, workdir, {"sns_topic": topic, "event_bus": "default", "webhook": url})

    assert main(["deploy", str(path), "--image-tag", "v2"]) == 0

    moments = ["started", "traffic-moved", "traffic-moved", "succeeded"]
    sns = drain(realistic_aws, queue)
    assert [m["event"] for m in sns] == moments
    assert {m["service"] for m in sns} == {"web"} and len({m["deployment"] for m in sns}) == 1
    assert "web-blue 50% / web-green 50%" in sns[1]["message"]
    assert [e["detail"]["event"] for e in drain(realistic_aws, bus_queue)] == moments
    assert [w["text"].split(":", 1)[0] for w in received] == [f"[web] {m}" for m in moments]
    assert {w["content_type"] for w in received} == {"application/json"}
    out = capsys.readouterr().out
    assert "secret-path" not in out and "warning" not in out


def test_a_dead_webhook_is_a_warning_and_the_failed_deploy_still_reports_its_rollback_in_order(
        realistic_aws, workdir, product_on_virtual_clock, capsys):
    topic, queue = queue_on_topic(realistic_aws)
    path, spec = seeded_web(realistic_aws, workdir, {"sns_topic": topic, "webhook": dead_url()})
    cloudwatch = realistic_aws.client("cloudwatch")
    fired = []

    def fire_on_first_bake(record):  # an alarm fires as the first bake starts: the deploy rolls back
        if record["event"] == "step.started" and record.get("step", "").startswith("bake") and not fired:
            cloudwatch.set_alarm_state(AlarmName=spec.health.alarms[0], StateValue="ALARM", StateReason="test")
            fired.append(True)

    from bluegreen.events import Events

    original = Events.__post_init__

    def with_alarm(self):
        original(self)
        self.listeners.append(fire_on_first_bake)

    Events.__post_init__ = with_alarm
    try:
        assert main(["deploy", str(path), "--image-tag", "v2"]) == 1
    finally:
        Events.__post_init__ = original

    assert [m["event"] for m in drain(realistic_aws, queue)] == ["started", "traffic-moved", "failed", "rolled-back"]
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if "notification to webhook 127.0.0.1:" in line]
    assert len(warnings) == 4 and all("was not delivered" in w for w in warnings)
    assert listener_weights(realistic_aws.client("elbv2"), "web-alb", 80) == {"web-blue": 100, "web-green": 0}


def test_a_pause_is_notified_and_only_the_chosen_moments_are_sent(
        realistic_aws, workdir, product_on_virtual_clock, webhook):
    url, received = webhook
    path, _ = seeded_web(realistic_aws, workdir, {"webhook": url, "events": ["paused", "succeeded"]})

    assert main(["deploy", str(path), "--image-tag", "v2", "--pause-before-shift"]) == 0
    assert main(["promote", "web"]) == 0

    assert [w["text"].split(":", 1)[0] for w in received] == ["[web] paused", "[web] succeeded"]
