"""Notifications: a deployment's moments (started, traffic moved, paused, succeeded, failed, rolled
back) sent to an SNS topic, an EventBridge bus and a webhook (Slack-compatible `{"text": ...}`).

The notifier listens to the run's events and maps them to moments; it sends each one in order,
synchronously, to every destination. A delivery that fails never fails the deployment: it is
reported as a `notify.warning` event. The webhook's URL is shown by its host only (a Slack
webhook's path is its secret).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import urlsplit

from bluegreen.domain.spec import Notifications, NotifyOn
from bluegreen.events import Events

# Steps whose success moves production traffic (see planning.hooks.is_traffic_move).
_MOVES = {"set-weights", "set-record-weights", "attach", "update-service", "update-group"}

_BY_EVENT = {"deploy.started": NotifyOn.STARTED, "deploy.paused": NotifyOn.PAUSED,
             "deploy.succeeded": NotifyOn.SUCCEEDED, "deploy.failed": NotifyOn.FAILED,
             "deploy.rollback-failed": NotifyOn.FAILED, "deploy.rolled-back": NotifyOn.ROLLED_BACK}


def webhook_host(url: str) -> str:
    return urlsplit(url).netloc.rsplit("@", 1)[-1] or "the webhook"


def post_json(url: str, body: dict[str, Any], timeout: float) -> None:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "User-Agent": "bluegreen"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - the spec's URL
            answer.read(1024)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        raise RuntimeError(str(getattr(error, "reason", error))) from None


@dataclass
class Notifier:
    spec: Notifications
    events: Events
    aws: Callable[[], Any]  # () -> adapters.aws.notify.AwsNotify, made on the first delivery
    post: Callable[[str, dict[str, Any], float], None] = post_json
    sent: list[dict[str, Any]] = field(default_factory=list)  # what was delivered, for the record
    _moves: dict[str, str] = field(default_factory=dict)  # step id -> its description, while running
    _deployment: str | None = None

    def attach(self) -> "Notifier":
        self.events.listeners.append(self.listen)
        return self

    def listen(self, record: dict[str, Any]) -> None:
        event = record.get("event", "")
        if event == "deploy.started":
            self._deployment = record.get("deployment_id")
        if event == "step.started" and record.get("phase") == "shift" and record.get("step_kind") in _MOVES:
            self._moves[record["step"]] = record.get("message", "")
            return
        if event == "step.succeeded" and record.get("step") in self._moves:
            moved = self._moves.pop(record["step"]).split("] ", 1)[-1]
            self.send(NotifyOn.TRAFFIC_MOVED, f"traffic moved: {moved}")
            return
        moment = _BY_EVENT.get(event)
        if moment is not None:
            self.send(moment, record.get("message", ""))

    def send(self, moment: NotifyOn, message: str) -> None:
        if moment not in self.spec.events:
            return
        service = self.events.service or ""
        body = {"source": "bluegreen", "service": service, "deployment": self._deployment, "event": moment.value,
                "message": message}
        for where, deliver in self._destinations(service, moment, body):
            try:
                deliver()
            except Exception as error:  # noqa: BLE001 - a notification never fails a deployment
                self.events.emit("notify.warning", f"warning: the {moment.value} notification to {where} was not "
                                 f"delivered: {error}", moment=moment.value)
            else:
                self.sent.append({"to": where, **body})

    def _destinations(self, service: str, moment: NotifyOn, body: dict[str, Any]) -> list[tuple[str, Callable[[], None]]]:
        spec, out = self.spec, []
        if spec.sns_topic:
            out.append((f"SNS topic {spec.sns_topic.rsplit(':', 1)[-1]}",
                        lambda: self.aws().publish(spec.sns_topic, f"bluegreen {service}: {moment.value}", body)))
        if spec.event_bus:
            out.append((f"EventBridge bus {spec.event_bus.rsplit('/', 1)[-1]}",
                        lambda: self.aws().put_event(spec.event_bus, f"bluegreen deployment {moment.value}", body)))
        if spec.webhook:
            text = {"text": f"[{service}] {moment.value}: {body['message']}"}
            out.append((f"webhook {webhook_host(spec.webhook)}",
                        lambda: self.post(spec.webhook, text, spec.webhook_timeout)))  # type: ignore[arg-type]
        return out
